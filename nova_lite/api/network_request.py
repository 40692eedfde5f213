"""The networks and security groups a create request asks for, checked before the
servers are recorded, and kept (as JSON) for the compute host that allocates the ports."""

from __future__ import annotations

import json
from typing import Any

from nova_lite import exception
from nova_lite.api import wsgi
from nova_lite.network import api as network_api


def from_body(req: wsgi.ApiRequest, server: dict, max_count: int) -> str:
    """The instance's ``network_request`` text; 400/409 for what cannot be satisfied."""
    v237 = req.ver >= (2, 37)
    # As Nova: an entry without a name (the schema allows {}) asks for nothing.
    groups = [g["name"] for g in server.get("security_groups") or () if g.get("name")]
    network = req.network or network_api.NoNetworkAPI()
    try:
        networks = network_api.parse_networks(server.get("networks"), v237)
        if network.enabled:
            # Before 2.37 an omitted networks key means "whatever the project has".
            network.validate_request(req.ctx.project_id, bool(req.ctx.is_admin), networks,
                                     groups, max_count,
                                     explicit_auto=v237 and server.get("networks") == "auto")
        else:
            network.validate_request(req.ctx.project_id, bool(req.ctx.is_admin), networks,
                                     groups, max_count)
    except exception.NoUniqueMatch as err:
        raise exception.Conflict(message=err.format_message()) from None
    return json.dumps({"networks": networks, "security_groups": groups})


def security_group_names(text: Any) -> list[dict]:
    """The create response's security_groups: the requested names, else default."""
    groups = json.loads(text).get("security_groups") if text else None
    return [{"name": g} for g in groups or ["default"]]
