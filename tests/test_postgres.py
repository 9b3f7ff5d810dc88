"""The gradebook on a real PostgreSQL server (127.0.0.1), filled by a parallel `kefu grade`."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess

import pytest
from test_grading import (
    ASSIGNMENTS,
    KEFU,
    autograded_totals,
    gradebook_rows,
    new_course,
    run,
)

from toolkit.grading import cohort

INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    if not INITDB:
        pytest.skip("PostgreSQL is not installed (scripts/system-deps.sh installs Debian's postgresql as root)")
    bin_dir = os.path.dirname(INITDB[-1])
    data = tmp_path_factory.mktemp("pg") / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use Debian's postgres account
        shutil.chown(data.parent, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(as_user + [f"{bin_dir}/initdb", "-D", str(data), "-U", "kefu", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run(as_user + [f"{bin_dir}/pg_ctl", "-D", str(data), "-w", "-l", str(data.parent / "log"),
                              "-o", f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        subprocess.run(as_user + [f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "kefu", "gradebook"],
                       check=True, capture_output=True)
        yield f"postgresql://kefu@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(as_user + [f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "fast", "stop"], capture_output=True)


def test_parallel_grading_into_postgres(tmp_path, postgres_url):
    assignment = ASSIGNMENTS[0]
    course = new_course(tmp_path)
    kinds = ["perfect", "partial", "partial", "blank", "perfect", "monkeypatch", "infinite-loop", "wrong-types"]
    expected = {s.student: s.expected for s in cohort.write_cohort(course, assignment, kinds, seed=11)}
    result = run(KEFU + ["grade", assignment, "--workers", "2", "--quiet"], course, KEFU_DB_URL=postgres_url)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert not (course / "gradebook.db").exists()  # everything went to PostgreSQL
    assert autograded_totals(course, assignment, postgres_url) == pytest.approx(expected)
    rows = gradebook_rows(course, assignment, postgres_url)
    auto_cells = [v for k, v in rows.items() if len(k) == 2 and v[0] is not None]
    assert len(auto_cells) >= len(kinds) * len(cohort.questions(
        __import__("nbformat").read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)))
