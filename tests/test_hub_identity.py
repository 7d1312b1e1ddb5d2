"""Identity from a real JupyterHub: the workbench service runs as a hub-managed service and knows each caller
only from the hub token, checked with JupyterHub's HubAuth and the scope access:services!service=workbench.

Needs ``jupyterhub`` (pip, the ``service`` extra) and ``configurable-http-proxy`` (npm); ``.ci/run`` installs both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import workbench
from workbench.config import Settings
from workbench.errors import AccessDenied
from workbench.samples import SAMPLE_CASE, build_sample
from workbench.service.process import free_port, stop, wait_until_up

from conftest import NOW, SAMPLE_DAY, fixed_clock

PURPOSE = "judicial-investigation"
ADMIN_TOKEN = "hub-test-admin-" + os.urandom(12).hex()
SERVICE_TOKEN = "workbench-service-" + os.urandom(12).hex()
HUB_CONFIG = """
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {hub_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {api_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.db_url = "sqlite:///{folder}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{folder}/cookie_secret"
c.ConfigurableHTTPProxy.pid_file = "{folder}/proxy.pid"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.services = [
    {{"name": "workbench", "url": "http://127.0.0.1:{service_port}", "api_token": "{service_token}",
      "command": [{python!r}, "-m", "workbench.cli", "serve", "--port", "{service_port}", "--now", "{now}"],
      "environment": {{"WORKBENCH_HOME": "{home}"}}}},
    {{"name": "tester", "api_token": "{admin_token}"}},
]
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service=workbench"]}},
    {{"name": "admin", "services": ["tester"]}},
]
"""


def _need(program: str, how: str) -> None:
    if shutil.which(program) is None and not (Path(sys.executable).parent / program).exists():
        pytest.fail(f"{program} is missing: {how} (.ci/run installs it)")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A JupyterHub on loopback ports with the workbench service it manages, on a sample world."""
    _need("jupyterhub", "pip install -e '.[service]'")
    _need("configurable-http-proxy", "npm install -g configurable-http-proxy")
    folder = tmp_path_factory.mktemp("hub")
    home = folder / "home"
    build_sample(Settings.from_env({}, home=home), day=SAMPLE_DAY, traffic=False)
    ports = {k: free_port() for k in ("hub_port", "api_port", "proxy_api_port", "service_port")}
    (folder / "jupyterhub_config.py").write_text(HUB_CONFIG.format(
        folder=folder, home=home, python=sys.executable, now=NOW.isoformat(), service_token=SERVICE_TOKEN,
        admin_token=ADMIN_TOKEN, **ports))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "JUPYTERHUB_"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    with open(folder / "hub.log", "wb") as log:
        process = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f",
                                    str(folder / "jupyterhub_config.py")], cwd=folder, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        api = f"http://127.0.0.1:{ports['hub_port']}/hub/api"
        service = f"http://127.0.0.1:{ports['service_port']}"
        try:
            wait_until_up(process, [f"{service}/api/health", f"{api}/"], 120,
                          lambda: (folder / "hub.log").read_bytes())
            admin = httpx.Client(base_url=api, headers={"Authorization": f"token {ADMIN_TOKEN}"}, timeout=30)
            admin.post("/users", json={"usernames": ["inspector.dupont", "analyst.peeters", "mallory"]}) \
                .raise_for_status()
            yield admin, service, home
        finally:
            stop(process, 20)


def hub_token(admin: httpx.Client, user: str, **body) -> str:
    response = admin.post(f"/users/{user}/tokens", json={"note": "test", **body})
    response.raise_for_status()
    return response.json()["token"]


def test_the_hub_token_says_who_the_user_is(hub):
    admin, service, home = hub
    token = hub_token(admin, "inspector.dupont")
    me = workbench.open(service=service, token=token).login()
    assert me.user.name == "inspector.dupont"
    case = me.open_case(SAMPLE_CASE, purpose=PURPOSE)
    embedded = workbench.open(home, clock=fixed_clock()).login("inspector.dupont") \
        .open_case(SAMPLE_CASE, purpose=PURPOSE)
    assert case.camera_access().equals(embedded.camera_access())
    with pytest.raises(AccessDenied, match="token belongs to inspector.dupont"):
        workbench.open(service=service, token=token).login("auditor.maes")


def test_tokens_the_hub_does_not_vouch_for_are_refused(hub):
    admin, service, _ = hub
    with pytest.raises(AccessDenied, match="JupyterHub does not know this token"):
        workbench.open(service=service, token="f" * 32).login()
    narrow = hub_token(admin, "analyst.peeters", scopes=["read:users:activity!user=analyst.peeters"])
    with pytest.raises(AccessDenied, match="does not grant access to the workbench service"):
        workbench.open(service=service, token=narrow).login()
    with pytest.raises(AccessDenied, match="belongs to a service"):
        workbench.open(service=service, token=ADMIN_TOKEN).login()
    short = hub_token(admin, "analyst.peeters", expires_in=1)
    time.sleep(2.5)
    with pytest.raises(AccessDenied, match="JupyterHub does not know this token"):
        workbench.open(service=service, token=short).login()


def test_a_hub_user_without_a_workbench_account_is_refused(hub):
    admin, service, home = hub
    with pytest.raises(AccessDenied, match="no active workbench account named 'mallory'"):
        workbench.open(service=service, token=hub_token(admin, "mallory")).login()
    trail = workbench.open(home, clock=fixed_clock()).login("auditor.maes").audit_events(user_name="mallory")
    assert (trail["outcome"] == "denied").any()
