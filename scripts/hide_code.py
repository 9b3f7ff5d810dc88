"""Hide the code input of every code cell in the course notebooks (course/*.ipynb).

Trainees open a module and see text, examples and drills, not Python: JupyterLab collapses an
input whose cell metadata has ``"jupyter": {"source_hidden": true}`` (a click on the bar shows it
again, so instructors and CI still read and run the code). Idempotent; tests/test_trainee_path.py
fails when a course notebook has a visible code input. Usage: python scripts/hide_code.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1] / "course"


def hide(path: Path) -> bool:
    """Mark every code cell of ``path`` as source-hidden; True if the file changed."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell.setdefault("metadata", {}).setdefault("jupyter", {})["source_hidden"] = True
    text = json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
    if text != raw:
        path.write_text(text, encoding="utf-8")
        return True
    return False


def main() -> int:
    changed = [p.name for p in sorted(COURSE.glob("*.ipynb")) if hide(p)]
    print(f"[hide_code] {len(changed)} notebook(s) changed" + (": " + ", ".join(changed) if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
