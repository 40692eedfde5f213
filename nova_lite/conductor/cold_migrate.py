"""Cold migration (the operator's ``migrate``), as the conductor starts it.

A resize to the server's own flavor on another host, as in Nova: a migration record of
type 'migration', the server's claim passes to it, the scheduler claims the same flavor
on a destination that is never the source (a named host, from 2.56, must exist and
still pass the filters), and the resize machinery carries it to VERIFY_RESIZE, then
confirmResize or revertResize. Quotas do not change (same flavor). Unlike a resize the
scheduling is done before answering, so "no valid host" reaches the caller as Nova's 400.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conf import CONF
from nova_lite.conductor.resize import SCHEDULE_EVENT
from nova_lite.conductor.migrations import begin_move
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import services as svc_db
from nova_lite.objects.instance import Instance

LOG = logging.getLogger(__name__)


class ColdMigrateMixin:
    api_url: str

    def _start_migrate(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                       params: dict) -> Instance:
        if not inst.host:
            raise exception.InstanceInvalidState(action=t.conflict_verb,
                                                 instance_uuid=inst.uuid, attr="host",
                                                 state=None)
        host: Optional[str] = params.get("host")
        url = cell["database_connection"]
        if host is not None:
            self._check_migrate_destination(cell, inst, host)
        # The source host carries the move: with its service down (or forced down) the
        # server would wait for it in RESIZE. Nova answers 409; evacuate is for that case.
        if not self._host_up(cell, inst.host):  # type: ignore[attr-defined]
            raise exception.SourceHostUnavailable()
        mig = mig_db.migration_create(url, {
            "instance_uuid": inst.uuid, "migration_type": "migration",
            "status": "pre-migrating", "source_compute": inst.host, "source_node": inst.node,
            "old_instance_type_id": inst.flavor.id, "new_instance_type_id": inst.flavor.id,
            "user_id": ctx.user_id, "project_id": ctx.project_id})
        sysmeta = dict(inst.get("system_metadata") or {})
        sysmeta["old_vm_state"] = inst.vm_state
        inst = begin_move(ctx, url, mig, t, SCHEDULE_EVENT, lambda: inst_db.instance_update(
            url, inst.uuid, {"task_state": t.task_state, "old_flavor": inst.flavor,
                             "new_flavor": inst.flavor, "system_metadata": sysmeta},
            expected_task_state=list(t.from_task_states), cell_name=cell["name"]))
        try:
            self._schedule_move(ctx, cell, inst, mig,  # type: ignore[attr-defined]
                                ignore_hosts=[inst.host],
                                force_hosts=[host] if host else None)
        except exception.NoValidHost:
            raise  # already aborted by _schedule_move
        except Exception as err:
            LOG.exception("cold migration of %s failed before reaching a host", inst.uuid)
            self._abort_move(ctx, cell, inst.uuid, mig,  # type: ignore[attr-defined]
                             f"Migration failed: {err}", SCHEDULE_EVENT)
            raise
        return inst_db.instance_get(url, inst.uuid, cell["name"])

    def _check_migrate_destination(self, cell: dict, inst: Instance, host: str) -> None:
        """Nova's checks of a named destination, before anything changes."""
        if host == inst.host:
            raise exception.CannotMigrateToSameHost()
        nodes = svc_db.compute_node_list(cell["database_connection"],
                                         CONF.service_down_time, cell["name"])
        if not any(n.host == host for n in nodes):
            raise exception.ComputeHostNotFound(host=host)
