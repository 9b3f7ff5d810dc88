"""`kefu` — the instructors' command line (English output).

Subcommands import their module only when run, so `kefu check-data` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


class CommandError(Exception):
    """A bad input the instructor can fix: printed as one line, exit status 1, no traceback."""


def _course(args: argparse.Namespace):
    """The course of ``--root`` (or the nearest one), its gradebook checked before anything opens it."""
    from .grading.backup import check
    from .grading.course import Course, find_root

    if args.root is not None:
        root = Path(args.root).expanduser()
        if not root.exists():
            raise CommandError(f"--root {args.root}: no such folder")
        if not root.is_dir():
            raise CommandError(f"--root {args.root}: not a folder")
        if not (root / "nbgrader_config.py").is_file():
            raise CommandError(f"--root {args.root}: no course here (no nbgrader_config.py in {root.resolve()})")
    else:
        root = find_root()
    try:
        course = Course(root)
    except Exception as exc:  # a broken nbgrader_config.py: traitlets raises many kinds
        raise CommandError(f"cannot load {Path(root).resolve() / 'nbgrader_config.py'}: {type(exc).__name__}: "
                           f"{_first_line(exc)}") from exc
    check(course.root, course.db_url)
    return course


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (argparse prints the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


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
    from .grading.backup import backup

    course = _course(args)
    if args.assignment not in course.assignments():
        raise CommandError(f"unknown assignment {args.assignment!r}: source/ has {', '.join(course.assignments()) or 'none'}")
    from .grading.parallel import grade, summary_table  # nbgrader: after the cheap checks
    _, note = backup(course.root, course.db_url)  # before the first write of this run
    print(note, file=sys.stderr)
    if args.watch:
        from .grading.watch import Watcher

        print(f"[watch] grading new submissions of {args.assignment} every {args.interval:g} s (Ctrl-C stops)",
              flush=True)
        try:
            Watcher(course, args.assignment, workers=args.workers).run(interval=args.interval, passes=args.passes)
        except KeyboardInterrupt:
            pass
        return 0
    outcomes = grade(course, args.assignment, workers=args.workers, progress=not args.quiet,
                     timeout=args.timeout)
    print(summary_table(outcomes))
    return 0


def _feedback(args: argparse.Namespace) -> int:
    course = _course(args)
    from .grading.feedback import generate

    pages = generate(course, args.assignment)
    print(f"feedback written for {len(pages)} trainees under feedback/*/{args.assignment}/ (hidden tests removed)")
    return 0


def _out_folder(option: str | None, default: Path) -> Path:
    out = Path(option).expanduser() if option else default
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {option}: is a file, not a folder")
    parent = next((p for p in (out, *out.parents) if p.exists()), None)
    if parent is not None and not os.access(parent, os.W_OK):
        raise CommandError(f"--out {option or out}: {parent} is not writable")
    return out


def _export(args: argparse.Namespace) -> int:
    course = _course(args)
    out = _out_folder(args.out, course.root / "exports")
    from .grading.export import export, grade_table  # pandas and nbgrader: after the cheap checks
    table = grade_table(course)
    if table.empty:
        print("no grades in the gradebook yet: run `kefu grade ASSIGNMENT` first", file=sys.stderr)
        return 1
    files = export(course, out)
    print(table.to_string(index=False))
    print("written: " + ", ".join(map(str, files)))
    return 0


def _report(args: argparse.Namespace) -> int:
    if bool(args.assignment) == bool(args.all):
        raise CommandError("give an ASSIGNMENT or --all (the course-wide page), not both")
    course = _course(args)
    name = "course" if args.all else args.assignment
    out = Path(args.out).expanduser() if args.out else course.root / "reports" / f"{name}.html"
    if out.is_dir():
        raise CommandError(f"--out {args.out}: is a folder, give the HTML file's path")
    from .grading.report import ReportError, render, render_course
    try:
        page = render_course(course, out) if args.all else render(course, args.assignment, out)
    except ReportError as exc:
        raise CommandError(str(exc)) from None
    print(f"report written: {page}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .grading.course import Course
    from .grading.demo import run

    repo = Course(args.root)
    folder = Path(args.dir) if args.dir else repo.root / "demo"
    return run(repo, folder.resolve(), args.assignments.split(",") if args.assignments else None, args.workers)


def _release_week(args: argparse.Namespace) -> int:
    from .grading.exchange import release_week_command

    _course(args)  # gradebook checked before release-week writes due dates
    return release_week_command(args)


def _roster(args: argparse.Namespace) -> int:
    from .grading.roster import roster_command

    _course(args)
    return roster_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kefu", description="kefu-lab instructor tools")
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
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per submission before it is stopped and scored 0 (default 600, env KEFU_GRADE_TIMEOUT)")
    p.add_argument("--watch", action="store_true",
                   help="keep collecting from the exchange, grade each new or changed submission and release its feedback")
    p.add_argument("--interval", type=float, default=2.0, help="with --watch: seconds between passes (default 2)")
    p.add_argument("--passes", type=_positive_int, default=None, help="with --watch: stop after N passes")

    command("feedback", _feedback, "nbgrader generate_feedback for every trainee, hidden tests removed") \
        .add_argument("assignment")

    command("export", _export, "grades to CSV and Excel, one row per trainee") \
        .add_argument("--out", default=None, help="folder (default: exports/)")

    p = command("report", _report, "HTML report in Chinese: one assignment, or the whole course with --all")
    p.add_argument("assignment", nargs="?", default=None)
    p.add_argument("--all", action="store_true", help="course-wide page: who is behind, weakest skill, week by week")
    p.add_argument("--out", default=None, help="HTML file (default: reports/ASSIGNMENT.html or reports/course.html)")

    p = command("release-week", _release_week,
                "generate, set due dates and release every assignment of week N (schedule.toml)")
    p.add_argument("week", type=int)
    p.add_argument("--exchange", default=None, help="exchange root (default: Exchange.root from the nbgrader config)")
    p.add_argument("--force", action="store_true", help="release again assignments already in the exchange")

    p = command("roster", _roster, "import trainees (学号、姓名、邮箱) from a CSV or Excel file into the gradebook")
    p.add_argument("file")
    p.add_argument("--sheet", default=None, help="Excel sheet name (default: the first sheet)")

    p = command("demo", _demo, "release, synthetic cohort, grade, feedback, export and report, end to end")
    p.add_argument("--dir", default=None, help="scratch course folder (default: ./demo)")
    p.add_argument("--assignments", default=None, help="comma-separated (default: all in source/)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: number of cores)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from .grading.backup import GradebookError, GradebookStop

    args = build_parser().parse_args(argv)
    prog = f"kefu {args.command}"
    try:
        return args.run(args)
    except (CommandError, GradebookError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
    except GradebookStop as stop:  # raised while nbgrader_config.py loads, before the command's own check
        print(f"{prog}: {stop.error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise  # the commands' own one-line messages (sys.exit("..."))
    except Exception as exc:  # noqa: BLE001 - the instructor gets one line; KEFU_DEBUG=1 shows the traceback
        if os.environ.get("KEFU_DEBUG"):
            raise
        print(f"{prog}: {type(exc).__name__}: {_first_line(exc)} (KEFU_DEBUG=1 shows the traceback)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
