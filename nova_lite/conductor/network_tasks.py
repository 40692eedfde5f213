"""Conductor tasks around networking: routing external events to the right compute host,
and interface attach/detach. The conductor never calls Neutron: the hosts own their
ports; it only knows where each instance lives."""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.db import instances as inst_db

LOG = logging.getLogger(__name__)

# vm_states in which an interface may be attached or detached (Nova's)
INTERFACE_VM_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED)


class NetworkTaskMixin:
    """Mixed into ConductorManager (which provides cells, compute and server_get)."""

    cells: Any
    compute: Any

    def external_instance_event(self, ctx: Any, events: list[dict]) -> list[dict]:
        """Each event with its ``code``: 200 routed to the instance's host, 404 no such
        instance, 422 the instance is on no host yet (still scheduling). Events are
        sent to each host in one cast, in the order they came."""
        by_host: dict[str, list[dict]] = {}
        hosts: dict[str, Optional[str]] = {}
        out = []
        for ev in events:
            uuid = ev["server_uuid"]
            if uuid not in hosts:
                hosts[uuid] = self._instance_host(uuid)
            result = dict(ev)
            host = hosts[uuid]
            if host is None:
                result["code"], result["status"] = 404, "failed"
            elif host == "":
                result["code"], result["status"] = 422, "failed"
            else:
                result["code"] = 200
                by_host.setdefault(host, []).append(ev)
                if ev["name"] == "volume-extended":
                    self._start_extend_volume(ctx, uuid)
            out.append(result)
        for host, host_events in by_host.items():
            self.compute.external_instance_event(ctx, host, host_events)
        return out

    def _start_extend_volume(self, ctx: Any, uuid: str) -> None:
        """The extend_volume action a volume-extended event starts (as Nova's API);
        the host records its compute_extend_volume event in it."""
        cell = self.cells.instance_cell(uuid)
        if cell is not None:
            inst_db.action_start(cell["database_connection"], uuid, "extend_volume",
                                 ctx.request_id, ctx.user_id, ctx.project_id)

    def _instance_host(self, uuid: str) -> Optional[str]:
        """The instance's host, "" when it has none, None when it does not exist."""
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            try:
                self.server_get(None, uuid)  # type: ignore[attr-defined]
            except exception.InstanceNotFound:
                return None
            return ""  # a build request
        try:
            inst = inst_db.instance_get(cell["database_connection"], uuid, cell["name"])
        except exception.InstanceNotFound:
            return None
        return inst.host or ""

    def _interface_instance(self, ctx: Any, uuid: str, action: str) -> Any:
        cell, inst = self.cells.cell_and_instance(uuid, action)
        states.check_idle_on_host(action, inst, ctx, INTERFACE_VM_STATES)
        inst_db.action_start(cell["database_connection"], uuid, action, ctx.request_id,
                             ctx.user_id, ctx.project_id)
        return inst

    def server_attach_interface(self, ctx: Any, uuid: str, network_id: Optional[str],
                                port_id: Optional[str], fixed_ip: Optional[str],
                                tag: Optional[str] = None) -> dict:
        inst = self._interface_instance(ctx, uuid, "attach_interface")
        return self.compute.attach_interface(ctx, inst.host, inst, network_id, port_id,
                                             fixed_ip, tag)

    def server_detach_interface(self, ctx: Any, uuid: str, port_id: str) -> None:
        inst = self._interface_instance(ctx, uuid, "detach_interface")
        self.compute.detach_interface(ctx, inst.host, inst, port_id)
