"""Reclaiming soft-deleted servers ([DEFAULT] reclaim_instance_interval > 0): once the
interval has passed since the delete, the host deletes them for good, which frees their
claims."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)


class ReclaimMixin:
    host: str
    conductor: Any

    def reclaim_queued_deletes(self, ctx: Any) -> None:
        interval = CONF.reclaim_instance_interval
        if interval <= 0:
            return
        now = datetime.utcnow()
        for inst in self.conductor.instance_list_by_host(ctx, self.host):
            if inst.vm_state != states.SOFT_DELETED or inst.task_state is not None:
                continue
            since = inst.deleted_at or inst.updated_at or inst.created_at
            if since is not None and (now - since.replace(tzinfo=None)).total_seconds() \
                    < interval:
                continue
            LOG.info("reclaiming soft-deleted instance %s", inst.uuid)
            try:
                self.conductor.server_action(ctx, inst.uuid, "force_delete", {})
            except exception.NovaLiteException as err:
                LOG.info("reclaim of %s skipped: %s", inst.uuid, err.format_message())
