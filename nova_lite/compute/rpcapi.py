"""Client side of the compute RPC API; every message goes to one host's topic.

API version history:
  1.0 - initial version
  1.1 - get_vnc_console
  1.2 - external_instance_event, attach_interface, detach_interface
  1.3 - set_admin_password, get_diagnostics (calls)
  1.4 - rebuild_instance; resize_instance, finish_resize, confirm_resize, revert_resize,
        finish_revert_resize, remove_guest
  1.5 - get_host_uptime (call)
  1.6 - live_migration, pre_live_migration (call), post_live_migration_at_destination,
        rollback_live_migration_at_destination, live_migration_abort,
        live_migration_force_complete; evacuate_instance
  1.7 - attach_volume (call), detach_volume
  1.8 - swap_volume (call)
  1.9 - build_and_run_instance(block_device_mapping)
  1.10 - rebuild_instance(reimage_image_id)
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from nova_lite import rpc
from nova_lite.conf import CONF
from nova_lite.context import RequestContext
from nova_lite.objects.block_device import BlockDeviceMappingList

TOPIC = "compute"
VERSION = "1.10"
UPTIME_TIMEOUT = 10


class ComputeAPI:
    def __init__(self, transport_url_of: Optional[Callable[[str], Optional[str]]] = None
                 ) -> None:
        """``transport_url_of(host)``: the message bus of the host's cell (the super
        conductor reaches each cell's computes on their cell's transport, as mapped by
        cell_v2); None, or no function: this process's own bus."""
        self._transport_url_of = transport_url_of
        self._clients: dict[Optional[str], Any] = {}
        self.client = self._client_on(None)

    def _client_on(self, url: Optional[str]) -> Any:
        client = self._clients.get(url)
        if client is None:
            client = self._clients[url] = rpc.get_client(
                TOPIC, VERSION, version_cap=VERSION, timeout=CONF.rpc_response_timeout,
                transport=rpc.get_transport_for(url))
        return client

    def _client(self, host: str) -> Any:
        if self._transport_url_of is None:
            return self.client
        return self._client_on(self._transport_url_of(host))

    def _prepare(self, host: str) -> Any:
        return self._client(host).prepare(server=host)

    def build_and_run_instance(self, ctx: RequestContext, host: str, instance: Any,
                               block_device_mapping: Optional[list] = None) -> None:
        """``block_device_mapping``: the server's mappings as created with it (so the
        host need not ask for them); None: the host reads them."""
        if block_device_mapping is None:
            self._prepare(host).cast(ctx, "build_and_run_instance", instance=instance)
            return
        self._client(host).prepare(server=host, version="1.9").cast(
            ctx, "build_and_run_instance", instance=instance,
            block_device_mapping=BlockDeviceMappingList.of(block_device_mapping))

    def terminate_instance(self, ctx: RequestContext, host: str, instance: Any) -> None:
        self._prepare(host).cast(ctx, "terminate_instance", instance=instance)

    def run_action(self, ctx: RequestContext, host: str, instance: Any, action: str,
                   params: Optional[dict] = None) -> None:
        """Carry out a lifecycle transition (see compute.states) on the hypervisor."""
        self._prepare(host).cast(ctx, "run_action", instance=instance, action=action,
                                 params=params or {})

    def get_console_output(self, ctx: RequestContext, host: str, instance: Any,
                           length: Optional[int]) -> str:
        return self._prepare(host).call(ctx, "get_console_output", instance=instance,
                                        length=length)

    def get_host_uptime(self, ctx: RequestContext, host: str) -> str:
        """A quick question: a host that does not answer in UPTIME_TIMEOUT is down."""
        return self._client(host).prepare(server=host, version="1.5", timeout=UPTIME_TIMEOUT).call(
            ctx, "get_host_uptime")

    def get_vnc_console(self, ctx: RequestContext, host: str, instance: Any) -> dict:
        """{"host", "port", "access_url_base"} of the guest's VNC server."""
        return self._client(host).prepare(server=host, version="1.1").call(
            ctx, "get_vnc_console", instance=instance)

    # -- networking ---------------------------------------------------------------------
    def external_instance_event(self, ctx: RequestContext, host: str, events: list) -> None:
        """Events for instances on ``host``: [{"name", "server_uuid", "tag", "status"}]."""
        self._prepare(host).cast(ctx, "external_instance_event", events=events)

    def attach_interface(self, ctx: RequestContext, host: str, instance: Any,
                         network_id: Optional[str], port_id: Optional[str],
                         fixed_ip: Optional[str], tag: Optional[str] = None) -> dict:
        """Create or bind a port and plug it into the guest; its VIF."""
        return self._prepare(host).call(ctx, "attach_interface", instance=instance,
                                        network_id=network_id, port_id=port_id,
                                        fixed_ip=fixed_ip, tag=tag)

    def detach_interface(self, ctx: RequestContext, host: str, instance: Any,
                         port_id: str) -> None:
        self._prepare(host).cast(ctx, "detach_interface", instance=instance, port_id=port_id)

    def set_admin_password(self, ctx: RequestContext, host: str, instance: Any,
                           password: str) -> None:
        """Set the guest's password and wait: 409 errors come back to the caller."""
        self._client(host).prepare(server=host, version="1.3").call(
            ctx, "set_admin_password", instance=instance, password=password)

    def get_diagnostics(self, ctx: RequestContext, host: str, instance: Any) -> dict:
        return self._client(host).prepare(server=host, version="1.3").call(
            ctx, "get_diagnostics", instance=instance)

    # -- rebuild ------------------------------------------------------------------------
    def rebuild_instance(self, ctx: RequestContext, host: str, instance: Any,
                         orig_vm_state: str, preserve_ephemeral: bool = False,
                         reimage_image_id: Optional[str] = None) -> None:
        """Re-create the guest from instance.image_ref; ends in orig_vm_state's kind
        (stopped stays stopped). ``reimage_image_id``: first write that image over the
        root volume (a volume-backed server, 2.93)."""
        if not reimage_image_id:
            self._prepare(host).cast(ctx, "rebuild_instance", instance=instance,
                                     orig_vm_state=orig_vm_state,
                                     preserve_ephemeral=preserve_ephemeral)
            return
        self._client(host).prepare(server=host, version="1.10").cast(
            ctx, "rebuild_instance", instance=instance, orig_vm_state=orig_vm_state,
            preserve_ephemeral=preserve_ephemeral, reimage_image_id=reimage_image_id)

    # -- moves: each step runs on the host named by the migration ---------------------------
    def resize_instance(self, ctx: RequestContext, host: str, instance: Any,
                        migration: Any) -> None:
        """Source: power off and set the guest aside, then cast finish_resize."""
        self._prepare(host).cast(ctx, "resize_instance", instance=instance,
                                 migration=migration)

    def finish_resize(self, ctx: RequestContext, host: str, instance: Any, migration: Any,
                      disk_info: dict) -> None:
        """Destination: start the guest at its new size (VERIFY_RESIZE)."""
        self._prepare(host).cast(ctx, "finish_resize", instance=instance,
                                 migration=migration, disk_info=disk_info)

    def confirm_resize(self, ctx: RequestContext, host: str, instance: Any,
                       migration: Any) -> None:
        """Source: drop what was set aside; the source claim goes."""
        self._prepare(host).cast(ctx, "confirm_resize", instance=instance,
                                 migration=migration)

    def revert_resize(self, ctx: RequestContext, host: str, instance: Any,
                      migration: Any) -> None:
        """Destination: remove the resized guest, then cast finish_revert_resize."""
        self._prepare(host).cast(ctx, "revert_resize", instance=instance,
                                 migration=migration)

    def finish_revert_resize(self, ctx: RequestContext, host: str, instance: Any,
                             migration: Any, reason: Optional[str] = None) -> None:
        """Source: bring the guest back at its old size; ``reason`` set when a failure
        (not the user) reverts the move."""
        self._prepare(host).cast(ctx, "finish_revert_resize", instance=instance,
                                 migration=migration, reason=reason)

    def remove_guest(self, ctx: RequestContext, host: str, instance: Any) -> None:
        """Remove whatever this host keeps of the instance (a deleted server's other side
        of a move); nothing in the database."""
        self._prepare(host).cast(ctx, "remove_guest", instance=instance)

    # -- live migration -------------------------------------------------------------------
    def _v16(self, host: str) -> Any:
        return self._client(host).prepare(server=host, version="1.6")

    def live_migration(self, ctx: RequestContext, host: str, instance: Any, migration: Any,
                       block_migration: bool) -> None:
        """Source: copy the running guest to migration.dest_compute."""
        self._v16(host).cast(ctx, "live_migration", instance=instance, migration=migration,
                             block_migration=block_migration)

    def pre_live_migration(self, ctx: RequestContext, host: str, instance: Any,
                           migration: Any, block_migration: bool) -> dict:
        """Destination: make room for the incoming guest; its migrate_data."""
        return self._v16(host).call(ctx, "pre_live_migration", instance=instance,
                                    migration=migration, block_migration=block_migration)

    def post_live_migration_at_destination(self, ctx: RequestContext, host: str,
                                           instance: Any, migration: Any) -> None:
        """Destination: the copy is done; the server becomes this host's."""
        self._v16(host).cast(ctx, "post_live_migration_at_destination", instance=instance,
                             migration=migration)

    def rollback_live_migration_at_destination(self, ctx: RequestContext, host: str,
                                               instance: Any, migration: Any) -> None:
        """Destination: remove what a failed or aborted copy left here."""
        self._v16(host).cast(ctx, "rollback_live_migration_at_destination",
                             instance=instance, migration=migration)

    def live_migration_abort(self, ctx: RequestContext, host: str, instance: Any,
                             migration: Any) -> None:
        """Source: stop the running copy."""
        self._v16(host).cast(ctx, "live_migration_abort", instance=instance,
                             migration=migration)

    def live_migration_force_complete(self, ctx: RequestContext, host: str, instance: Any,
                                      migration: Any) -> None:
        """Source: finish the running copy now."""
        self._v16(host).cast(ctx, "live_migration_force_complete", instance=instance,
                             migration=migration)

    # -- evacuate ---------------------------------------------------------------------
    def evacuate_instance(self, ctx: RequestContext, host: str, instance: Any,
                          migration: Any, target_state: str,
                          admin_password: Optional[str] = None) -> None:
        """Destination: build the server of a dead host again here, ending in
        target_state (active or stopped)."""
        self._v16(host).cast(ctx, "evacuate_instance", instance=instance,
                             migration=migration, target_state=target_state,
                             admin_password=admin_password)

    # -- volumes (1.7) ------------------------------------------------------------------
    def attach_volume(self, ctx: RequestContext, host: str, instance: Any, bdm: Any) -> Any:
        """Connect the mapping's volume (its attachment reserved) to the guest; the
        mapping after (device name, connection_info)."""
        return self._client(host).prepare(server=host, version="1.7").call(
            ctx, "attach_volume", instance=instance, bdm=bdm)

    def detach_volume(self, ctx: RequestContext, host: str, instance: Any, bdm: Any) -> None:
        """Unplug the mapping's volume, delete its attachment and the mapping."""
        self._client(host).prepare(server=host, version="1.7").cast(
            ctx, "detach_volume", instance=instance, bdm=bdm)

    def swap_volume(self, ctx: RequestContext, host: str, instance: Any, bdm: Any,
                    new_volume_id: str, new_attachment_id: str) -> Any:
        """Copy the guest's disk of the mapping's volume onto the new volume (reserved
        with ``new_attachment_id``) and use that from now on; the mapping after."""
        return self._client(host).prepare(server=host, version="1.8").call(
            ctx, "swap_volume", instance=instance, bdm=bdm, new_volume_id=new_volume_id,
            new_attachment_id=new_attachment_id)
