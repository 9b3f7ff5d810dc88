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

    outcomes = grade(Course(args.root), args.assignment, workers=args.workers, progress=not args.quiet)
    print(summary_table(outcomes))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu", description="kefu-lab instructor tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check-data", help="validate every knowledge-base file").set_defaults(run=_check_data)

    p = sub.add_parser("grade", help="autograde every submission of an assignment in parallel (nbgrader)")
    p.add_argument("assignment")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--root", default=None, help="course folder (default: nearest with nbgrader_config.py)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
