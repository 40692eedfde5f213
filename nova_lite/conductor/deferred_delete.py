"""Deferred delete ([DEFAULT] reclaim_instance_interval > 0): DELETE powers the server
off and marks it SOFT_DELETED, keeping its claim; restore brings it back, forceDelete
(or the compute host's reclaim task, once the interval has passed) deletes it for good.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nova_lite.compute import states
from nova_lite.conf import CONF
from nova_lite.objects.instance import Instance


class DeferredDeleteMixin:
    def _defers_delete(self, inst: Instance) -> bool:
        """DELETE is soft when deferred delete is on and the server ran once and is idle
        (otherwise, as in Nova, it is deleted at once)."""
        return (CONF.reclaim_instance_interval > 0 and inst.launched_at is not None
                and inst.task_state is None and inst.vm_state != states.SOFT_DELETED)

    def _soft_delete(self, ctx: Any, cell: dict, inst: Instance) -> Instance:
        t = states.check_allowed("soft_delete", inst, ctx)
        return self._start_on_host(ctx, cell, inst, t, {},
                                   values={"deleted_at": datetime.utcnow()})

    def _start_restore(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                       params: dict) -> Instance:
        # No quota check: a soft-deleted server still counts (and keeps its claim).
        return self._start_on_host(ctx, cell, inst, t, params, values={"deleted_at": None})

    def _start_force_delete(self, ctx: Any, cell: dict, inst: Instance,
                            t: states.Transition, params: dict) -> Instance:
        if not inst.host or not self._host_up(cell, inst.host):
            self._local_delete(ctx, cell["database_connection"], inst)
            return inst
        return self._hard_delete(ctx, cell, inst, t)
