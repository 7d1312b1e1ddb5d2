"""The audited kernel: every executed cell leaves a trace in the audit trail.

An IPython kernel that takes the identity from the environment (JupyterHub's
``JUPYTERHUB_USER`` or ``WORKBENCH_USER``), preloads ``workbench`` as ``wb``,
and after each cell appends an audit event with the cell's SHA-256, its length,
its execution count and status, and the case most recently opened in the
kernel. ``user_expressions`` sent with a request run code too: they are
hashed with the cell, so a request with an empty cell leaves a trace as well.
The cell text itself is not stored (it may hold plates); its hash lets an
auditor match a saved notebook against the trail.

Started by the kernel spec "Workbench (audited)" (see kernels/).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ipykernel.ipkernel import IPythonKernel

from workbench.errors import InvalidInput, WorkbenchError


class AuditedKernel(IPythonKernel):
    """IPython, plus an audit event per executed cell."""

    implementation = "workbench-audited"
    banner = "Workbench (audited): each cell you run is recorded in the audit trail (hash, case)."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._user_session = None
        assert self.shell is not None   # set by IPythonKernel.__init__
        self.shell.run_cell("import workbench as wb", store_history=False, silent=True)

    def _session(self):  # type: ignore[no-untyped-def]
        if self._user_session is None:
            import workbench

            self._user_session = workbench.open().login()
        return self._user_session

    def _active_case(self):  # type: ignore[no-untyped-def]
        """The case most recently opened by this user in the kernel's namespace, if any."""
        from workbench.access.session import OpenCase  # embedded, or a client of the workbench service

        user = self._user_session.user.name
        cases = [v for v in list(self.shell.user_ns.values()) if isinstance(v, OpenCase) and v.user.name == user]
        return max(cases, key=lambda c: c.order).info if cases else None

    async def do_execute(self, code: str, silent: bool, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            session = self._session()
        except WorkbenchError as exc:
            message = f"This kernel records every cell in the audit trail and runs nothing without an identity: {exc}"
            if not silent:
                self.send_response(self.iopub_socket, "stream", {"name": "stderr", "text": message + "\n"})
            return {"status": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": [message],
                    "execution_count": self.execution_count}
        reply = await super().do_execute(code, silent, *args, **kwargs)
        text = _audited_text(code, kwargs["user_expressions"] if "user_expressions" in kwargs
                             else args[1] if len(args) > 1 else None)
        if text.strip():
            fields = (hashlib.sha256(text.encode("utf-8")).hexdigest(), len(text), reply.get("execution_count"),
                      str(reply.get("status")))
            try:
                session.note_cell(*fields, case=self._active_case())
            except InvalidInput:   # a case object altered in the namespace: the cell is recorded without it
                session.note_cell(*fields)
        return reply


def _audited_text(code: str, user_expressions: dict[str, str] | None) -> str:
    """The code a request runs: the cell, plus its ``user_expressions`` (evaluated too, so hashed too)."""
    if not user_expressions:
        return code
    return code + "\n# user_expressions\n" + json.dumps(user_expressions, sort_keys=True, ensure_ascii=False)
