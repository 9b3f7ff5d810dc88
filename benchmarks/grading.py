"""Grade the same 40 submissions three ways in one run: plain serial `nbgrader autograde` with a
kernel per submission, `kefu grade` on the kernel path (KEFU_EXECUTOR=kernel), and `kefu grade`
with the in-process executor; print the wall and CPU times, the ratios and seconds per submission,
and check all three gradebooks hold identical rows. With --big N, then N submissions of the same
assignment with the in-process executor. Figures only: no timing asserts.

Every course has its gradebook made by `nbgrader generate_assignment` before the clock starts, so
each timed command is the grading alone (start-up of its process included). The load average is
printed before and after: the machine is shared, so compare the ratios of one run.

    .venv/bin/python benchmarks/grading.py [ASSIGNMENT] [--n 40] [--big 1000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_grading import gradebook_rows, new_course  # noqa: E402

from toolkit.grading import cohort  # noqa: E402


def timed(cmd: list[str], cwd: Path, **extra_env) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and everything it started)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra_env}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def line(label: str, wall: float, cpu: float, n: int, baseline: float | None = None, goal: str = "") -> str:
    text = f"  {label:<37} {wall:6.1f} s wall ({wall / n:.3f} s per submission), {cpu:6.1f} CPU-s ({cpu / n:.3f} per submission)"
    if baseline is not None:
        text += f"  {baseline / wall:5.1f}x{goal}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?", default="02_questions")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--big", type=int, default=0, help="also grade this many submissions in-process (e.g. 1000)")
    args = parser.parse_args()
    kinds = (["perfect", "partial", "blank", "partial"] * args.n)[: args.n]
    kefu = [sys.executable, "-m", "toolkit.cli", "grade", args.assignment, "--quiet"]
    generate = ["nbgrader", "generate_assignment", args.assignment, "--force"]
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        courses = {name: new_course(Path(tmp), name) for name in ("serial", "kernel", "engine")}
        for course in courses.values():
            cohort.write_cohort(course, args.assignment, kinds, seed=1)
            timed(generate, course)
        print(f"{n} submissions of {args.assignment} on {os.cpu_count()} cores ({load()})", flush=True)
        serial = timed(["nbgrader", "autograde", args.assignment, "--create", "--force"], courses["serial"],
                       KEFU_EXECUTOR="kernel")
        print(line("nbgrader autograde (serial, kernel):", *serial, n), flush=True)
        kernel = timed(kefu, courses["kernel"], KEFU_EXECUTOR="kernel")
        print(line("kefu grade, kernel path:", *kernel, n, serial[0]), flush=True)
        engine = timed(kefu, courses["engine"])
        print(line("kefu grade, in-process executor:", *engine, n, serial[0], " (goal >= 10x)"), flush=True)
        rows = {name: gradebook_rows(course, args.assignment) for name, course in courses.items()}
        print(f"  identical gradebooks (all three): {rows['serial'] == rows['kernel'] == rows['engine']}"
              f" ({len(rows['serial'])} rows each; {load()})", flush=True)
        for name in ("kernel", "engine"):  # name what differs, so a mismatch can be looked into
            differ = sorted(key for key in rows["serial"].keys() | rows[name].keys()
                            if rows["serial"].get(key) != rows[name].get(key))
            for key in differ[:5]:
                print(f"    {name} differs at {key}: serial {rows['serial'].get(key)!r}, {name} {rows[name].get(key)!r}")
        if args.big:
            big = new_course(Path(tmp), "big")
            cohort.write_cohort(big, args.assignment, (kinds * (args.big // len(kinds) + 1))[: args.big], seed=2)
            timed(generate, big)
            print(f"{args.big} submissions of {args.assignment}, in-process executor ({load()})", flush=True)
            wall, cpu = timed(kefu, big)
            print(line("kefu grade:", wall, cpu, args.big) + " (goal <= 60 s)")
            graded = gradebook_rows(big, args.assignment)
            print(f"  submissions in the gradebook: {len({key[0] for key in graded})} ({load()})")


if __name__ == "__main__":
    main()
