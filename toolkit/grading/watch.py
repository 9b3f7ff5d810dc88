"""``kefu grade --watch``: a score seconds after submitting.

Each pass collects the assignment from nbgrader's exchange (kefu's OwnerCheckedCollect, which
copies without following links), grades only the submissions that are new or changed since
they were last graded, then generates and releases their feedback, so the trainee's
``fetch_feedback`` (the Assignment List's feedback button) finds it. What each trainee was last
graded on is kept in ``.kefu-watch/ASSIGNMENT.json`` in the course folder: a re-run grades
nothing that has not changed. nbgrader still does all the bookkeeping.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from .course import Course


def fingerprint(folder: Path) -> str:
    """What a submission holds, by name, size and modification time (links are not followed)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        digest.update(f"{path.relative_to(folder)}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    stamp = folder / "timestamp.txt"
    if stamp.is_file() and not stamp.is_symlink():
        digest.update(stamp.read_bytes()[:200])
    return digest.hexdigest()


class Watcher:
    """Grades the new or changed submissions of one assignment, pass by pass."""

    def __init__(self, course: Course, assignment: str, workers: int | None = None, collect: bool = True):
        self.course, self.assignment, self.workers, self.collect = course, assignment, workers, collect
        self.state_path = course.root / ".kefu-watch" / f"{assignment}.json"
        try:
            self.graded: dict[str, str] = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.graded = {}

    def pending(self) -> list[str]:
        """Trainees whose submission differs from the one last graded."""
        base = self.course.root / "submitted"
        return [s for s in self.course.submitted_students(self.assignment)
                if self.graded.get(s) != fingerprint(base / s / self.assignment)]

    def _save(self) -> None:
        self.state_path.parent.mkdir(exist_ok=True)
        scratch = self.state_path.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.graded, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(scratch, self.state_path)  # a killed watcher never leaves half a state file

    def run_once(self) -> list:
        """One pass: collect, grade what changed, release its feedback; the Outcomes graded."""
        from . import feedback, parallel
        from .backup import backup, check
        from .exchange import _api, instructor_config

        # the exchange as `nbgrader collect` would find it: ~/.jupyter, /etc/jupyter, then the course
        api = _api(self.course, instructor_config(self.course))
        if self.collect:
            result = api.collect(self.assignment, update=True)
            if not result.get("success"):
                last = (result.get("error") or result.get("log") or "").strip().splitlines()[-1:] or ["?"]
                print(f"[watch] collect {self.assignment} failed: {last[0][:200]}", flush=True)
        students = self.pending()
        if not students:
            return []
        # Every pass that writes grades is a grading run of its own: the gradebook is checked (a
        # damaged one stops the watcher, GradebookError) and backed up first, as `kefu grade` does.
        check(self.course.root, self.course.db_url)
        _, note = backup(self.course.root, self.course.db_url)
        print(f"[watch] {note}", flush=True)
        prints = {s: fingerprint(self.course.root / "submitted" / s / self.assignment) for s in students}
        outcomes = parallel.grade(self.course, self.assignment, workers=self.workers, progress=False, only=students)
        for outcome in outcomes:
            if outcome.status == "graded":
                try:
                    feedback.generate(self.course, self.assignment, student=outcome.student)
                except SystemExit as exc:  # one trainee's feedback never stops the others'
                    print(f"[watch] {exc}", flush=True)
                else:
                    api.release_feedback(self.assignment, student_id=outcome.student)
            self.graded[outcome.student] = prints[outcome.student]
            self._save()
            print(f"[watch] {self.assignment} {outcome.student}: {outcome.status} "
                  f"{outcome.score:g}/{outcome.max_score:g}", flush=True)
        return outcomes

    def run(self, interval: float = 2.0, passes: int | None = None) -> None:
        """Pass after pass, ``interval`` seconds apart (``passes`` for a bounded run)."""
        done = 0
        while passes is None or done < passes:
            started = time.monotonic()
            self.run_once()
            done += 1
            if passes is None or done < passes:
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
