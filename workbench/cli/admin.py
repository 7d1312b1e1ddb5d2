"""``workbench admin``: partners, users and roles, agreements, revocation, hit policies, database grants.

Every command except ``db-grants`` runs as a logged-in administrator
(``--as admin.willems`` embedded; through the service in a deployment, where
``WORKBENCH_SERVICE_URL`` and the administrator's token say who, and a home the
service serves refuses the embedded path) and each change is audited in the
transaction that makes it::

    workbench admin --as admin.willems users
    workbench admin --as admin.willems set-user inspector.new --full-name "..." --partner PZ5339 --role investigator
    workbench admin --as admin.willems add-agreement STIB PZ5339 --kind footage \\
        --purpose judicial-investigation --from 2026-01-01 --authorisation COC-2026-0042
    workbench admin --as admin.willems revoke 7 --reason "ended by the owner"
    workbench admin db-grants --service wb_service --maintenance wb_maintenance   # SQL for the DBA
"""

from __future__ import annotations

from typing import Any

import click

from workbench.cli.common import echo_table, settings_from
from workbench.errors import ConfigurationError


@click.group()
@click.option("--as", "user_name", help="the administrator (e.g. admin.willems)")
@click.pass_context
def admin(ctx: click.Context, user_name: str | None) -> None:
    """Administer who may see what: every change goes through the access layer and is audited."""
    ctx.obj = user_name


def _session(ctx: click.Context):  # type: ignore[no-untyped-def]
    """The administrator's session: through the service when WORKBENCH_SERVICE_URL is set, else embedded.

    A home that a workbench service serves (a deployment) is administered
    through that service only: the embedded path is refused there.
    """
    from workbench.access import Workspace
    from workbench.service.app import served_by

    settings = settings_from()
    if settings.service_url:
        from workbench.service.client import ClientWorkspace

        served: Any = ClientWorkspace(settings).login(ctx.obj)   # its methods are the registry's proxies
        return served.admin()
    service = served_by(settings.home)
    if service:
        raise ConfigurationError(
            f"this workbench is served by the workbench service ({service}): administer it through the service, "
            "as an administrator with your token (WORKBENCH_SERVICE_URL=... WORKBENCH_API_TOKEN=... or the "
            "JUPYTERHUB_API_TOKEN of your server), not by writing to the store")
    if not ctx.obj:
        raise click.UsageError("name the administrator: workbench admin --as NAME ...")
    return Workspace(settings).login(ctx.obj).admin()


@admin.command("partners")
@click.pass_context
def partners(ctx: click.Context) -> None:
    """List the partners and their hit policies."""
    echo_table(_session(ctx).partners())


@admin.command("users")
@click.pass_context
def users(ctx: click.Context) -> None:
    """List the accounts with their partner, role and whether they are active."""
    echo_table(_session(ctx).users())


@admin.command("agreements")
@click.pass_context
def agreements(ctx: click.Context) -> None:
    """List the sharing agreements with their authorisation reference."""
    echo_table(_session(ctx).agreements().drop(columns=["cameras"]))


@admin.command("add-partner")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--kind", required=True, help="police_zone, federal_police, public_transport, ...")
@click.option("--zone", type=int, help="police zone number")
@click.pass_context
def add_partner(ctx: click.Context, code: str, name: str, kind: str, zone: int | None) -> None:
    """Add a partner."""
    _session(ctx).add_partner(code, name, kind, zone)
    click.echo(f"partner {code} added")


@admin.command("set-user")
@click.argument("name")
@click.option("--full-name")
@click.option("--partner")
@click.option("--role")
@click.option("--active/--inactive", default=None)
@click.pass_context
def set_user(ctx: click.Context, name: str, full_name: str | None, partner: str | None, role: str | None,
             active: bool | None) -> None:
    """Create an account or change its partner, role or activity."""
    _session(ctx).set_user(name, full_name=full_name, partner=partner, role=role, active=active)
    click.echo(f"account {name} saved")


@admin.command("add-agreement")
@click.argument("owner")
@click.argument("recipient")
@click.option("--kind", "kinds", multiple=True, required=True, help="footage and/or plates")
@click.option("--purpose", "purposes", multiple=True, required=True)
@click.option("--from", "valid_from", required=True, help="first day (YYYY-MM-DD)")
@click.option("--until", "valid_until", help="day it ends (YYYY-MM-DD)")
@click.option("--camera", "cameras", multiple=True, help="limit to these cameras (default: all of the owner's)")
@click.option("--authorisation", required=True, help="reference of the authorisation (e.g. the COC decision)")
@click.pass_context
def add_agreement(ctx: click.Context, owner: str, recipient: str, kinds: tuple[str, ...], purposes: tuple[str, ...],
                  valid_from: str, valid_until: str | None, cameras: tuple[str, ...], authorisation: str) -> None:
    """Record a sharing agreement: OWNER lets RECIPIENT see some data for some purposes."""
    number = _session(ctx).add_agreement(owner, recipient, kinds=kinds, purposes=purposes, valid_from=valid_from,
                                         valid_until=valid_until, cameras=cameras or None,
                                         authorisation_ref=authorisation)
    click.echo(f"agreement {number} recorded")


@admin.command("revoke")
@click.argument("agreement_id", type=int)
@click.option("--reason", required=True)
@click.pass_context
def revoke(ctx: click.Context, agreement_id: int, reason: str) -> None:
    """Revoke an agreement now."""
    _session(ctx).revoke_agreement(agreement_id, reason=reason)
    click.echo(f"agreement {agreement_id} revoked")


@admin.command("hit-policy")
@click.argument("zone")
@click.option("--act-on", required=True, help="priorities acted on, e.g. 0,1")
@click.option("--ignore", required=True, help="priorities ignored, e.g. 3,4")
@click.option("--own-list-only", default="", help="priorities kept only when on the zone's own list, e.g. 2")
@click.pass_context
def hit_policy(ctx: click.Context, zone: str, act_on: str, ignore: str, own_list_only: str) -> None:
    """Set a zone's hotlist hit policy."""
    def parse(text: str) -> list[int]:
        try:
            return [int(p) for p in text.split(",") if p.strip()]
        except ValueError as exc:
            raise click.BadParameter(f"{text!r}: priorities are numbers 0 to 4 separated by commas") from exc

    _session(ctx).set_hit_policy(zone, act_on=parse(act_on), ignore=parse(ignore), own_list_only=parse(own_list_only))
    click.echo(f"hit policy of {zone} set")


@admin.command("db-grants")
@click.option("--service", required=True, help="PostgreSQL role the workbench service connects with")
@click.option("--maintenance", required=True, help="PostgreSQL role retention purges run under")
def db_grants(service: str, maintenance: str) -> None:
    """Print the SQL that gives the PostgreSQL roles their rights (audit trail INSERT-only); run it as the owner."""
    from workbench.store.roles import grant_statements

    click.echo(";\n".join(grant_statements(service, maintenance)) + ";")
