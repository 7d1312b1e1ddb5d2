"""JupyterHub configuration of the team deployment (started by ``deploy/hub.sh``).

Each user's Jupyter server runs as that user's own system account
(``LocalProcessSpawner``, the hub running as root). The workbench service is a
JupyterHub service running as the ``workbench`` system account: it alone holds
the catalogue's credentials and the footage archive, and identifies every call
from the caller's hub token. A user's server receives a token whose scopes
allow it to call that service and nothing more of the hub.

Authentication is the hub's business. ``make hub`` uses PAM (the machine's own
accounts, the hub's default). A police deployment uses its directory:

    c.JupyterHub.authenticator_class = "ldapauthenticator.LDAPAuthenticator"
    c.LDAPAuthenticator.server_address = "ldaps://ldap.police.local"
    c.LDAPAuthenticator.bind_dn_template = ["uid={username},ou=people,dc=police,dc=local"]

or OpenID Connect through ``oauthenticator.generic.GenericOAuthenticator``
(docs/deployment.md). Every setting that varies comes from the environment
that ``deploy/hub.sh`` sets.
"""

import os
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (provided by JupyterHub)

state = Path(os.environ["WB_HUB_STATE"])
hub_port = int(os.environ["WB_HUB_PORT"])
service_url = os.environ["WB_SERVICE_URL"]
venv = Path(os.environ["WB_VENV"])
users = set(os.environ["WB_HUB_USERS"].split())

c.JupyterHub.bind_url = f"http://127.0.0.1:{hub_port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = hub_port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub_port + 2}"
c.ConfigurableHTTPProxy.auth_token = (state / "hub" / "proxy_token").read_text().strip()
c.ConfigurableHTTPProxy.pid_file = str(state / "hub" / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'hub' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "hub" / "cookie_secret")
c.JupyterHub.pid_file = str(state / "hub" / "jupyterhub.pid")

c.Authenticator.allowed_users = users
c.Authenticator.admin_users = set()

# The workbench service: an external (unmanaged) service, started by hub.sh as the workbench account.
c.JupyterHub.services = [{
    "name": "workbench",
    "url": service_url,
    "api_token": (state / "hub" / "service_token").read_text().strip(),
    "display": False,
}]
c.JupyterHub.load_roles = [
    # users may call the workbench service; what they may read there is the service's decision
    {"name": "user", "scopes": ["self", "access:services!service=workbench"]},
]

# Each user's server: the workbench's interpreter, the audited kernel only, no terminal.
c.Spawner.cmd = [str(venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.args = [
    "--ServerApp.kernel_spec_manager_class=workbench.kernelspec.AuditedOnlyKernelSpecManager",
    "--MultiKernelManager.default_kernel_name=workbench-audited",
    "--KernelManager.transport=ipc",  # kernel sockets in the user's private runtime folder, not on loopback TCP
    "--ServerApp.terminals_enabled=False",
    # kernels idle for 30 minutes are shut down (the apps' own server culls after 10: workbench apps)
    "--MappingKernelManager.cull_idle_timeout=1800",
    "--MappingKernelManager.cull_interval=60",
]
# The apps: /user/NAME/workbench-apps/ starts the user's own `workbench apps` (preheated kernels, as the user)
# through jupyter-server-proxy, declared by the workbench package (entry point jupyter_serverproxy_servers).
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# the token handed to the user's server (JUPYTERHUB_API_TOKEN): its own activity, and the workbench service
c.Spawner.server_token_scopes = ["users:activity!user", "access:services!service=workbench"]
c.Spawner.environment = {"WORKBENCH_SERVICE_URL": service_url}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
