"""Drive the team deployment as a user would: log in to JupyterHub, start a server, run code in a kernel.

    >>> user = HubUser.login("http://127.0.0.1:8000", "inspector.dupont", password)   # doctest: +SKIP
    >>> kernel = user.kernel()                                                       # doctest: +SKIP
    >>> kernel.run("import getpass; print(getpass.getuser())").stdout                # doctest: +SKIP
    'inspector.dupont\\n'

Everything goes through the hub's public address (the proxy), with the user's
own login and the tokens the hub gives them: no administrator token.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


@dataclass
class Execution:
    """What a kernel answered to one execute request."""

    status: str
    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    error: str | None = None
    user_expressions: dict = field(default_factory=dict)


class Kernel:
    """A kernel of the user's server, driven over the Jupyter websocket protocol."""

    def __init__(self, user: HubUser, kernel_id: str) -> None:
        self.user = user
        self.kernel_id = kernel_id
        self.session = uuid.uuid4().hex

    def run(self, code: str, *, user_expressions: dict[str, str] | None = None, timeout: float = 120) -> Execution:
        """Execute ``code`` and gather its output until the kernel is idle again."""
        return asyncio.run(self._run(code, user_expressions or {}, timeout))

    async def _run(self, code: str, user_expressions: dict[str, str], timeout: float) -> Execution:
        url = (self.user.base.replace("http", "ws", 1)
               + f"/user/{self.user.name}/api/kernels/{self.kernel_id}/channels")
        conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {self.user.token}"}))
        msg_id = uuid.uuid4().hex
        await conn.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": self.user.name, "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": user_expressions, "allow_stdin": False, "stop_on_error": True}}))
        out = Execution(status="timeout")
        idle = replied = False
        deadline = time.monotonic() + timeout
        while not (idle and replied):
            raw = await asyncio.wait_for(conn.read_message(), max(0.1, deadline - time.monotonic()))
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                setattr(out, content["name"], getattr(out, content["name"]) + content["text"])
            elif kind == "execute_result":
                out.result = content["data"].get("text/plain")
            elif kind == "error":
                out.error = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                out.status = content["status"]
                out.user_expressions = content.get("user_expressions", {})
                replied = True
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        conn.close()
        return out


class HubUser:
    """A user logged in to the hub through its login page, with an API token of their own."""

    def __init__(self, base: str, name: str, http: requests.Session, token: str) -> None:
        self.base = base.rstrip("/")
        self.name = name
        self.http = http
        self.token = token

    @classmethod
    def login(cls, base: str, name: str, password: str) -> HubUser:
        """Log in with the hub's own form and ask the hub for a token, as the user would."""
        base = base.rstrip("/")
        http = requests.Session()
        http.get(f"{base}/hub/login", timeout=30).raise_for_status()
        xsrf = http.cookies.get("_xsrf", "")
        reply = http.post(f"{base}/hub/login", data={"username": name, "password": password, "_xsrf": xsrf},
                          allow_redirects=False, timeout=60)
        if reply.status_code != 302 or "/hub/login" in reply.headers.get("location", ""):
            raise PermissionError(f"the hub refused {name}'s login ({reply.status_code})")
        xsrf = http.cookies.get("_xsrf", xsrf)
        reply = http.post(f"{base}/hub/api/users/{name}/tokens", json={"note": "boundary test", "expires_in": 3600},
                          headers={"X-XSRFToken": xsrf}, timeout=30)
        reply.raise_for_status()
        return cls(base, name, http, reply.json()["token"])

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """A hub or server API call with the user's token."""
        return requests.request(method, f"{self.base}{path}", headers={"Authorization": f"token {self.token}"},
                                timeout=kwargs.pop("timeout", 60), **kwargs)

    def start_server(self, timeout: float = 180) -> None:
        """Start the user's Jupyter server (as their own system account) and wait until it answers."""
        reply = self.api("POST", f"/hub/api/users/{self.name}/server")
        if reply.status_code not in (201, 202, 400):  # 400: already running
            reply.raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/hub/api/users/{self.name}").json()
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name}'s server did not start in {timeout:.0f} s")

    def app_page(self, owner: str, app: str, timeout: float = 300) -> requests.Response:
        """GET an app of ``owner``'s ``workbench apps`` through the hub's proxy, with this user's token."""
        return self.api("GET", f"/user/{owner}/workbench-apps/voila/render/{app}.ipynb", timeout=timeout,
                        allow_redirects=False)

    def widget_states(self, owner: str, kernel_id: str, timeout: float = 60) -> dict:
        """The states of every widget of an app page's kernel, asked as the page's JavaScript asks them
        (the ``jupyter.widget.control`` comm of ipywidgets 8), over the kernel's websocket."""
        return asyncio.run(self._widget_states(f"/user/{owner}/workbench-apps/api/kernels/{kernel_id}/channels",
                                               timeout))

    async def _widget_states(self, path: str, timeout: float) -> dict:
        conn = await websocket_connect(HTTPRequest(self.base.replace("http", "ws", 1) + path,
                                                   headers={"Authorization": f"token {self.token}"}))
        session, comm = uuid.uuid4().hex, uuid.uuid4().hex

        def message(kind: str, content: dict) -> str:
            return json.dumps({"header": {"msg_id": uuid.uuid4().hex, "username": self.name, "session": session,
                                          "msg_type": kind, "version": "5.3"}, "parent_header": {},
                               "metadata": {"version": "1.0.0"}, "channel": "shell", "content": content})

        await conn.write_message(message("comm_open", {"comm_id": comm, "target_name": "jupyter.widget.control",
                                                       "data": {}}))
        deadline = time.monotonic() + timeout
        try:
            while True:   # asked again while the kernel has no widget yet (a loaded machine: the page came first)
                await conn.write_message(message("comm_msg", {"comm_id": comm,
                                                              "data": {"method": "request_states"}}))
                while True:
                    raw = await asyncio.wait_for(conn.read_message(), max(0.1, deadline - time.monotonic()))
                    if raw is None:
                        raise ConnectionError("the app's kernel closed its websocket")
                    data = json.loads(raw).get("content", {}).get("data", {}) if isinstance(raw, str) else {}
                    if data.get("method") == "update_states":
                        break
                if data["states"] or time.monotonic() > deadline - 1:
                    return dict(data["states"])
                await asyncio.sleep(1)
        finally:
            conn.close()

    def kernel(self, name: str = "workbench-audited") -> Kernel:
        """A new kernel on the user's server."""
        reply = self.api("POST", f"/user/{self.name}/api/kernels", json={"name": name})
        reply.raise_for_status()
        return Kernel(self, reply.json()["id"])
