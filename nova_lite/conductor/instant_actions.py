"""Actions done in the database alone, in any state: lock, unlock and os-resetState.

Each is recorded as an instance action with one api_<name> event, as Nova records them.
"""

from __future__ import annotations

from typing import Any

from nova_lite.compute import states
from nova_lite.db import instances as inst_db
from nova_lite.objects.instance import Instance


class InstantActionsMixin:
    def _instant(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                 values: dict) -> Instance:
        url = cell["database_connection"]
        inst_db.action_start(url, inst.uuid, t.action_record, ctx.request_id, ctx.user_id,
                             ctx.project_id)
        event = f"api_{t.event}"
        inst_db.action_event(url, inst.uuid, ctx.request_id, event, "start", None)
        inst = inst_db.instance_update(url, inst.uuid, values, cell_name=cell["name"])
        inst_db.action_event(url, inst.uuid, ctx.request_id, event, "finish", None,
                             "Success")
        inst_db.action_finish(url, inst.uuid, ctx.request_id)
        return inst

    def _start_lock(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                    params: dict) -> Instance:
        """Locked by "owner" (its project) or "admin" (anyone else), with the 2.73 reason
        in system_metadata; an owner re-locking changes nothing, as in Nova."""
        is_owner = inst.project_id == ctx.project_id
        if inst.locked and is_owner:
            return inst
        sysmeta = dict(inst.get("system_metadata") or {})
        if params.get("locked_reason"):
            sysmeta["locked_reason"] = params["locked_reason"]
        return self._instant(ctx, cell, inst, t, {
            "locked": True, "locked_by": "owner" if is_owner else "admin",
            "system_metadata": sysmeta})

    def _start_unlock(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                      params: dict) -> Instance:
        sysmeta = dict(inst.get("system_metadata") or {})
        sysmeta.pop("locked_reason", None)
        return self._instant(ctx, cell, inst, t, {"locked": False, "locked_by": None,
                                                  "system_metadata": sysmeta})

    def _start_reset_state(self, ctx: Any, cell: dict, inst: Instance,
                           t: states.Transition, params: dict) -> Instance:
        """vm_state as the operator says (active or error), task_state cleared; a move
        in progress ends where the server is (its claims settled), so nothing leaks."""
        self._settle_move_on_reset(ctx, cell, inst)
        sysmeta = dict(inst.get("system_metadata") or {})
        sysmeta.pop("old_vm_state", None)
        return self._instant(ctx, cell, inst, t, {
            "vm_state": params["state"], "task_state": None, "old_flavor": None,
            "new_flavor": None, "system_metadata": sysmeta, "vcpus": inst.flavor.vcpus,
            "memory_mb": inst.flavor.memory_mb})
