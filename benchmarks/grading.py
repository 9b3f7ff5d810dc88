"""Grade the same 40 submissions with plain serial `nbgrader autograde` and with parallel
`kefu grade`, in one run; print both times, the speed-up and seconds per submission, and
check both gradebooks hold identical scores. Figures only: no timing asserts.

    .venv/bin/python benchmarks/grading.py [ASSIGNMENT] [--n 40]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_grading import gradebook_rows, new_course  # noqa: E402

from toolkit.grading import cohort  # noqa: E402


def timed(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?", default="02_questions")
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    kinds = (["perfect", "partial", "blank", "partial"] * args.n)[: args.n]
    with tempfile.TemporaryDirectory() as tmp:
        serial, parallel = new_course(Path(tmp), "serial"), new_course(Path(tmp), "parallel")
        for course in (serial, parallel):
            cohort.write_cohort(course, args.assignment, kinds, seed=1)
        timed(["nbgrader", "generate_assignment", args.assignment, "--force"], serial)
        t_serial = timed(["nbgrader", "autograde", args.assignment, "--create", "--force"], serial)
        t_parallel = timed([sys.executable, "-m", "toolkit.cli", "grade", args.assignment, "--quiet"], parallel)
        same = gradebook_rows(serial, args.assignment) == gradebook_rows(parallel, args.assignment)
    print(f"{args.n} submissions of {args.assignment} on {os.cpu_count()} cores")
    print(f"  nbgrader autograde (serial): {t_serial:6.1f} s  ({t_serial / args.n:.2f} s per submission)")
    print(f"  kefu grade (parallel):       {t_parallel:6.1f} s  ({t_parallel / args.n:.2f} s per submission)")
    print(f"  speed-up: {t_serial / t_parallel:.2f}x (goal >= 1.8x on 2 cores); identical gradebooks: {same}")


if __name__ == "__main__":
    main()
