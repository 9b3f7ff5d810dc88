"""The README's first command: `bash scripts/start.sh` (trainee) and `--instructor` set up and serve
the course.

Runs the real script (as whatever user the suite runs as: root in CI) in a scratch copy of the
repository (tests/local_course.py) on a free port with a throwaway HOME and Jupyter dirs, reads
the URL and token it prints, and asks the server what a trainee or an instructor gets: the start
notebook, JupyterLab's defaults (Simplified Chinese, no news), and which nbgrader tools are on.
Always stops the server and its process group afterwards.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.parse

import pytest
from local_course import ROOT, copy_course, course_env, started

# every assignment in source/ is released on the first start
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "source").glob("*/*.ipynb"))

START_NOTEBOOK = "course/00_开始.ipynb"


def _status(lab, path: str) -> int:
    try:
        return lab.api(path)[0]
    except urllib.error.HTTPError as exc:
        return exc.code


def _lab_defaults(lab) -> dict:
    out = {}
    for plugin in ("@jupyterlab/translation-extension:plugin", "@jupyterlab/apputils-extension:notification"):
        _, model = lab.api(f"/lab/api/settings/{urllib.parse.quote(plugin)}")
        props = model["schema"]["properties"]
        out[plugin] = {k: v.get("default") for k, v in props.items()}
    return out


def _disabled_extensions(lab) -> set[str]:
    """disabledExtensions of the page config JupyterLab sends (labconfig/page_config.json)."""
    _, html = lab.api("/lab")
    data = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    disabled = json.loads(data.group(1)).get("disabledExtensions", [])
    return set(disabled if isinstance(disabled, list) else [k for k, v in disabled.items() if v])


@pytest.mark.slow
def test_trainee_start_serves_the_lessons_without_instructor_tools(tmp_path):
    with started(tmp_path) as lab:
        text = lab.log.read_text(errors="replace")
        assert f"[start] trainee start: JupyterLab on {lab.base}/lab" in text
        _, model = lab.api(f"/api/contents/{urllib.parse.quote(START_NOTEBOOK)}?content=0")
        assert model["type"] == "notebook" and model["path"] == START_NOTEBOOK
        # the trainee's own copy of the lessons, not the repository's
        assert (lab.served / START_NOTEBOOK).is_file() and lab.served != lab.course
        _, listing = lab.api("/api/contents?content=1")
        assert {e["name"] for e in listing["content"]} == {"course", "kefu-lab", "release"}  # no source/
        defaults = _lab_defaults(lab)
        assert defaults["@jupyterlab/translation-extension:plugin"]["locale"] == "zh_CN"
        assert defaults["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
        # nbgrader: the assignment list and validation, no formgrader, course list, create assignment
        assert _status(lab, "/assignments?course_id=kefu-lab") == 200
        assert _status(lab, "/formgrader") == 404
        assert _status(lab, "/assignments/validate") == 404  # no validate_assignment server extension
        disabled = _disabled_extensions(lab)
        # Validate is off too: it reports in English; 自检() is the trainee's self-check, in Chinese
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:validate-assignment"} <= disabled
        assert "@jupyter/nbgrader:assignment-list" not in disabled
        # kernels get the Chinese error messages (toolkit/trainee_errors.py)
        environ = open(f"/proc/{lab.proc.pid}/environ", "rb").read()
        assert b"PYTHONSTARTUP=" + str(lab.course / "hub/jupyter/trainee/kernel_startup.py").encode() in environ

    # a second start keeps the trainee's copies, adds missing lessons, re-releases nothing
    mine = lab.served / START_NOTEBOOK
    mine.write_text(mine.read_text(encoding="utf-8").replace("欢迎", "欢迎欢迎", 1), encoding="utf-8")
    gone = lab.served / "course" / "12_学习进度.ipynb"
    gone.unlink()
    with started(tmp_path, course=lab.course) as again:
        assert "欢迎欢迎" in mine.read_text(encoding="utf-8") and gone.is_file()
        assert f"all {len(ASSIGNMENTS)} assignments already released" in again.log.read_text(errors="replace")


@pytest.mark.slow
def test_instructor_start_has_the_formgrader(tmp_path):
    with started(tmp_path, "--instructor") as lab:
        text = lab.log.read_text(errors="replace")
        assert f"[start] instructor start: JupyterLab on {lab.base}/lab" in text
        _, model = lab.api(f"/api/contents/{urllib.parse.quote(START_NOTEBOOK)}?content=0")
        assert model["path"] == START_NOTEBOOK
        _, listing = lab.api("/api/contents?content=1")
        assert {"source", "release", "course", "exchange"} <= {e["name"] for e in listing["content"]}
        assert _status(lab, "/formgrader") == 200
        assert not {p for p in _disabled_extensions(lab) if p.startswith("@jupyter/nbgrader")}
        assert _lab_defaults(lab)["@jupyterlab/translation-extension:plugin"]["locale"] == "zh_CN"
        environ = open(f"/proc/{lab.proc.pid}/environ", "rb").read()
        assert b"PYTHONSTARTUP=" not in environ  # instructors see real tracebacks


def test_unknown_option_is_refused_in_one_line(tmp_path):
    course = copy_course(tmp_path / "course")
    done = subprocess.run(["bash", "scripts/start.sh", "--trainer"], cwd=course, env=course_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--instructor" in done.stderr and "Traceback" not in done.stderr
