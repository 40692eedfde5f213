"""GET /servers/{id}/migrations[/{migration_id}] (2.23, admin): a server's live
migrations in progress, with their progress. Other moves (and finished ones) are only
in /os-migrations, so showing one is a 404 with Nova's wording."""

from __future__ import annotations

from typing import Any

from nova_lite import policy
from nova_lite.api import wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.views import migrations as views
from nova_lite.policies.migrations import SERVER_MIGRATIONS as RULE


def authorized_server(req: wsgi.ApiRequest, server_id: str, action: str,
                      since: tuple = (2, 23)) -> Any:
    """The server (404 before ``since``), once the caller may ``action`` its moves."""
    if req.ver < since:
        raise wsgi.not_found()
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % action, {"project_id": inst.project_id})
    return inst


def live_migration(req: wsgi.ApiRequest, server_id: str, migration_id: str) -> Any:
    """The server's live migration ``migration_id`` in progress, or Nova's 404."""
    migs = []
    if migration_id.isdigit():
        migs = [m for m in req.conductor.migration_search(
                    req.ctx, {"instance_uuid": server_id}) if m.id == int(migration_id)]
    if not migs:
        raise wsgi.not_found(f"In-progress live migration {migration_id} is not found "
                             f"for server {server_id}.")
    mig = migs[0]
    if mig.migration_type != views.LIVE:
        raise wsgi.not_found(f"Migration {migration_id} for server {server_id} is not "
                             "live-migration.")
    if mig.status not in views.LIVE_IN_PROGRESS:
        raise wsgi.not_found(f"Live migration {migration_id} for server {server_id} is "
                             "not in progress.")
    return mig


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    authorized_server(req, server_id, "index")
    migs = req.conductor.migration_search(
        req.ctx, {"instance_uuid": server_id, "migration_type": views.LIVE,
                  "status": list(views.LIVE_IN_PROGRESS)})
    return wsgi.Reply(200, {"migrations": [views.server_migration(req, m) for m in migs]})


def show(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    authorized_server(req, server_id, "show")
    mig = live_migration(req, server_id, id)
    return wsgi.Reply(200, {"migration": views.server_migration(req, mig)})
