"""The compute host's side of networking: ports for its instances, plugged into guests.

The host allocates (creates or binds) ports with its own [neutron] credentials when it
builds an instance, keeps the instance's network info cache current through the
conductor, releases the ports when the instance goes, and receives Neutron's external
events (os-server-external-events, routed here by the conductor).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from nova_lite import exception
from nova_lite.compute.instance_events import InstanceEvents
from nova_lite.conf import CONF
from nova_lite.network import api as network_api
from nova_lite.network import model

LOG = logging.getLogger(__name__)

VIF_PLUGGED = "network-vif-plugged"
NETWORK_CHANGED = "network-changed"
VIF_DELETED = "network-vif-deleted"
POWER_UPDATE = "power-update"
VOLUME_EXTENDED = "volume-extended"


def network_request(inst: Any) -> dict:
    text = inst.get("network_request")
    return json.loads(text) if text else {"networks": "auto"}


class NetworkingMixin:
    """Mixed into ComputeManager (which provides host, conductor, driver, _lock)."""

    host: str
    conductor: Any
    driver: Any

    def _init_networking(self) -> None:
        self.network_api = network_api.get_network_api(CONF)
        self.events = InstanceEvents(CONF.vif_plugging_is_fatal)
        self.driver.virtapi = self.events

    # -- build and delete ---------------------------------------------------------------------
    def _allocate_network(self, ctx: Any, inst: Any) -> list:
        """Ports for a new instance; the cache is saved before the guest is created, so
        the API, metadata and config drive see the addresses at once."""
        if not self.network_api.enabled:
            return []
        nw_info = self.network_api.allocate_for_instance(
            inst.uuid, inst.project_id, self.host, inst.get("availability_zone") or "nova",
            network_request(inst))
        try:
            self.conductor.instance_update(ctx, inst.uuid,
                                           {"network_info": model.dumps(nw_info)})
        except Exception:
            self.network_api.deallocate_for_instance(inst.uuid, nw_info)
            raise
        if nw_info:
            LOG.info("instance %s: ports %s bound to %s", inst.uuid,
                     ", ".join(v["id"] for v in nw_info), self.host)
        return nw_info

    def _deallocate_network(self, ctx: Any, inst: Any) -> None:
        """Release the instance's ports (best effort: a Neutron outage must not keep a
        server from being deleted; its ports are then left to the operator)."""
        if not self.network_api.enabled:
            return
        try:
            self.network_api.deallocate_for_instance(
                inst.uuid, model.loads(inst.get("network_info")))
        except Exception:
            LOG.exception("instance %s: could not release its ports", inst.uuid)

    def _bind_ports_here(self, ctx: Any, inst: Any) -> list:
        """The instance comes to this host with the ports it has (unshelve): bind them
        here and save the cache; the VIFs to plug."""
        old = model.loads(inst.get("network_info"))
        if not self.network_api.enabled or not old:
            return old
        nw_info = self.network_api.bind_host(inst.uuid, self.host, old)
        self.conductor.instance_update(ctx, inst.uuid, {"network_info": model.dumps(nw_info)})
        return nw_info

    def _unbind_ports(self, ctx: Any, inst: Any) -> None:
        """The instance leaves this host but keeps its ports (shelve offload)."""
        if not self.network_api.enabled or not model.loads(inst.get("network_info")):
            return
        try:
            self.network_api.unbind_host(inst.uuid)
        except Exception:
            LOG.exception("instance %s: could not unbind its ports from %s", inst.uuid,
                          self.host)

    # -- external events ---------------------------------------------------------------------
    def external_instance_event(self, ctx: Any, events: list[dict]) -> None:
        """RPC cast from the conductor: Neutron's (or another service's) events for
        instances on this host, [{"name", "server_uuid", "tag", "status"}].

        Events someone waits for are delivered first: the rest may need an instance's
        lock, which a build waiting for its network-vif-plugged (in the same batch, as
        Neutron sends them) holds until that event arrives."""
        rest = []
        for ev in events:
            uuid, name = ev["server_uuid"], ev["name"]
            tag, status = ev.get("tag") or "", ev.get("status") or "completed"
            LOG.info("instance %s: event %s %s %s", uuid, name, tag, status)
            if not self.events.deliver(uuid, name, tag, status):
                rest.append((uuid, name, tag))
        for uuid, name, tag in rest:
            try:
                if name == NETWORK_CHANGED or name == VIF_DELETED:
                    self._refresh_network_info(ctx, uuid)
                elif name == POWER_UPDATE:
                    with self._lock(uuid):  # type: ignore[attr-defined]
                        self._sync_one(ctx, uuid)  # type: ignore[attr-defined]
                elif name == VOLUME_EXTENDED:
                    self.extend_volume(ctx, uuid, tag)  # type: ignore[attr-defined]
            except exception.InstanceNotFound:
                pass
            except Exception:
                LOG.exception("instance %s: handling %s failed", uuid, name)

    def _refresh_network_info(self, ctx: Any, uuid: str) -> None:
        if not self.network_api.enabled:
            return
        with self._lock(uuid):  # type: ignore[attr-defined]
            inst = self.conductor.server_get(ctx, uuid)
            if inst.host != self.host or inst.get("network_info") is None:
                return
            old = model.loads(inst.get("network_info"))
            fresh = self.network_api.refresh_network_info(uuid, old)
            if fresh != old:
                self.conductor.instance_update(ctx, uuid, {"network_info": model.dumps(fresh)})

    # -- interface attach and detach -------------------------------------------------------------
    def attach_interface(self, ctx: Any, instance: Any, network_id: Any, port_id: Any,
                         fixed_ip: Any, tag: Any = None) -> dict:
        """RPC call: one more port, plugged into the guest; its VIF."""
        event = "compute_attach_interface"
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
            inst = self.conductor.server_get(ctx, instance.uuid)
            try:
                vif = self._attach(ctx, inst, network_id, port_id, fixed_ip, tag)
            except Exception as err:
                self.conductor.action_event(ctx, inst.uuid, event, "finish", self.host,
                                            "Error", str(err))
                raise
            self.conductor.action_event(ctx, inst.uuid, event, "finish", self.host,
                                        "Success")
            return vif

    def _attach(self, ctx: Any, inst: Any, network_id: Any, port_id: Any, fixed_ip: Any,
                tag: Any) -> dict:
        from nova_lite.compute.manager import instance_spec

        vif = self.network_api.allocate_port(
            inst.uuid, inst.project_id, self.host,
            inst.get("availability_zone") or "nova", network_id, port_id, fixed_ip, tag)
        try:
            self.driver.attach_interface(instance_spec(inst), vif)
        except Exception as err:
            LOG.exception("instance %s: attaching port %s failed", inst.uuid, vif["id"])
            self.network_api.deallocate_port(inst.uuid, vif["id"], [vif])
            raise exception.InterfaceAttachFailed(instance_uuid=inst.uuid) from err
        nw_info = model.loads(inst.get("network_info")) + [vif]
        self.conductor.instance_update(ctx, inst.uuid,
                                       {"network_info": model.dumps(nw_info)})
        LOG.info("instance %s: port %s attached", inst.uuid, vif["id"])
        return vif

    def detach_interface(self, ctx: Any, instance: Any, port_id: str) -> None:
        """RPC cast: unplug a port from the guest, then delete or unbind it."""
        from nova_lite.compute.manager import instance_spec

        event = "compute_detach_interface"
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
            inst = self.conductor.server_get(ctx, instance.uuid)
            nw_info = model.loads(inst.get("network_info"))
            vif = next((v for v in nw_info if v["id"] == port_id), None)
            if vif is not None:
                try:
                    self.driver.detach_interface(instance_spec(inst), vif)
                except Exception as err:
                    LOG.exception("instance %s: unplugging port %s failed", inst.uuid,
                                  port_id)
                    self.conductor.action_event(ctx, inst.uuid, event, "finish",
                                                self.host, "Error", str(err))
                    return
            self.network_api.deallocate_port(inst.uuid, port_id, nw_info)
            self.conductor.instance_update(ctx, inst.uuid, {"network_info": model.dumps(
                [v for v in nw_info if v["id"] != port_id])})
            LOG.info("instance %s: port %s detached", inst.uuid, port_id)
            self.conductor.action_event(ctx, inst.uuid, event, "finish", self.host,
                                        "Success")
