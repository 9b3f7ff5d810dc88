"""nbgrader settings shared by every server the kefu-lab hub starts (trainees, instructors and
the course service), and by the one-machine course of scripts/start.sh. hub/jupyterhub_config.py
and scripts/start.sh put this folder on JUPYTER_CONFIG_PATH.

The course's own settings (course_id, root, gradebook, sanitiser) stay in the course folder's
nbgrader_config.py, which the course service loads from its working directory.
"""

import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821 - provided by nbgrader/traitlets

# One exchange for the whole hub: <root>/<course_id>/{outbound,inbound,feedback}. On one machine
# a local folder (mode 1777); on Kubernetes a ReadWriteMany volume mounted at the same path in
# every pod (or replace the exchange with ngshare, see docs/scaling.md).
c.Exchange.root = os.environ.get("KEFU_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
# Fetched assignments land in ~/<course_id>/<assignment>, so several courses never collide.
c.Exchange.path_includes_course = True
# Under JupyterHub, ask it which courses a user belongs to: groups nbgrader-<course> (trainees) and
# formgrade-<course> (instructors). A trainee lists, fetches and submits only those courses.
# On one machine (scripts/start.sh) there is no hub: nbgrader's default, every course of the exchange.
if os.environ.get("JUPYTERHUB_API_TOKEN"):
    c.Authenticator.plugin_class = JupyterHubAuthPlugin

# A submission is named after the hub user, not the Unix account the server happens to run as
# (nbgrader would otherwise use the process's account: `jovyan` on Kubernetes, the hub's own
# account under the test spawner). This also limits a trainee's "submitted" list to their own
# submissions. Not in the course service: there '*' (every trainee) is what collect and
# autograde need.
if os.environ.get("JUPYTERHUB_USER") and not os.environ.get("JUPYTERHUB_SERVICE_NAME"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]

# Owner check at collect (toolkit.grading.exchange.OwnerCheckedCollect) only where every hub
# user has their own Unix account; jupyterhub_config.py sets KEFU_CHECK_OWNER=0 otherwise.
if os.environ.get("KEFU_CHECK_OWNER") == "0":
    c.ExchangeCollect.check_owner = False
