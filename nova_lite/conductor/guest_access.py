"""Conductor methods for what reaches a guest: its metadata (for the metadata service
and config drives), its password, and console tokens.

The metadata service and compute hosts hold no database credentials: they ask here.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.db import cells as cells_db
from nova_lite.db import guest_access as guest_db
from nova_lite.db import instances as inst_db
from nova_lite.objects.instance import Instance

LOG = logging.getLogger(__name__)


class GuestAccessMixin:
    api_url: str
    cells: Any
    compute: Any

    def _instance_and_cell(self, uuid: str) -> tuple[Instance, Optional[dict]]:
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            brs = cells_db.build_request_list(self.api_url, instance_uuids=[uuid])
            if brs:
                return Instance.obj_from_primitive(brs[0]["instance"]), None
            cell = self.cells.instance_cell(uuid)
            if cell is None:
                raise exception.InstanceNotFound(instance_id=uuid)
        return inst_db.instance_get(cell["database_connection"], uuid, cell["name"]), cell

    # -- metadata ------------------------------------------------------------------------------
    def instance_metadata(self, ctx: Any, uuid: str) -> dict:
        """Everything an instance's metadata is made of: {"instance", "keypairs",
        "network_info", "password"}."""
        inst, _cell = self._instance_and_cell(uuid)
        sysmeta = inst.get("system_metadata") or {}
        return {"instance": inst, "keypairs": [], "network_info": [],
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

    def _forget_guest_access(self, url: str, uuid: str) -> None:
        """At delete: the console tokens of the instance go too."""
        guest_db.console_tokens_delete(url, uuid)
