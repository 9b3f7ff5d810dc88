"""The gradebook on a real PostgreSQL server (127.0.0.1), filled by a parallel `kefu grade`."""

from __future__ import annotations

import nbformat
import pytest
from pgserver import INITDB, postgres_server
from test_grading import (
    ASSIGNMENTS,
    KEFU,
    autograded_totals,
    gradebook_rows,
    new_course,
    run,
)

from toolkit.grading import cohort


@pytest.fixture(scope="module")
def postgres_url():
    if not INITDB:
        pytest.skip("PostgreSQL is not installed (scripts/system-deps.sh installs Debian's postgresql as root)")
    with postgres_server() as url:
        yield url


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
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    assert len(auto_cells) >= len(kinds) * len(cohort.questions(source))
