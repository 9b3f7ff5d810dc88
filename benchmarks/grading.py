"""Grade the same 40 submissions three ways in one run: plain serial `nbgrader autograde` with a
kernel per submission, `kefu grade` on the kernel path (KEFU_EXECUTOR=kernel), and `kefu grade`
with the in-process executor; print the times, the ratios and seconds per submission, and check
all three gradebooks hold identical rows. Then 1,000 submissions of one assignment with the
in-process executor. Figures only: no timing asserts.

    .venv/bin/python benchmarks/grading.py [ASSIGNMENT] [--n 40] [--big 1000]
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


def timed(cmd: list[str], cwd: Path, **extra_env) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra_env}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?", default="02_questions")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--big", type=int, default=1000, help="submissions for the in-process run (0: skip)")
    args = parser.parse_args()
    kinds = (["perfect", "partial", "blank", "partial"] * args.n)[: args.n]
    kefu = [sys.executable, "-m", "toolkit.cli", "grade", args.assignment, "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        courses = {name: new_course(Path(tmp), name) for name in ("serial", "kernel", "engine")}
        for course in courses.values():
            cohort.write_cohort(course, args.assignment, kinds, seed=1)
        timed(["nbgrader", "generate_assignment", args.assignment, "--force"], courses["serial"])
        t_serial = timed(["nbgrader", "autograde", args.assignment, "--create", "--force"], courses["serial"],
                         KEFU_EXECUTOR="kernel")
        t_kernel = timed(kefu, courses["kernel"], KEFU_EXECUTOR="kernel")
        t_engine = timed(kefu, courses["engine"])
        rows = {name: gradebook_rows(course, args.assignment) for name, course in courses.items()}
        same = rows["serial"] == rows["kernel"] == rows["engine"]
        if args.big:
            big = new_course(Path(tmp), "big")
            cohort.write_cohort(big, args.assignment, (kinds * (args.big // len(kinds) + 1))[: args.big], seed=2)
            t_big = timed(kefu, big)
    n = args.n
    print(f"{n} submissions of {args.assignment} on {os.cpu_count()} cores")
    print(f"  nbgrader autograde (serial, kernel): {t_serial:6.1f} s  ({t_serial / n:.3f} s per submission)")
    print(f"  kefu grade, kernel path:             {t_kernel:6.1f} s  ({t_kernel / n:.3f} s per submission)"
          f"  {t_serial / t_kernel:5.1f}x")
    print(f"  kefu grade, in-process executor:     {t_engine:6.1f} s  ({t_engine / n:.3f} s per submission)"
          f"  {t_serial / t_engine:5.1f}x (goal >= 10x)")
    print(f"  identical gradebooks (all three): {same}")
    if args.big:
        print(f"{args.big} submissions, in-process executor: {t_big:6.1f} s  ({t_big / args.big:.3f} s per "
              f"submission; goal <= 60 s)")


if __name__ == "__main__":
    main()
