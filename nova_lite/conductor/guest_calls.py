"""Synchronous server actions in the conductor: changePassword and diagnostics wait for
the compute host's answer, so the caller learns at once what the guest could not do."""

from __future__ import annotations

import logging
from typing import Any

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor.tasks import started_by
from nova_lite.db import instances as inst_db

LOG = logging.getLogger(__name__)


class GuestCallsMixin:
    cells: Any
    compute: Any

    def server_set_password(self, ctx: Any, uuid: str, password: str) -> None:
        """RPC call; 409 when the state forbids it or the guest cannot take it."""
        cell, inst = self.cells.cell_and_instance(uuid, "changePassword")
        url = cell["database_connection"]
        t = states.check_allowed("changePassword", inst, ctx)  # lock, then state
        if not inst.host:
            raise exception.InstanceNotReady(instance_id=uuid)
        inst = inst_db.instance_update(url, uuid, {"task_state": t.task_state},
                                       expected_task_state=list(t.from_task_states),
                                       cell_name=cell["name"],
                                       start_action=started_by(ctx, t.action_record))
        try:
            self.compute.set_admin_password(ctx, inst.host, inst, password)
        except exception.NovaLiteException:
            raise  # the compute host recorded it and cleared the task
        except Exception as err:  # host unreachable, timed out
            LOG.warning("setting the password of %s on %s failed: %s", uuid, inst.host, err)
            try:
                inst_db.instance_update(url, uuid, {"task_state": None},
                                        expected_task_state=t.task_state,
                                        cell_name=cell["name"])
            except (exception.InstanceNotFound, exception.InstanceInvalidState):
                pass
            inst_db.action_finish(url, uuid, ctx.request_id)
            raise exception.InstancePasswordSetFailed(
                instance_uuid=uuid, reason=f"compute host {inst.host} did not answer"
            ) from None

    def server_diagnostics(self, ctx: Any, uuid: str) -> dict:
        """RPC call: the driver's diagnostics (Nova's 2.48 fields); 409 without a host."""
        _cell, inst = self.cells.cell_and_instance(uuid, "get_diagnostics")
        if not inst.host:
            raise exception.InstanceNotReady(instance_id=uuid)
        return self.compute.get_diagnostics(ctx, inst.host, inst)
