"""Conductor methods for what reaches a guest: its metadata (for the metadata service
and config drives), its password, and console tokens.

The metadata service and compute hosts hold no database credentials: they ask here.
"""

from __future__ import annotations

import logging
import secrets
import urllib.parse
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conf import CONF
from nova_lite.db import guest_access as guest_db
from nova_lite.db import instances as inst_db
from nova_lite.network import model as network_model
from nova_lite.objects.instance import Instance

LOG = logging.getLogger(__name__)


class GuestAccessMixin:
    api_url: str
    cells: Any
    compute: Any

    def _instance_and_cell(self, uuid: str) -> tuple[Instance, Optional[dict]]:
        cell, building = self.cells.instance_cell_or_request(uuid)
        if building is not None:
            return building, None
        return inst_db.instance_get(cell["database_connection"], uuid, cell["name"]), cell

    # -- metadata ------------------------------------------------------------------------------
    def instance_metadata(self, ctx: Any, uuid: str) -> dict:
        """Everything an instance's metadata is made of: {"instance", "keypairs",
        "network_info", "password"}."""
        inst, _cell = self._instance_and_cell(uuid)
        sysmeta = inst.get("system_metadata") or {}
        # The copies of its key pairs the instance keeps ({"name", "type", "public_key",
        # ...}), read with the instance.
        keypairs = list(inst.get("keypairs") or [])
        return {"instance": inst, "keypairs": keypairs,
                "network_info": network_model.loads(inst.get("network_info")),
                "password": sysmeta.get(guest_db.PASSWORD_KEY) or ""}

    def instance_password_set(self, ctx: Any, uuid: str, password: str,
                              only_if_empty: bool = False) -> None:
        """Set the guest's (encrypted) password; "" clears it. only_if_empty: a Conflict
        when one is set already (the metadata service's POST)."""
        _inst, cell = self._instance_and_cell(uuid)
        if cell is None:
            if password:
                raise exception.Conflict(message=f"Instance {uuid} is still being "
                                                 "scheduled.")
            return
        guest_db.password_set(cell["database_connection"], uuid, password, only_if_empty)

    # -- consoles ---------------------------------------------------------------------------------
    def server_console(self, ctx: Any, uuid: str, console_type: str) -> dict:
        """A console of the server for its user: asks the compute host where the guest's
        display is, keeps a new token for it ([consoleauth] token_ttl) and answers
        {"url", "token", "expires"}."""
        if console_type != "novnc":
            raise exception.ConsoleTypeUnavailable(console_type=console_type)
        inst, cell = self._instance_and_cell(uuid)
        if cell is None or not inst.host or inst.vm_state != states.ACTIVE:
            raise exception.InstanceNotReady(instance_id=uuid)
        where = self.compute.get_vnc_console(ctx, inst.host, inst)
        token = secrets.token_urlsafe(32)
        expires = guest_db.console_token_create(
            cell["database_connection"], token, console_type, where["host"], where["port"],
            None, uuid, CONF.consoleauth.token_ttl, where["access_url_base"])
        LOG.info("console token for %s (%s:%s) valid until %s", uuid, where["host"],
                 where["port"], expires)
        return {"url": access_url(where["access_url_base"], console_type, token),
                "token": token, "expires": expires}

    def console_token_validate(self, ctx: Any, token: str) -> dict:
        """The connection a live token leads to: {"instance_uuid", "console_type",
        "host", "port", "internal_access_path", "expires"}; ConsoleTokenInvalid (404)
        when it is unknown or expired, or its instance is gone."""
        for cell in self.cells.real_cells():
            found = guest_db.console_token_get(cell["database_connection"], token)
            if found is not None:
                return found
        raise exception.ConsoleTokenInvalid(token="***")

def access_url(base: str, console_type: str, token: str) -> str:
    """The URL a user opens: noVNC reads the websocket path (with the token) from its
    ``path`` query parameter; other clients take ``token`` directly."""
    sep = "&" if urllib.parse.urlsplit(base).query else "?"
    if console_type == "novnc":
        return f"{base}{sep}path=%3Ftoken%3D{token}"
    return f"{base}{sep}token={token}"
