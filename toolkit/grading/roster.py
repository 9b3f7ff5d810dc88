"""``kefu roster FILE``: import trainees from a CSV or Excel sheet into the nbgrader gradebook.

The sheet has a header row; English or Chinese headers are accepted (case, spaces, ``_`` and
``-`` ignored), other columns are ignored:

====================  ===============================================  ========
role                  accepted headers                                 required
====================  ===============================================  ========
id (nbgrader student  学号, 工号, 编号, 账号, 用户名, id, student id,      yes
id = login name)      student_id, username, login
full name             姓名, 名字, 全名, name, full name                     no
surname / given name  姓 / 名, last name / first name, surname / given     no
email                 邮箱, 电子邮箱, 电子邮件, email, e-mail, mail           no
====================  ===============================================  ========

Names. nbgrader keeps ``last_name`` and ``first_name``. A Chinese full name of two to four Han
characters is split into surname (``last_name``: the first character, or a two-character
compound surname such as 欧阳 or 司马 when the name is longer than two characters) and given
name (``first_name``: the rest); spaces inside it (王　芳) are dropped. Any other name — Latin
letters, a middle dot (阿依古丽·买买提), one character or more than four — is kept whole in
``last_name`` with no ``first_name``, because its order cannot be guessed. Separate 姓/名
columns are used as they are.

Every row is checked before anything is written: a missing or malformed id, an id used twice,
or an invalid email stops the import with every bad row named (spreadsheet row numbers, the
header being row 1). Existing trainees are updated (names always when the sheet has a name
column, email only when the cell is filled); their grades are untouched.

CSV files may be UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8"); a file saved as
plain "CSV" by a Chinese Excel (GB18030/GBK) is read too.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .course import Course

_HEADERS = {
    "id": ("学号", "工号", "编号", "账号", "帐号", "用户名", "id", "studentid", "username", "login", "user"),
    "name": ("姓名", "名字", "全名", "name", "fullname"),
    "last_name": ("姓", "姓氏", "lastname", "surname", "familyname"),
    "first_name": ("名", "firstname", "givenname"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "mail"),
}

# Two-character surnames common enough to meet in a class list.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 夏侯 轩辕 端木 澹台 独孤 南宫 闻人 申屠 "
    "西门 万俟 呼延 司徒 司空 百里 东郭 钟离 太史 左丘 公冶 濮阳 淳于 赫连 拓跋 谷梁 第五 歐陽 司馬 諸葛 "
    "皇甫 尉遲 長孫 夏侯 軒轅 端木 獨孤 南宮 聞人 鍾離".split()
)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+")
_BAD_ID = re.compile(r"[\s+*/\\:]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RosterError(ValueError):
    """The roster file cannot be imported; the message names every bad row."""


@dataclass(frozen=True)
class Trainee:
    row: int
    id: str
    last_name: str | None
    first_name: str | None
    email: str | None


@dataclass(frozen=True)
class RosterResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def split_name(name: str) -> tuple[str | None, str | None]:
    """(last_name, first_name) for a full name, by the rule in the module docstring."""
    name = unicodedata.normalize("NFC", name).strip()
    compact = re.sub(r"\s+", "", name)  # includes the ideographic space U+3000
    if _HAN.fullmatch(compact) and 2 <= len(compact) <= 4:
        surname_len = 2 if len(compact) > 2 and compact[:2] in COMPOUND_SURNAMES else 1
        return compact[:surname_len], compact[surname_len:]
    return (name or None), None


def _key(header) -> str:
    return re.sub(r"[\s_\-]+", "", str(header).replace("\ufeff", "")).lower()


def _columns(headers: list) -> dict[str, str]:
    lookup = {_key(h): role for role, names in _HEADERS.items() for h in names}
    found: dict[str, list[str]] = {}
    for header in headers:
        role = lookup.get(_key(header))
        if role:
            found.setdefault(role, []).append(str(header))
    twice = [f"{role}: {', '.join(cols)}" for role, cols in found.items() if len(cols) > 1]
    if twice:
        raise RosterError("several columns give the same field (" + "; ".join(twice) + ")")
    if "id" not in found:
        raise RosterError("no id column: expected a header such as 学号 or id; the file has "
                          + ", ".join(repr(str(h)) for h in headers))
    return {role: cols[0] for role, cols in found.items()}


def read_table(path: Path | str, sheet: str | None = None):
    """The sheet as a pandas DataFrame of strings ("" for empty cells), header row included as columns."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise RosterError(f"no such file: {path}")
    if suffix in (".xlsx", ".xlsm"):
        return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=str, keep_default_na=False)
    if suffix in (".csv", ".txt", ".tsv"):
        options = dict(dtype=str, keep_default_na=False, skip_blank_lines=False, sep="\t" if suffix == ".tsv" else ",")
        try:
            return pd.read_csv(path, encoding="utf-8-sig", **options)
        except UnicodeDecodeError:
            return pd.read_csv(path, encoding="gb18030", **options)
    raise RosterError(f"{path.name}: use a .csv or .xlsx file (an old .xls: save it as .xlsx first)")


def _cell(row, column: str | None) -> str:
    if column is None:
        return ""
    value = row[column]
    value = "" if value is None else str(value)
    value = unicodedata.normalize("NFC", value).strip()
    return value[:-2] if re.fullmatch(r"\d+\.0", value) else value  # Excel numbers: 2024001.0


def parse_roster(path: Path | str, sheet: str | None = None) -> list[Trainee]:
    """Every trainee of the file, validated; RosterError naming all bad rows otherwise."""
    return _parse(path, sheet)[0]


def _parse(path: Path | str, sheet: str | None) -> tuple[list[Trainee], dict[str, str]]:
    table = read_table(path, sheet)
    columns = _columns(list(table.columns))
    trainees: list[Trainee] = []
    problems: list[str] = []
    first_row: dict[str, int] = {}
    for index, row in enumerate(table.itertuples(index=False), start=2):
        row = dict(zip(table.columns, row))
        if not any(str(v).strip() for v in row.values() if v is not None):
            continue  # blank line
        student = _cell(row, columns["id"])
        if not student:
            problems.append(f"row {index}: missing id ({columns['id']})")
            continue
        if _BAD_ID.search(student):
            problems.append(f"row {index}: id {student!r} contains a space or one of + * / \\ : "
                            "(it must be the trainee's login name)")
            continue
        if student in first_row:
            problems.append(f"row {index}: duplicate id {student!r} (already on row {first_row[student]})")
            continue
        first_row[student] = index
        email = _cell(row, columns.get("email"))
        if email and not _EMAIL.match(email):
            problems.append(f"row {index}: {email!r} is not an email address")
            continue
        if "last_name" in columns or "first_name" in columns:
            last, first = _cell(row, columns.get("last_name")) or None, _cell(row, columns.get("first_name")) or None
        elif "name" in columns:
            last, first = split_name(_cell(row, columns["name"]))
        else:
            last = first = None
        trainees.append(Trainee(index, student, last, first, email or None))
    if problems:
        shown = problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise RosterError(f"{Path(path).name}: nothing imported, fix these rows first:\n  " + "\n  ".join(shown))
    if not trainees:
        raise RosterError(f"{Path(path).name}: no trainees in the file")
    return trainees, columns


def import_roster(course: Course, path: Path | str, sheet: str | None = None) -> RosterResult:
    """Upsert every trainee of a CSV/Excel roster into the course gradebook; counts of what changed."""
    from nbgrader.api import Gradebook, MissingEntry

    trainees, columns = _parse(path, sheet)  # validates everything before the first write
    has_names = bool({"name", "last_name", "first_name"} & set(columns))
    created = updated = unchanged = 0
    with Gradebook(course.db_url, course.course_id) as gb:
        for t in trainees:
            fields = {}
            if has_names:
                fields.update(last_name=t.last_name, first_name=t.first_name)
            if t.email:
                fields["email"] = t.email
            try:
                existing = gb.find_student(t.id)
            except MissingEntry:
                gb.update_or_create_student(t.id, **fields)
                created += 1
                continue
            if all(getattr(existing, k) == v for k, v in fields.items()):
                unchanged += 1
            else:
                gb.update_or_create_student(t.id, **fields)
                updated += 1
    return RosterResult(created, updated, unchanged)


def roster_command(args: argparse.Namespace) -> int:
    """``kefu roster FILE [--sheet NAME] [--root DIR]``."""
    try:
        result = import_roster(Course(args.root), args.file, sheet=args.sheet)
    except RosterError as exc:
        print(f"roster: {exc}", file=sys.stderr)
        return 1
    print(f"roster: {result.total} trainees in {args.file}: {result.created} added, {result.updated} updated, "
          f"{result.unchanged} unchanged")
    return 0
