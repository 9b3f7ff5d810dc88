"""`kefu` — the instructors' command line (English output).

Subcommands import their module only when run, so `kefu check-data` stays fast.
"""

from __future__ import annotations

import argparse
import sys


def _check_data(args: argparse.Namespace) -> int:
    from . import kb

    try:
        data = kb.load_all()
    except kb.KnowledgeBaseError as exc:
        print(f"knowledge base invalid: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(
        f"{name}: " + "/".join(f"{len(v)} {k}" for k, v in d.items() if isinstance(v, tuple))
        for name, d in data.items() if name != "cues"
    )
    print(f"[check-data] knowledge base OK ({counts})")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from .grading.course import Course
    from .grading.parallel import grade, summary_table

    outcomes = grade(Course(args.root), args.assignment, workers=args.workers, progress=not args.quiet,
                     timeout=args.timeout)
    print(summary_table(outcomes))
    return 0


def _feedback(args: argparse.Namespace) -> int:
    from .grading.course import Course
    from .grading.feedback import generate

    pages = generate(Course(args.root), args.assignment)
    print(f"feedback written for {len(pages)} trainees under feedback/*/{args.assignment}/ (hidden tests removed)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .grading.course import Course
    from .grading.export import export, grade_table

    course = Course(args.root)
    table = grade_table(course)
    if table.empty:
        print("no grades in the gradebook yet: run `kefu grade ASSIGNMENT` first", file=sys.stderr)
        return 1
    files = export(course, Path(args.out) if args.out else course.root / "exports")
    print(table.to_string(index=False))
    print("written: " + ", ".join(map(str, files)))
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .grading.course import Course
    from .grading.report import render

    course = Course(args.root)
    page = render(course, args.assignment, Path(args.out) if args.out else course.root / "reports" / f"{args.assignment}.html")
    print(f"report written: {page}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .grading.course import Course
    from .grading.demo import run

    repo = Course(args.root)
    folder = Path(args.dir) if args.dir else repo.root / "demo"
    return run(repo, folder.resolve(), args.assignments.split(",") if args.assignments else None, args.workers)


def _release_week(args: argparse.Namespace) -> int:
    from .grading.exchange import release_week_command

    return release_week_command(args)


def _roster(args: argparse.Namespace) -> int:
    from .grading.roster import roster_command

    return roster_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu", description="kefu-lab instructor tools")
    sub = parser.add_subparsers(dest="command", required=True)
    # Every course command takes the course folder the same way.
    course = argparse.ArgumentParser(add_help=False)
    course.add_argument("--root", default=None, help="course folder (default: nearest with nbgrader_config.py)")

    def command(name: str, run, summary: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, parents=[course])
        p.set_defaults(run=run)
        return p

    sub.add_parser("check-data", help="validate every knowledge-base file").set_defaults(run=_check_data)

    p = command("grade", _grade, "autograde every submission of an assignment in parallel (nbgrader)")
    p.add_argument("assignment")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per submission before it is stopped and scored 0 (default 600, env KEFU_GRADE_TIMEOUT)")

    command("feedback", _feedback, "nbgrader generate_feedback for every trainee, hidden tests removed") \
        .add_argument("assignment")

    command("export", _export, "grades to CSV and Excel, one row per trainee") \
        .add_argument("--out", default=None, help="folder (default: exports/)")

    p = command("report", _report, "HTML report: distribution, difficulty, skill heat-map, weakest")
    p.add_argument("assignment")
    p.add_argument("--out", default=None, help="HTML file (default: reports/ASSIGNMENT.html)")

    p = command("release-week", _release_week,
                "generate, set due dates and release every assignment of week N (schedule.toml)")
    p.add_argument("week", type=int)
    p.add_argument("--exchange", default=None, help="exchange root (default: Exchange.root from the nbgrader config)")
    p.add_argument("--force", action="store_true", help="release again assignments already in the exchange")

    p = command("roster", _roster, "import trainees (学号, 姓名, 邮箱) from a CSV or Excel file into the gradebook")
    p.add_argument("file")
    p.add_argument("--sheet", default=None, help="Excel sheet name (default: the first sheet)")

    p = command("demo", _demo, "release, synthetic cohort, grade, feedback, export and report, end to end")
    p.add_argument("--dir", default=None, help="scratch course folder (default: ./demo)")
    p.add_argument("--assignments", default=None, help="comma-separated (default: all in source/)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: number of cores)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
