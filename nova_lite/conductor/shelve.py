"""Unshelve in the conductor: checks the caller's choices (2.77 availability zone, 2.91
host) at once, then, for an offloaded server, schedules it again through the same
scheduler and claim path as a build, off the RPC thread.

A crash of the conductor between claiming a host and handing the server to it is
settled at the next start (``reconcile_unshelves``): the unshelve is sent again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Optional

from nova_lite import context as nl_context
from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor.tasks import started_by
from nova_lite.conf import CONF
from nova_lite.db import cells as cells_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import services as svc_db
from nova_lite.objects.request_spec import RequestSpec

LOG = logging.getLogger(__name__)

DEFAULT_AZ = "nova"
EVENT = "conductor_unshelve_instance"
_UNSET = object()


class ShelveTaskMixin:
    api_url: str
    cells: Any
    compute: Any
    scheduler: Any
    _build_pool: Any

    def server_unshelve(self, ctx: Any, uuid: str, params: dict) -> None:
        """RPC call. params: ``availability_zone`` (present = chosen, None = unpin) and
        ``host``; 409 when the state forbids it, 400 for an unknown host or zone."""
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            raise exception.InstanceInvalidState(action="unshelve", instance_uuid=uuid,
                                                 attr="vm_state", state=states.BUILDING)
        url = cell["database_connection"]
        inst = inst_db.instance_get(url, uuid, cell["name"])
        t = states.check_allowed("unshelve", inst, ctx)  # lock, then state
        az_passed = "availability_zone" in params
        host = params.get("host")
        if (az_passed or host) and inst.vm_state != states.SHELVED_OFFLOADED:
            raise exception.UnshelveInstanceInvalidState(instance_uuid=uuid,
                                                         state=inst.vm_state)
        if host and not self._compute_host_exists(host):
            raise exception.ComputeHostNotFound(host=host)
        az = params.get("availability_zone")
        if az_passed and az is not None and az != DEFAULT_AZ:
            raise exception.Invalid("The requested availability zone is not available")
        inst = inst_db.instance_update(url, uuid, {"task_state": t.task_state},
                                       expected_task_state=list(t.from_task_states),
                                       cell_name=cell["name"],
                                       start_action=started_by(ctx, t.action_record))
        if inst.vm_state == states.SHELVED:
            self.compute.run_action(ctx, inst.host, inst, t.name, {})
            return
        self._build_pool.submit(self._unshelve_offloaded_logged, ctx, uuid,
                                az if az_passed else _UNSET, host)

    def _compute_host_exists(self, host: str) -> bool:
        return any(svc_db.service_list(c["database_connection"], CONF.service_down_time,
                                       c["name"], "nova-compute", host)
                   for c in self.cells.real_cells())

    def _unshelve_offloaded_logged(self, ctx: Any, uuid: str, az: Any,
                                   host: Optional[str]) -> None:
        ctx.update_store()
        try:
            self._unshelve_offloaded(ctx, uuid, az, host)
        except Exception:
            LOG.exception("unshelve of %s failed", uuid)

    def _unshelve_offloaded(self, ctx: Any, uuid: str, az: Any, host: Optional[str]) -> None:
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            return
        url = cell["database_connection"]
        inst_db.action_event(url, uuid, ctx.request_id, EVENT, "start", None)
        spec = RequestSpec.obj_from_primitive(cells_db.request_spec_get(self.api_url, uuid))
        spec.instance_uuid = uuid
        spec.num_instances = 1
        spec.ignore_hosts = []
        spec.force_hosts = [host] if host else []
        values: dict = {}
        if az is not _UNSET:
            spec.availability_zone = az
            cells_db.request_spec_save(self.api_url, uuid, spec.obj_to_primitive())
            values["availability_zone"] = az or DEFAULT_AZ
        try:
            (sel,) = self.scheduler.select_destinations(ctx, spec, [uuid])
        except Exception as err:
            message = (err.format_message() if isinstance(err, exception.NoValidHost)
                       else f"Scheduling failed: {err}")
            LOG.warning("unshelve of %s: %s", uuid, message)
            placement_db.release(self.api_url, uuid)
            self._unshelve_not_scheduled(url, cell["name"], ctx, uuid, message)
            return
        values.update(host=sel.host, node=sel.nodename)
        try:
            inst = inst_db.instance_update(url, uuid, values,
                                           expected_task_state=states.UNSHELVING,
                                           cell_name=cell["name"])
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("%s was deleted while it was scheduled; releasing its claim", uuid)
            placement_db.release(self.api_url, uuid)
            return
        inst_db.action_event(url, uuid, ctx.request_id, EVENT, "finish", None, "Success")
        self.compute.run_action(ctx, sel.host, inst, "unshelve", {})

    def _unshelve_not_scheduled(self, url: str, cell_name: str, ctx: Any, uuid: str,
                                message: str) -> None:
        """No host: the server stays SHELVED_OFFLOADED with a fault saying why."""
        try:
            inst_db.instance_update(url, uuid, {"task_state": None},
                                    expected_task_state=states.UNSHELVING,
                                    cell_name=cell_name)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            return
        inst_db.fault_create(url, uuid, 500, message, None, None)
        inst_db.action_event(url, uuid, ctx.request_id, EVENT, "finish", None, "Error",
                             message)
        inst_db.action_finish(url, uuid, ctx.request_id)

    def reconcile_unshelves(self) -> int:
        """At start-up: unshelves of offloaded servers a crash stopped between the
        request and the compute host are sent again (a claim made before the crash is
        simply made again: a claim is idempotent per server)."""
        cutoff = datetime.utcnow() - timedelta(seconds=CONF.conductor.build_request_retry_seconds)
        ctx = nl_context.get_admin_context()
        n = 0
        for cell in self.cells.real_cells():
            for inst in inst_db.instance_list(cell["database_connection"], cell["name"], None,
                                              {"vm_state": [states.SHELVED_OFFLOADED]}):
                changed = (inst.updated_at or inst.created_at).replace(tzinfo=None)
                if inst.task_state != states.UNSHELVING or changed >= cutoff:
                    continue
                n += 1
                if inst.host:
                    LOG.warning("re-sending unshelve of %s to %s", inst.uuid, inst.host)
                    self.compute.run_action(ctx, inst.host, inst, "unshelve", {})
                else:
                    LOG.warning("scheduling again the unshelve of %s", inst.uuid)
                    self._unshelve_offloaded_logged(ctx, inst.uuid, _UNSET, None)
        return n
