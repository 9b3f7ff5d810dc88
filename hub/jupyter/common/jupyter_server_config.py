"""JupyterLab defaults for every kefu-lab server (one machine and JupyterHub, every role).

scripts/start.sh and hub/jupyterhub_config.py put this folder on JUPYTER_CONFIG_PATH. The lab's
default settings come from lab-settings/overrides.json next to this file: Simplified Chinese
(the jupyterlab-language-pack-zh-CN package) and no news pop-up. They are defaults, so a user can
still switch the language in Settings > Language.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets

c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "lab-settings")
# No "check for updates" request either: trainees cannot act on it, and CI has no network.
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
