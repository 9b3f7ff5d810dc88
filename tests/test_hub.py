"""A real JupyterHub from hub/jupyterhub_config.py: an instructor and a trainee each see what they
should.

The hub runs on 127.0.0.1 (free ports) from the same config file production uses, switched to
test settings by environment variables only: DummyAuthenticator (any password, listed users
only), SimpleLocalProcessSpawner (no Unix accounts: every server runs as the test's user, with
its own home under a temporary folder), the course service in a temporary copy of the course,
the exchange in a temporary folder, and the gradebook on a throwaway PostgreSQL server when
PostgreSQL is installed (SQLite otherwise). configurable-http-proxy comes from npm
(`bash hub/setup.sh`, or on PATH); without it the test is skipped with that reason.

Everything goes through HTTP as a browser would: log in on /hub/login, start the server with the
hub's REST API, then the single-user servers' and the course service's own APIs. The instructor
reaches the formgrader (the course service) and finds it in nbgrader's course list; the trainee
is refused the formgrader, has no formgrader or course list in their server, sees the released
assignment of their own course only (not another course's), fetches and submits it, and runs the
toolkit in a kernel of the single-user environment, which has no KEFU_DB_URL and shows errors as
a Chinese sentence (an instructor's kernel shows the traceback), in a lab that defaults to
Simplified Chinese; the instructor
then collects the submission through the formgrader and enrols a trainee with
`nbgrader db student add` in the course service (gradebook and hub group). About 30-45 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from pgserver import INITDB, postgres_server
from ports import free_ports
from test_grading import ASSIGNMENTS, new_course

requests = pytest.importorskip("requests")
pytest.importorskip("jupyterhub", reason="JupyterHub is not installed (pip install 'jupyterhub>=5,<7')")

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "hub"
CONFIG = HUB / "jupyterhub_config.py"
BIN = Path(sys.executable).parent
INSTRUCTOR, TRAINEE, OTHER_TRAINEE = "teacher1", "trainee1", "trainee2"
COURSE = "kefu-lab"
ASSIGNMENT = ASSIGNMENTS[0]
HUB_START_S = 60
SERVER_START_S = 90


def _proxy() -> str | None:
    local = HUB / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        _proxy() is None,
        reason="configurable-http-proxy not found in hub/node_modules/.bin or on PATH "
               "(install it with `bash hub/setup.sh`; needs node and npm)",
    ),
]


@pytest.fixture(scope="module")
def gradebook_url():
    """A throwaway PostgreSQL server on 127.0.0.1 when PostgreSQL is installed, else None (SQLite)."""
    if not INITDB:
        yield None
        return
    with postgres_server() as url:
        yield url


def _processes_under(folder: Path) -> list[int]:
    """Processes whose working directory is inside `folder` (servers the hub started there)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
            found.append(int(proc.name))
    return found


@pytest.fixture(scope="module")
def hub(tmp_path_factory, gradebook_url):
    tmp = tmp_path_factory.mktemp("hub")
    course = new_course(tmp)
    exchange, homes, state, grader_home = (tmp / d for d in ("exchange", "homes", "state", "grader-home"))
    for folder in (homes, state, grader_home):
        folder.mkdir()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(BIN), str(Path(_proxy()).parent), os.environ.get("PATH", "")]),
        "HOME": str(grader_home),
        "KEFU_COURSE_ROOT": str(course),
        "KEFU_EXCHANGE_ROOT": str(exchange),
    }
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "KEFU_DB_URL"):
        env.pop(key, None)
    if gradebook_url:
        env["KEFU_DB_URL"] = gradebook_url

    # The instructor's side of the exchange: release the assignment as nbgrader does. A second
    # course the trainee is not enrolled in must stay invisible to them.
    released = subprocess.run([str(BIN / "nbgrader"), "release_assignment", ASSIGNMENT, f"--Exchange.root={exchange}"],
                              cwd=course, env=env, capture_output=True, text=True, timeout=120)
    assert released.returncode == 0, released.stdout + released.stderr
    other = exchange / "other-course" / "outbound" / "secret-quiz"
    other.mkdir(parents=True)
    shutil.copy(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", other / "secret.ipynb")

    port, hub_api, proxy_api, service = free_ports(4)
    env.update({
        "KEFU_HUB_AUTHENTICATOR": "dummy",
        "KEFU_HUB_SPAWNER": "simple",
        "KEFU_HUB_HOME_ROOT": str(homes),
        "KEFU_HUB_STATE_DIR": str(state),
        "KEFU_HUB_IP": "127.0.0.1",
        "KEFU_HUB_PORT": str(port),
        "KEFU_HUB_API_PORT": str(hub_api),
        "KEFU_HUB_PROXY_API_PORT": str(proxy_api),
        "KEFU_HUB_SERVICE_PORT": str(service),
        "KEFU_HUB_INSTRUCTORS": INSTRUCTOR,
        "KEFU_HUB_TRAINEES": f"{TRAINEE},{OTHER_TRAINEE}",
        "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(32),
    })
    log_path = tmp / "jupyterhub.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=state, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    hub = SimpleNamespace(url=url, proc=proc, log=log_path, course=course, exchange=exchange, homes=homes,
                          gradebook=gradebook_url, sessions=[])

    def log_tail(n: int = 6000) -> str:
        return log_path.read_text(errors="replace")[-n:]

    hub.log_tail = log_tail
    try:
        deadline = time.monotonic() + HUB_START_S
        while True:
            assert proc.poll() is None, f"JupyterHub exited with {proc.returncode}:\n{log_tail()}"
            try:
                if requests.get(f"{url}/hub/api", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"JupyterHub did not answer in {HUB_START_S}s:\n{log_tail()}"
            time.sleep(0.25)
        yield hub
    finally:
        # Stop the servers through the hub, then the hub (which stops the course service and the
        # proxy), then anything the hub started in our temporary folders and left behind.
        for session, name in hub.sessions:
            try:
                session.delete(f"{url}/hub/api/users/{name}/server", timeout=30)
            except requests.RequestException:
                pass
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for pid in _processes_under(tmp):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---------------------------------------------------------------------------------------- helpers


def login(hub, name: str):
    """Log in through the hub's login form (DummyAuthenticator: any password)."""
    session = requests.Session()
    page = session.get(f"{hub.url}/hub/login", timeout=30)
    assert page.status_code == 200, page.text[:500]
    xsrf = session.cookies.get("_xsrf", path="/hub/")
    done = session.post(f"{hub.url}/hub/login", data={"username": name, "password": "irrelevant", "_xsrf": xsrf},
                        allow_redirects=False, timeout=30)
    assert done.status_code == 302, f"login as {name}: {done.status_code} {done.text[:500]}"
    # cookie-authenticated hub API calls need the XSRF token of the logged-in session
    assert session.get(f"{hub.url}/hub/home", timeout=30).status_code == 200
    session.headers["X-XSRFToken"] = session.cookies.get("_xsrf", path="/hub/")
    hub.sessions.append((session, name))
    return session


def start_servers(hub, sessions: dict) -> None:
    """POST /hub/api/users/<name>/server for each user, then wait until every server is ready."""
    for name, session in sessions.items():
        started = session.post(f"{hub.url}/hub/api/users/{name}/server", timeout=60)
        assert started.status_code in (201, 202), f"{name}: {started.status_code} {started.text}\n{hub.log_tail()}"
    deadline = time.monotonic() + SERVER_START_S
    for name, session in sessions.items():
        while True:
            model = session.get(f"{hub.url}/hub/api/users/{name}", timeout=30).json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                break
            assert time.monotonic() < deadline, f"{name}'s server not ready in {SERVER_START_S}s:\n{hub.log_tail()}"
            time.sleep(0.25)


def open_lab(hub, session, name: str) -> dict:
    """Open /user/<name>/lab (OAuth with the hub on the way) and return JupyterLab's page config."""
    page = session.get(f"{hub.url}/user/{name}/lab", timeout=60)
    assert page.status_code == 200 and page.url.endswith(f"/user/{name}/lab"), (page.status_code, page.url)
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.text, re.S)
    assert found, page.text[:1000]
    return json.loads(found.group(1))


def user_xsrf(session, prefix: str) -> dict:
    """The X-XSRFToken header for POSTs to a single-user server or service under `prefix`."""
    return {"X-XSRFToken": session.cookies.get("_xsrf", path=prefix)}


def run_in_kernel(hub, session, prefix: str, code: str) -> str:
    """Start a kernel in the server under `prefix` (/user/<name>/ or /services/<name>/), run
    `code` over the kernel websocket and return its output."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    headers = user_xsrf(session, prefix)
    kernel = session.post(f"{hub.url}{prefix}api/kernels", json={"name": "python3"}, headers=headers, timeout=60)
    assert kernel.status_code == 201, kernel.text
    kernel_id = kernel.json()["id"]
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies if prefix.startswith(c.path))

    async def execute() -> str:
        ws_url = hub.url.replace("http", "ws", 1) + f"{prefix}api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        ws = await websocket_connect(HTTPRequest(ws_url, headers={"Cookie": cookies}, connect_timeout=30))
        msg_id = uuid.uuid4().hex
        await ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        out = []
        while True:
            raw = await asyncio.wait_for(ws.read_message(), 60)
            assert raw is not None, "kernel websocket closed"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        ws.close()
        return "".join(out)

    try:
        return asyncio.run(execute())
    finally:
        session.delete(f"{hub.url}{prefix}api/kernels/{kernel_id}", headers=headers, timeout=30)


# ------------------------------------------------------------------------------------------ test


def test_instructor_and_trainee_each_see_their_part(hub):
    t0 = time.monotonic()
    teacher, trainee = login(hub, INSTRUCTOR), login(hub, TRAINEE)
    start_servers(hub, {INSTRUCTOR: teacher, TRAINEE: trainee})
    started = time.monotonic() - t0

    # ---- groups and RBAC as the hub sees them
    assert teacher.get(f"{hub.url}/hub/api/user", timeout=30).json()["groups"] == [f"formgrade-{COURSE}"]
    assert trainee.get(f"{hub.url}/hub/api/user", timeout=30).json()["groups"] == [f"nbgrader-{COURSE}"]
    seen = teacher.get(f"{hub.url}/hub/api/users/{TRAINEE}", timeout=30)  # instructors may look at trainees
    assert seen.status_code == 200 and seen.json()["groups"] == [f"nbgrader-{COURSE}"]
    assert trainee.get(f"{hub.url}/hub/api/users/{INSTRUCTOR}", timeout=30).status_code in (403, 404)
    assert trainee.get(f"{hub.url}/hub/api/users/{OTHER_TRAINEE}", timeout=30).status_code in (403, 404)

    # ---- the trainee: assignment list of their course, no formgrader anywhere
    lab = open_lab(hub, trainee, TRAINEE)
    disabled = set(lab.get("disabledExtensions", []))
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
            "@jupyter/nbgrader:create-assignment"} <= disabled
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    assert any(e["name"] == "@jupyter/nbgrader" for e in lab.get("federated_extensions", []))
    base = f"{hub.url}/user/{TRAINEE}"
    listed = trainee.get(f"{base}/assignments", params={"course_id": COURSE}, timeout=60).json()
    assert listed["success"], listed
    assert [(a["course_id"], a["assignment_id"], a["status"]) for a in listed["value"]] == [(COURSE, ASSIGNMENT, "released")]
    assert trainee.get(f"{base}/courses", timeout=60).json() == {"success": True, "value": [COURSE]}
    hidden = trainee.get(f"{base}/assignments", params={"course_id": "other-course"}, timeout=60).json()
    assert hidden == {"success": True, "value": []}  # released, but not one of the trainee's courses
    assert trainee.get(f"{base}/formgrader", timeout=30).status_code == 404  # extension not loaded
    assert trainee.get(f"{base}/formgraders", timeout=30).status_code == 404  # no course list either
    refused = trainee.get(f"{hub.url}/services/{COURSE}/formgrader", timeout=60)
    assert refused.status_code == 403, (refused.status_code, refused.url)  # the hub refuses the service
    assert trainee.get(f"{hub.url}/services/{COURSE}/formgrader/api/assignments", timeout=60).status_code == 403

    # fetch (lands where the lessons' links point), open from the lesson link, submit
    headers = user_xsrf(trainee, f"/user/{TRAINEE}/")
    fetched = trainee.post(f"{base}/assignments/fetch", data={"course_id": COURSE, "assignment_id": ASSIGNMENT},
                           headers=headers, timeout=120).json()
    assert fetched["success"] and fetched["value"][0]["status"] == "fetched", fetched
    lessons = trainee.get(f"{base}/api/contents/course", timeout=30).json()
    assert "00_开始.ipynb" in {item["name"] for item in lessons["content"]}
    link_target = trainee.get(f"{base}/api/contents/release/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                              params={"content": 0}, timeout=30)
    assert link_target.status_code == 200, link_target.text
    submitted = trainee.post(f"{base}/assignments/submit", data={"course_id": COURSE, "assignment_id": ASSIGNMENT},
                             headers=headers, timeout=120).json()
    assert submitted["success"], submitted
    inbound = sorted(p.name for p in (hub.exchange / COURSE / "inbound").iterdir())
    assert len(inbound) == 1 and inbound[0].startswith(f"{TRAINEE}+{ASSIGNMENT}+"), inbound

    # the single-user environment has kefu-lab's toolkit; the gradebook's address is not there
    out = run_in_kernel(hub, trainee, f"/user/{TRAINEE}/", (
        "import os, sys, toolkit\n"
        "from toolkit.checks import find_forbidden\n"
        "print(sys.prefix)\n"
        "print(os.environ.get('JUPYTERHUB_USER'), 'KEFU_DB_URL' in os.environ)\n"
        "print(bool(find_forbidden('这不归我管，你自己去问吧')))\n"
    ))
    assert out.split("\n")[:3] == [sys.prefix, f"{TRAINEE} False", "True"], out
    # a trainee's kernel shows one Chinese sentence, not a traceback; the lab defaults to Chinese
    from toolkit.trainee_errors import message_for

    assert run_in_kernel(hub, trainee, f"/user/{TRAINEE}/", "sort_drill('x')").strip() == message_for(NameError)
    plugin = "@jupyterlab/translation-extension:plugin"
    settings = trainee.get(f"{hub.url}/user/{TRAINEE}/lab/api/settings/{plugin}", timeout=30).json()
    assert settings["schema"]["properties"]["locale"]["default"] == "zh_CN"

    # ---- the instructor: formgrader in the course service, found through the course list
    lab = open_lab(hub, teacher, INSTRUCTOR)
    assert "NameError" in run_in_kernel(hub, teacher, f"/user/{INSTRUCTOR}/", "sort_drill('x')")  # real tracebacks
    disabled = set(lab.get("disabledExtensions", []))
    assert "@jupyter/nbgrader:formgrader" in disabled  # the formgrader is the course service's
    assert not {"@jupyter/nbgrader:course-list", "@jupyter/nbgrader:assignment-list"} & disabled
    courses = teacher.get(f"{hub.url}/user/{INSTRUCTOR}/formgraders", timeout=60).json()
    assert courses["success"], courses
    assert [(c["course_id"], c["kind"]) for c in courses["value"]] == [(COURSE, "jupyterhub")]
    assert courses["value"][0]["url"].startswith(f"{hub.url}/services/{COURSE}/")
    assert teacher.get(f"{hub.url}/user/{INSTRUCTOR}/formgrader", timeout=30).status_code == 404

    page = teacher.get(f"{hub.url}/services/{COURSE}/", timeout=60)  # the service opens on the formgrader
    assert page.status_code == 200 and "/formgrader/" in page.url and "nbgrader" in page.text, (page.status_code, page.url)
    service = f"{hub.url}/services/{COURSE}/formgrader/api"
    assert teacher.get(f"{service}/status", timeout=30).json() == {"status": True}
    assignments = {a["name"]: a for a in teacher.get(f"{service}/assignments", timeout=60).json()}
    # "released" means the service listed the exchange through nbgrader's JupyterHub auth plugin
    assert assignments[ASSIGNMENT]["status"] == "released", assignments

    # collect the trainee's submission through the formgrader; the service enrols them in the
    # gradebook (on PostgreSQL when installed) and, through the hub's API, in the trainees' group
    headers = user_xsrf(teacher, f"/services/{COURSE}/")
    collected = teacher.post(f"{service}/assignment/{ASSIGNMENT}/collect", headers=headers, timeout=120)
    assert collected.status_code == 200 and collected.json()["success"], collected.text[-3000:]
    assert (hub.course / "submitted" / TRAINEE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    # nbgrader's own command in the course service (a kernel there, as from its terminal):
    # enrolling a trainee writes the gradebook and, with the service's token, the hub group
    out = run_in_kernel(hub, teacher, f"/services/{COURSE}/", (
        "import os, subprocess\n"
        f"r = subprocess.run(['nbgrader', 'db', 'student', 'add', '{OTHER_TRAINEE}', '--first-name=二', "
        "'--last-name=学员'], capture_output=True, text=True)\n"
        "print(r.returncode, os.environ.get('KEFU_DB_URL'))\n"
        "print(r.stdout + r.stderr)\n"
    ))
    assert out.startswith(f"0 {hub.gradebook}\n"), out
    assert f"Student {OTHER_TRAINEE} added or was already in the Jupyterhub group" in out, out
    assert OTHER_TRAINEE in {s["id"] for s in teacher.get(f"{service}/students", timeout=60).json()}
    assert (hub.course / "gradebook.db").exists() == (hub.gradebook is None)  # PostgreSQL when there

    print(f"\n[hub] servers ready in {started:.1f}s, checks done in {time.monotonic() - t0:.1f}s; "
          f"gradebook: {'PostgreSQL' if hub.gradebook else 'SQLite'}")
