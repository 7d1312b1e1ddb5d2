"""What a user can reach from a notebook in the team deployment: the service, and nothing behind it.

Each test runs code in a kernel that JupyterHub spawned for the user, as their
own system account, and tries one way around the service.
"""

from __future__ import annotations

import json

import pytest

from hub_session import Kernel


@pytest.fixture(scope="module")
def dupont(deployment):
    user = deployment.login("inspector.dupont")
    user.start_server()
    return user


@pytest.fixture(scope="module")
def kernel(dupont) -> Kernel:
    return dupont.kernel()


def attempt(kernel: Kernel, code: str) -> dict:
    """Run ``code`` (which sets ``result``) in the user's kernel; the JSON of ``result`` or the error."""
    out = kernel.run(code + "\nimport json as _j; print('RESULT=' + _j.dumps(result, default=str))")
    for line in out.stdout.splitlines():
        if line.startswith("RESULT="):
            return json.loads(line[len("RESULT="):])
    return {"kernel_error": out.error or out.stderr}


def test_the_kernel_runs_as_the_users_own_account(kernel):
    assert attempt(kernel, "import getpass; result = getpass.getuser()") == "inspector.dupont"


def test_the_service_files_cannot_be_read(kernel, deployment):
    code = f"""
import os
result = {{}}
for p in [{str(deployment.state / 'service')!r}, {str(deployment.state / 'service' / 'home')!r},
          {str(deployment.state / 'service' / 'db_password')!r}, {str(deployment.state / 'hub')!r},
          {str(deployment.state / 'hub' / 'passwords')!r}, {str(deployment.state / 'pg')!r}]:
    try:
        result[p] = os.listdir(p) if os.path.isdir(p) else open(p).read()[:20]
    except OSError as e:
        result[p] = type(e).__name__
"""
    result = attempt(kernel, code)
    assert result and set(result.values()) == {"PermissionError"}, result


def test_another_users_home_cannot_be_read(kernel):
    code = """
import os, pwd
try:
    result = os.listdir(pwd.getpwnam('analyst.peeters').pw_dir)
except OSError as e:
    result = type(e).__name__
"""
    assert attempt(kernel, code) == "PermissionError"


def test_the_service_process_cannot_be_inspected(kernel):
    code = """
import os, pwd
uid = pwd.getpwnam('workbench').pw_uid
result = {}
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        if os.stat(f'/proc/{pid}').st_uid != uid:
            continue
        result[pid] = open(f'/proc/{pid}/environ', 'rb').read()[:10].hex()
    except OSError as e:
        result[pid] = type(e).__name__
"""
    result = attempt(kernel, code)
    assert result, "the service process was not found"
    assert set(result.values()) == {"PermissionError"}, result


@pytest.mark.parametrize("user", ["workbench", "postgres", "inspector.dupont"])
def test_postgresql_refuses_a_connection_without_the_services_password(kernel, deployment, user):
    code = f"""
import psycopg
try:
    psycopg.connect(host='127.0.0.1', port={deployment.pg_port}, user={user!r}, dbname='workbench',
                    connect_timeout=5).close()
    result = 'connected'
except psycopg.OperationalError as e:
    result = 'refused: ' + str(e).strip().splitlines()[-1]
"""
    result = attempt(kernel, code)
    assert result.startswith("refused"), result


def test_only_the_audited_kernel_can_be_started(dupont):
    assert set(dupont.api("GET", f"/user/{dupont.name}/api/kernelspecs").json()["kernelspecs"]) == {
        "workbench-audited"}
    reply = dupont.api("POST", f"/user/{dupont.name}/api/kernels", json={"name": "python3"})
    assert reply.status_code >= 400


def test_another_users_server_cannot_be_reached_with_ones_own_token(dupont, deployment):
    peeters = deployment.login("analyst.peeters")
    peeters.start_server()
    reply = dupont.api("GET", "/user/analyst.peeters/api/kernels", allow_redirects=False)
    assert reply.status_code in (302, 403, 404), reply.status_code
    assert reply.status_code != 200
