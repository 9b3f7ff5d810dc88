"""Run notebook cells in a real IPython kernel the way JupyterLab does.

JupyterLab's execute_request carries the cell's metadata and its id (``{...cell.metadata,
cellId}``, see @jupyterlab/cells CodeCell.execute); nbclient and nbval send none. The answer
cells of an assignment rely on that metadata, so tests of the trainee's kernel send it too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import start_new_kernel


@dataclass
class Result:
    status: str
    text: str = ""
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (ename, evalue, traceback)


class LabKernel:
    def __init__(self, cwd: Path, notebook: Path | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER")}
        if notebook is not None:
            env["JPY_SESSION_NAME"] = str(notebook)  # what jupyter_server tells the kernel
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)

    def run(self, cell, timeout: float = 30) -> Result:
        content = dict(code=cell.source, silent=False, store_history=True, user_expressions={},
                       allow_stdin=False, stop_on_error=True)
        msg = self.kc.session.msg("execute_request", content,
                                  metadata={**cell.get("metadata", {}), "cellId": cell.get("id", "")})
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        result = Result("?")
        while True:
            out = self.kc.get_iopub_msg(timeout=timeout)
            if out["parent_header"].get("msg_id") != msg_id:
                continue
            kind, c = out["msg_type"], out["content"]
            if kind == "stream":
                result.text += c["text"]
            elif kind in ("execute_result", "display_data"):
                result.text += c["data"].get("text/plain", "")
            elif kind == "error":
                result.errors.append((c["ename"], c["evalue"], "\n".join(c["traceback"])))
            elif kind == "status" and c["execution_state"] == "idle":
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                result.status = reply["content"]["status"]
                return result

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
