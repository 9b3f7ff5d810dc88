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

Encodings. A CSV or text file may be UTF-8 with or without a byte-order mark (Excel's "CSV
UTF-8"), GBK/GB18030 (plain "CSV" from a Simplified-Chinese Excel), Big5 (Traditional Chinese)
or UTF-16 (Excel's "Unicode text", tab-separated). Byte-order marks and strict UTF-8 decide
first; otherwise charset-normalizer chooses among GB18030, Big5 and UTF-16. Any other encoding
is refused with the encoding it looks like, never read as garbage. Columns are separated by
commas, tabs or full-width commas (guessed from the header row). Headers are matched after
normalisation (Traditional -> Simplified, full-width -> half-width): 學號 is 学号.

Re-importing with a name column whose cell is blank for a trainee already stored with a name
keeps the stored name and says so: a blank cell never erases a name.
"""

from __future__ import annotations

import argparse
import codecs
import io
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
    kept_names: tuple[str, ...] = ()  # stored names kept because the sheet's name cell was blank
    encoding: str | None = None

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
    from ..normalize import normalize

    return re.sub(r"[\s_\-]+", "", normalize(str(header).replace("\ufeff", "")))


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


# Encodings a Chinese roster comes in; anything else is refused with its name.
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be"]
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of a roster file's bytes; RosterError naming the encoding if it is not one we read."""
    if not data.strip(b" \t\r\n\x00"):
        raise RosterError(f"{name} is empty: save the class list with a header row (学号、姓名、邮箱)")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise RosterError(f"{name}: starts with a {encoding} byte-order mark but is not valid {encoding} "
                                  f"(byte {exc.start})") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is not None and best.chaos < 0.3:
        encoding = {"gb18030": "gb18030", "big5": "big5"}.get(best.encoding, best.encoding)
        return str(best), encoding
    guess = from_bytes(data).best()
    looks = f"looks like {guess.encoding}" if guess is not None else "unknown encoding"
    raise RosterError(f"{name}: not UTF-8, GBK/GB18030, Big5 or UTF-16 text ({looks}): "
                      "save it as \"CSV UTF-8\" or .xlsx")


def _separator(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (",", "\t", "，", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_table(path: Path | str, sheet: str | None = None):
    """The sheet as a pandas DataFrame of strings ("" for empty cells), header row included as columns."""
    table, _ = _read(Path(path), sheet)
    return table


def _read(path: Path, sheet: str | None):
    import pandas as pd

    suffix = path.suffix.lower()
    if not path.is_file():
        raise RosterError(f"no such file: {path}")
    if suffix in (".xlsx", ".xlsm"):
        try:
            return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=str,
                                 keep_default_na=False), None
        except ValueError as exc:  # unknown sheet name
            raise RosterError(f"{path.name}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - openpyxl/zipfile raise many kinds for a damaged file
            raise RosterError(f"{path.name}: not a readable Excel file ({type(exc).__name__})") from None
    if suffix in (".csv", ".txt", ".tsv"):
        text, encoding = decode(path.read_bytes(), path.name)
        text = text.lstrip("\ufeff")
        try:
            table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False,
                                sep=_separator(text, suffix), engine="python")
        except pd.errors.EmptyDataError:
            raise RosterError(f"{path.name}: no header row") from None
        except pd.errors.ParserError as exc:
            raise RosterError(f"{path.name}: not a table ({str(exc).strip().splitlines()[-1]})") from None
        return table, encoding
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


def _parse(path: Path | str, sheet: str | None) -> tuple[list[Trainee], dict[str, str], str | None]:
    table, encoding = _read(Path(path), sheet)
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
    return trainees, columns, encoding


def import_roster(course: Course, path: Path | str, sheet: str | None = None) -> RosterResult:
    """Upsert every trainee of a CSV/Excel roster into the course gradebook; counts of what changed."""
    from nbgrader.api import Gradebook, MissingEntry

    trainees, columns, encoding = _parse(path, sheet)  # validates everything before the first write
    has_names = bool({"name", "last_name", "first_name"} & set(columns))
    created = updated = unchanged = 0
    kept: list[str] = []
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
            if has_names and t.last_name is None and t.first_name is None and (existing.last_name or existing.first_name):
                del fields["last_name"], fields["first_name"]  # a blank cell never erases a stored name
                kept.append(t.id)
            if all(getattr(existing, k) == v for k, v in fields.items()):
                unchanged += 1
            else:
                gb.update_or_create_student(t.id, **fields)
                updated += 1
    return RosterResult(created, updated, unchanged, tuple(kept), encoding)


def roster_command(args: argparse.Namespace) -> int:
    """``kefu roster FILE [--sheet NAME] [--root DIR]``."""
    try:
        result = import_roster(Course(args.root), args.file, sheet=args.sheet)
    except RosterError as exc:
        print(f"roster: {exc}", file=sys.stderr)
        return 1
    read_as = f" (read as {result.encoding})" if result.encoding and result.encoding not in ("utf-8", "utf-8-sig") else ""
    print(f"roster: {result.total} trainees in {args.file}{read_as}: {result.created} added, {result.updated} updated, "
          f"{result.unchanged} unchanged")
    if result.kept_names:
        shown = ", ".join(result.kept_names[:10]) + (f" and {len(result.kept_names) - 10} more" if len(result.kept_names) > 10 else "")
        print(f"roster: name cell blank for {len(result.kept_names)} trainees already named in the gradebook: "
              f"kept their stored names ({shown})")
    return 0
