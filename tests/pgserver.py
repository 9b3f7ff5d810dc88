"""A throwaway PostgreSQL server on 127.0.0.1 for tests and benchmarks (Debian's postgresql)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ports import free_port

INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@contextlib.contextmanager
def postgres_server(database: str = "gradebook"):
    """Yield the URL of a fresh database on a server started for the block; stop it afterwards."""
    if not INITDB:
        raise FileNotFoundError("PostgreSQL is not installed (scripts/system-deps.sh installs Debian's postgresql)")
    bin_dir = os.path.dirname(INITDB[-1])
    base = Path(tempfile.mkdtemp(prefix="kefu-pg-"))
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use Debian's postgres account
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(as_user + [f"{bin_dir}/initdb", "-D", str(data), "-U", "kefu", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run(as_user + [f"{bin_dir}/pg_ctl", "-D", str(data), "-w", "-l", str(base / "log"),
                              "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200",
                              "start"], check=True, capture_output=True)
    try:
        subprocess.run(as_user + [f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "kefu", database],
                       check=True, capture_output=True)
        yield f"postgresql://kefu@127.0.0.1:{port}/{database}"
    finally:
        subprocess.run(as_user + [f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
