"""Conductor methods for a server's metadata and tags (only once it is in a cell: a
server still being scheduled is BUILDING, which neither allows)."""

from __future__ import annotations

from typing import Any

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.db import engine as db_engine
from nova_lite.db import instance_tags
from nova_lite.db import instances as inst_db

# Nova's allowed vm_states: metadata changes on idle servers in these states, tags also
# on shelved ones.
METADATA_STATES = (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED)
TAG_STATES = METADATA_STATES + ("shelved", "shelved_offloaded")


class ServerTagsMixin:
    api_url: str
    cells: Any
    quota: Any

    def _instance_url(self, uuid: str, action: str) -> str:
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            raise exception.InstanceInvalidState(action=action, instance_uuid=uuid,
                                                 attr="vm_state", state=states.BUILDING)
        return cell["database_connection"]

    def metadata_items_limit(self, ctx: Any, project_id: str) -> int:
        """How many metadata items a server of the project may hold (-1: no limit)."""
        def read(session: Any) -> int:
            return self.quota.limits(session, project_id, None)[0].get("metadata_items", -1)

        return db_engine.run_in_transaction(self.api_url, read)

    def server_metadata_update(self, ctx: Any, uuid: str, metadata: dict,
                               replace: bool = False) -> dict:
        """Merge metadata into the server's (replace: set it); the metadata after."""
        url = self._instance_url(uuid, "update metadata")
        project_id = inst_db.instance_get(url, uuid).project_id
        return instance_tags.metadata_update(
            url, uuid, METADATA_STATES, dict(metadata), replace=replace,
            max_items=self.metadata_items_limit(ctx, project_id))

    def server_metadata_delete(self, ctx: Any, uuid: str, key: str) -> None:
        url = self._instance_url(uuid, "delete metadata")
        instance_tags.metadata_update(url, uuid, METADATA_STATES, {}, delete_key=key)

    def server_tags_update(self, ctx: Any, uuid: str, add: list, remove: list,
                           replace: bool = False) -> tuple:
        """Add/remove tags (replace: set exactly ``add``); [tags after, changed?]."""
        url = self._instance_url(uuid, "update tags")
        tags, changed = instance_tags.tags_update(url, uuid, TAG_STATES, list(add),
                                                  list(remove), replace)
        return [tags, changed]

