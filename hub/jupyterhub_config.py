"""JupyterHub for the kefu-lab course: trainees, instructors, nbgrader and a shared gradebook.

    jupyterhub -f hub/jupyterhub_config.py

What it sets up (nbgrader's "one class, several graders" layout, JupyterHub 5/6 RBAC):

- groups ``formgrade-kefu-lab`` (instructors) and ``nbgrader-kefu-lab`` (trainees), from
  $KEFU_HUB_INSTRUCTORS / $KEFU_HUB_TRAINEES; nbgrader's JupyterHubAuthPlugin reads them, so a
  trainee lists, fetches and submits only the courses whose group they are in;
- the course service ``kefu-lab`` (the service name must equal the course id): a JupyterLab
  run by the hub as the grader account in the course folder, with the formgrader, the course's
  nbgrader_config.py and the gradebook ($KEFU_DB_URL, PostgreSQL). Only the instructors' group
  may open it (``access:services!service=kefu-lab``); it is the only place KEFU_DB_URL is set;
- single-user servers from the same Python environment as the hub (kefu-lab and its toolkit
  installed), opening at /lab; trainees get the assignment list only, instructors the
  assignment list and the course list (a link to the formgrader);
- the same file runs in production and in tests/test_hub.py: every site-specific value comes
  from an environment variable below.

Environment (defaults are the production values):

  KEFU_HUB_AUTHENTICATOR  pam | shared-password | dummy (tests only) | any JupyterHub
                          authenticator name or class, e.g. oauthenticator.generic.GenericOAuthenticator
  KEFU_HUB_SHARED_PASSWORD  the password for shared-password
  KEFU_HUB_INSTRUCTORS    comma list of instructor user names   (group formgrade-kefu-lab)
  KEFU_HUB_TRAINEES       comma list of trainee user names      (group nbgrader-kefu-lab)
  KEFU_HUB_ADMINS         comma list of hub administrators (default: none)
  KEFU_HUB_SPAWNER        localprocess (real Unix users) | simple (tests: no Unix users, all
                          servers run as the hub's user, homes under KEFU_HUB_HOME_ROOT) |
                          systemdspawner.SystemdSpawner | kubespawner.KubeSpawner | ...
  KEFU_HUB_HOME_ROOT      homes for the simple spawner (default /tmp/kefu-hub-homes)
  KEFU_HUB_IP, KEFU_HUB_PORT        public address of the proxy (default all interfaces, 8000)
  KEFU_HUB_API_IP, KEFU_HUB_API_PORT  the hub's internal API (default 127.0.0.1, 8081)
  KEFU_HUB_PROXY_API_PORT the proxy's REST API on 127.0.0.1 (default 8001)
  KEFU_HUB_SERVICE_PORT   the course service on 127.0.0.1 (default 9999)
  KEFU_HUB_SSL_CERT, KEFU_HUB_SSL_KEY  serve https directly (or terminate TLS in front)
  KEFU_HUB_STATE_DIR      jupyterhub.sqlite and the cookie secret (default /srv/jupyterhub)
  KEFU_HUB_DB_URL         the hub's own database (default sqlite in KEFU_HUB_STATE_DIR)
  KEFU_HUB_GRADER_USER    the account the course service runs as (default grader-kefu-lab)
  KEFU_HUB_JUPYTER_CONFIG where single-user servers find hub/jupyter (default: this folder's;
                          on Kubernetes the copy inside the single-user image)
  KEFU_HUB_LESSONS        lesson notebooks copied into each new home (default <repo>/course;
                          empty: do not copy)
  KEFU_COURSE_ROOT        the nbgrader course folder (default: this repository)
  KEFU_EXCHANGE_ROOT      nbgrader exchange (default /srv/nbgrader/exchange)
  KEFU_DB_URL             the gradebook, postgresql://USER@HOST:5432/DBNAME
  CONFIGPROXY_AUTH_TOKEN  shared secret of hub and proxy (generated when unset)

See hub/README.md for installation and docs/scaling.md for when and how to scale out.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub/traitlets

log = logging.getLogger("JupyterHub")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# per-role Jupyter config put on JUPYTER_CONFIG_PATH (where the single-user servers find it)
CONFIG_DIRS = Path(os.environ.get("KEFU_HUB_JUPYTER_CONFIG", "").strip() or HERE / "jupyter")
BIN = Path(sys.executable).parent  # the environment the hub runs in, with kefu-lab installed

COURSE_ID = "kefu-lab"
SERVICE = COURSE_ID  # nbgrader finds the formgrader at /services/<course_id>
INSTRUCTORS_GROUP = f"formgrade-{COURSE_ID}"
TRAINEES_GROUP = f"nbgrader-{COURSE_ID}"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def _names(name: str) -> list[str]:
    return sorted({n.strip().lower() for n in _env(name).split(",") if n.strip()})


AUTHENTICATOR = _env("KEFU_HUB_AUTHENTICATOR", "pam")
SPAWNER = _env("KEFU_HUB_SPAWNER", "localprocess")
INSTRUCTORS = _names("KEFU_HUB_INSTRUCTORS")
TRAINEES = [n for n in _names("KEFU_HUB_TRAINEES") if n not in INSTRUCTORS]
ADMINS = _names("KEFU_HUB_ADMINS")
GRADER = _env("KEFU_HUB_GRADER_USER", f"grader-{COURSE_ID}")
IP = _env("KEFU_HUB_IP")
PORT = int(_env("KEFU_HUB_PORT", "8000"))
HUB_API_PORT = int(_env("KEFU_HUB_API_PORT", "8081"))
PROXY_API_PORT = int(_env("KEFU_HUB_PROXY_API_PORT", "8001"))
SERVICE_PORT = int(_env("KEFU_HUB_SERVICE_PORT", "9999"))
STATE = Path(_env("KEFU_HUB_STATE_DIR", "/srv/jupyterhub"))
COURSE_ROOT = Path(_env("KEFU_COURSE_ROOT", str(REPO))).resolve()
EXCHANGE = _env("KEFU_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
GRADEBOOK = _env("KEFU_DB_URL")
LESSONS = os.environ.get("KEFU_HUB_LESSONS", str(REPO / "course")).strip()  # set empty: no copy
# servers on this machine, from this environment (KubeSpawner & co. bring their own image)
LOCAL_SPAWNER = (SPAWNER in {"localprocess", "default", "simple"} or SPAWNER.startswith("jupyterhub.spawner.")
                 or "systemdspawner" in SPAWNER.lower())
SIMPLE_SPAWNER = SPAWNER in {"simple", "jupyterhub.spawner.SimpleLocalProcessSpawner"}
AS_ROOT = os.geteuid() == 0

# ------------------------------------------------------------------ network and state

STATE.mkdir(parents=True, exist_ok=True, mode=0o700)
scheme = "https" if _env("KEFU_HUB_SSL_CERT") else "http"
c.JupyterHub.bind_url = f"{scheme}://{IP}:{PORT}"
if scheme == "https":
    c.JupyterHub.ssl_cert = _env("KEFU_HUB_SSL_CERT")
    c.JupyterHub.ssl_key = _env("KEFU_HUB_SSL_KEY")
# The hub's internal API: local for local spawners; the pods' reachable address with KubeSpawner.
c.JupyterHub.hub_ip = _env("KEFU_HUB_API_IP", "127.0.0.1")
c.JupyterHub.hub_port = HUB_API_PORT
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"
chp = HERE / "node_modules" / ".bin" / "configurable-http-proxy"  # bash hub/setup.sh
if chp.exists():
    c.ConfigurableHTTPProxy.command = [str(chp)]
c.JupyterHub.db_url = _env("KEFU_HUB_DB_URL", f"sqlite:///{STATE / 'jupyterhub.sqlite'}")
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every single-user server

# ------------------------------------------------------------------ who may log in

c.JupyterHub.authenticator_class = AUTHENTICATOR
c.Authenticator.allowed_users = set(INSTRUCTORS + TRAINEES)
c.Authenticator.admin_users = set(ADMINS)
# The lists above are the roster: someone removed from them can no longer log in, and the
# grader account (a hub user only so nbgrader can look up its groups) never can.
c.Authenticator.allow_existing_users = False
if AUTHENTICATOR == "shared-password":
    c.SharedPasswordAuthenticator.user_password = _env("KEFU_HUB_SHARED_PASSWORD") or None
if AUTHENTICATOR == "dummy":
    log.warning("kefu-lab hub: DummyAuthenticator accepts any password - tests only")

c.JupyterHub.load_groups = {
    INSTRUCTORS_GROUP: {"users": INSTRUCTORS + [GRADER]},
    TRAINEES_GROUP: {"users": TRAINEES},
}

# JupyterHub RBAC. Instructors open the course service (formgrader) and see it in the course
# list; they may list trainees and start/stop their servers, never enter them. The course
# service reads group membership (nbgrader's auth plugin) and enrols trainees added with
# `nbgrader db student add` into nbgrader-kefu-lab. Trainees keep the default `user` role.
c.JupyterHub.load_roles = [
    {
        "name": f"{COURSE_ID}-instructor",
        "description": "Instructors of kefu-lab: formgrader, course list, trainee overview",
        "groups": [INSTRUCTORS_GROUP],
        "scopes": [
            f"access:services!service={SERVICE}",
            "list:services",
            f"read:services!service={SERVICE}",
            "admin-ui",
            "list:users",
            f"read:users!group={TRAINEES_GROUP}",
            f"servers!group={TRAINEES_GROUP}",
        ],
    },
    {
        "name": f"{COURSE_ID}-course-service",
        "description": "The kefu-lab course service (formgrader): read groups, enrol trainees",
        "services": [SERVICE],
        "scopes": [
            "list:users",
            "read:users:name",
            "read:users:groups",
            "list:groups",
            "read:groups",
            f"groups!group={TRAINEES_GROUP}",
        ],
    },
]

# ------------------------------------------------------------------ single-user servers

PATH = f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/local/bin:/usr/bin:/bin')}"


def _role(spawner) -> str:
    groups = {g.name for g in spawner.user.groups}
    return "instructor" if INSTRUCTORS_GROUP in groups else "trainee"


def _config_path(spawner) -> str:
    return os.pathsep.join(str(CONFIG_DIRS / d) for d in (_role(spawner), "common"))


def _kernel_startup(spawner) -> str:
    return str(CONFIG_DIRS / "trainee" / "kernel_startup.py") if _role(spawner) == "trainee" else ""


c.JupyterHub.spawner_class = SPAWNER
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    # per role: which nbgrader server and lab extensions load (hub/jupyter/<role>/)
    "JUPYTER_CONFIG_PATH": _config_path,
    # trainees' kernels show a short Chinese message instead of a traceback (toolkit/trainee_errors.py)
    "PYTHONSTARTUP": _kernel_startup,
    "KEFU_EXCHANGE_ROOT": EXCHANGE,
    # deliberately no KEFU_DB_URL: trainees never see the gradebook's address
}
# $JUPYTERHUB_API_TOKEN of a server: the subset its owner holds. nbgrader's auth plugin reads
# the owner's groups; the course list finds the kefu-lab service (instructors only).
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "read:users:groups!user",
    "list:services",
    f"read:services!service={SERVICE}",
]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
if LOCAL_SPAWNER:
    # the same environment as the hub: JupyterLab, nbgrader and kefu-lab's toolkit
    c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
    c.Spawner.environment["PATH"] = PATH  # nbgrader and its alembic from that environment
if SIMPLE_SPAWNER:
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(
        _env("KEFU_HUB_HOME_ROOT", "/tmp/kefu-hub-homes"), "{username}")
    if AS_ROOT:  # the simple spawner runs every server as the hub's own user
        c.Spawner.args = ["--allow-root"]


def _home_of(spawner) -> tuple[Path, int | None, int | None] | None:
    if SIMPLE_SPAWNER:
        return Path(spawner.home_dir), None, None
    try:
        entry = pwd.getpwnam(spawner.user.name)
    except KeyError:  # no Unix account (e.g. SystemdSpawner with dynamic users): nothing to prepare
        return None
    return Path(entry.pw_dir), entry.pw_uid, entry.pw_gid


def prepare_home(spawner) -> None:
    """First start of a local server: copy the lesson notebooks into ~/course (never over the
    trainee's copy) and link ~/release to ~/kefu-lab, where nbgrader puts fetched assignments,
    so the lessons' links ../release/<assignment>/<assignment>.ipynb open the fetched copy."""
    where = _home_of(spawner)
    if not LESSONS or not Path(LESSONS).is_dir() or where is None:
        return
    home, uid, gid = where
    made = []  # only what this hook creates; a trainee's own files are never touched
    for folder in (home, home / COURSE_ID):
        if not folder.exists():
            folder.mkdir(parents=True)
            made.append(folder)
    lessons = home / "course"
    if not lessons.exists():
        shutil.copytree(LESSONS, lessons, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        made += [lessons, *lessons.rglob("*")]
    link = home / "release"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(COURSE_ID)
        made.append(link)
    if uid is not None:  # real Unix users: the hub (root) made these, hand them over
        for path in made:
            os.lchown(path, uid, gid)


if LOCAL_SPAWNER:
    c.Spawner.pre_spawn_hook = prepare_home

# ------------------------------------------------------------------ the course service

# The formgrader runs once per course, as the grader account, in the course folder (whose
# nbgrader_config.py names course_id kefu-lab and reads KEFU_DB_URL). Instructors share it.
service_env = {
    "JUPYTER_CONFIG_PATH": os.pathsep.join(str(CONFIG_DIRS / d) for d in ("course-service", "common")),
    "KEFU_EXCHANGE_ROOT": EXCHANGE,
    "PATH": PATH,
    "JUPYTERHUB_DEFAULT_URL": "/formgrader",  # a full page: no iframe (blocked since JupyterHub 4.1)
    "JUPYTERHUB_USER": GRADER,  # nbgrader's auth plugin needs a user name
}
# kefu's collect refuses submissions whose files are not owned by the trainee they name. That
# needs one Unix account per hub user (LocalProcessSpawner, SystemdSpawner with real users);
# under the simple spawner or KubeSpawner every server runs as one account, so the check is off
# and a submission's name comes from the hub identity (hub/jupyter/common/nbgrader_config.py).
if SIMPLE_SPAWNER or not LOCAL_SPAWNER:
    service_env["KEFU_CHECK_OWNER"] = "0"
if GRADEBOOK:
    service_env["KEFU_DB_URL"] = GRADEBOOK
else:
    log.warning("kefu-lab hub: KEFU_DB_URL is not set, the gradebook is SQLite in %s; "
                "set KEFU_DB_URL=postgresql://... for several instructors", COURSE_ROOT)
service = {
    "name": SERVICE,
    "url": f"http://127.0.0.1:{SERVICE_PORT}",
    "command": [str(BIN / "jupyterhub-singleuser")],
    "cwd": str(COURSE_ROOT),
    "environment": service_env,
    "oauth_no_confirm": True,
    "display": True,
    "info": {"description": "kefu-lab formgrader (instructors)"},
}
try:
    pwd.getpwnam(GRADER)
    grader_account = True
except KeyError:
    grader_account = False
if AS_ROOT and grader_account:
    service["user"] = GRADER
elif AS_ROOT and not SIMPLE_SPAWNER:
    raise SystemExit(f"kefu-lab hub: create the Unix account {GRADER!r} for the course service "
                     f"(owner of {COURSE_ROOT}) or set KEFU_HUB_GRADER_USER; it must not run as root")
else:  # tests (simple spawner) or a hub that is not root: the service runs as the hub's user
    service_env["HOME"] = os.environ.get("HOME", str(STATE))
    if AS_ROOT:
        service["command"].append("--allow-root")
c.JupyterHub.services = [service]
