"""nbgrader configuration for the kefu-lab course (instructor side).

The course root is this folder: source/ (instructor versions), release/ (student versions,
generated and committed), submitted/, autograded/, feedback/ (per trainee, gitignored).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader/traitlets

ROOT = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "kefu-lab"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# SQLite in the course folder by default; set KEFU_DB_URL (e.g. postgresql://...) for several
# instructors or JupyterHub. The database file is gitignored.
c.CourseDirectory.db_url = os.environ.get("KEFU_DB_URL", f"sqlite:///{ROOT / 'gradebook.db'}")
# A missing (with graded work), empty or corrupt gradebook stops every nbgrader command here, with
# the latest backup named, instead of being recreated empty (toolkit/grading/backup.py).
from toolkit.grading.backup import guard  # noqa: E402

guard(ROOT, c.CourseDirectory.db_url)
# Never copy trainee-supplied Python files next to the notebook: they could shadow `toolkit`.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py", "*.pth", "toolkit", "*.so",
]

# Autograding: answers are Chinese sentences, so a cell never needs long. The kefu sanitiser
# (toolkit.grading.sanitize) removes trainee code before execution; these are backstops.
# A trainee who deletes a test or answer cell gets it back (blank answer), not a crash.
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = int(os.environ.get("KEFU_CELL_TIMEOUT", "15"))
c.Execute.interrupt_on_timeout = True
c.InProcessExecute.timeout = c.Execute.timeout  # the same per-cell limit without a kernel
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
# Answer cells hold only the trainee's words (`### BEGIN SOLUTION` / model answer / `### END
# SOLUTION` in source/): the release shows an empty cell, and the answer is never run as code
# (toolkit/exercise/answers.py, toolkit/grading/sanitize.py).
c.ClearSolutions.code_stub = {"python": ""}
c.ClearSolutions.text_stub = "在这里写下你的回答。"
# Trainee answers longer than this are cut at autograde (and the summary says so): a reply is a
# sentence or a paragraph, and a huge one must not slow grading down.
c.StripTraineeCode.max_answer_chars = 20_000

# The exchange: $KEFU_EXCHANGE_ROOT (the hub sets it), else the course's own exchange/ folder once
# scripts/start.sh has made it (one machine: trainees fetch and submit there, `nbgrader collect`
# reads it). Neither: nbgrader's default, or what a Jupyter config folder says.
if os.environ.get("KEFU_EXCHANGE_ROOT", "").strip():
    c.Exchange.root = os.environ["KEFU_EXCHANGE_ROOT"].strip()
elif (ROOT / "exchange").is_dir():
    c.Exchange.root = str(ROOT / "exchange")

# Collect refuses a submission filed under another trainee's name (toolkit/grading/exchange.py).
c.ExchangeFactory.collect = "toolkit.grading.exchange.OwnerCheckedCollect"

# Late submissions: 10 % of the score per started day late, at most 100 % (toolkit/grading/exchange.py).
c.AssignLatePenalties.plugin_class = "toolkit.grading.exchange.DailyLatePenalty"
c.DailyLatePenalty.percent_per_day = 10
c.DailyLatePenalty.max_percent = 100

from toolkit.grading.nbgrader_hooks import configure  # noqa: E402

configure(c)
