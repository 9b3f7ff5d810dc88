"""Session-wide test settings (also for the notebook kernels nbval starts, which inherit them)."""

import os
import tempfile

# Drills record progress; tests must never touch the trainee's real store in $HOME.
os.environ.setdefault("KEFU_PROGRESS", os.path.join(tempfile.mkdtemp(prefix="kefu-test-"), "progress.sqlite3"))
