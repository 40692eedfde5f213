"""The compute service's RPC endpoint: drives the virt driver for instances on this host.

All bookkeeping goes through the conductor; the driver sees only plain values. Every
operation takes the instance's lock, so a delete that arrives during a build waits for
the build to notice (its state update is refused) and then cleans up.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import traceback
from datetime import datetime
from typing import Any, Optional

import oslo_messaging as messaging
import os_traits

from nova_lite import context as nl_context
from nova_lite import exception, rpc
from nova_lite.compute import guest_access, networking, states
from nova_lite.compute.boot_volumes import BootVolumesMixin
from nova_lite.compute.guest_calls import GuestCallsMixin
from nova_lite.compute.rescue import RescueMixin
from nova_lite.compute.shelve import ShelveMixin
from nova_lite.compute.snapshot import SnapshotMixin
from nova_lite.compute.volumes import VolumesMixin
from nova_lite.compute.deferred_delete import ReclaimMixin
from nova_lite.compute.evacuate import EvacuateMixin
from nova_lite.compute.live_migration import LiveMigrationMixin
from nova_lite.compute.move_volumes import MoveVolumesMixin
from nova_lite.compute.rebuild import RebuildMixin
from nova_lite.compute.reimage import ReimageMixin
from nova_lite.compute.resize import ResizeMixin
from nova_lite.conductor import rpcapi as conductor_rpcapi
from nova_lite.conf import CONF
from nova_lite.image import api as image_api
from nova_lite.network import model as net_model
from nova_lite.objects.block_device import volume_backed
from nova_lite.objects.instance import Instance
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

BINARY = "nova-compute"

# What a guest's power state means for a server that is idle (no task_state).
_VM_STATE_FOR_POWER = {
    virt_driver.RUNNING: states.ACTIVE,
    virt_driver.SHUTDOWN: states.STOPPED,
    virt_driver.CRASHED: states.STOPPED,
    virt_driver.NOSTATE: states.STOPPED,
    virt_driver.PAUSED: states.PAUSED,
    virt_driver.SUSPENDED: states.SUSPENDED,
}
# vm_states that follow the hypervisor's power state; the others (rescued, shelved, ...)
# only record the power state.
_FOLLOWS_POWER = frozenset((states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED))


def instance_spec(inst: Instance, flavor: Any = None) -> virt_driver.InstanceSpec:
    """What the driver sees of an instance; at ``flavor``'s size when given (a move's
    old or new flavor)."""
    size = flavor if flavor is not None else inst
    return virt_driver.InstanceSpec(
        uuid=inst.uuid, name=inst.name, display_name=inst.display_name or "",
        vcpus=size.vcpus, memory_mb=size.memory_mb, root_gb=size.root_gb,
        image_id=inst.image_ref or "", extra={"metadata": dict(inst.get("metadata") or {})},
        network_info=net_model.loads(inst.get("network_info")))


# Waits between attempts of a state update the conductor did not acknowledge (message
# bus or conductor restarting, database unreachable): a guest that exists must not stay
# recorded as building because one message was lost.
CONDUCTOR_RETRY_DELAYS = (1, 2, 4, 8, 15, 15, 15, 15, 15, 15)


def conductor_retry(fn: Any, *args: Any, retry_kwargs: Optional[dict] = None,
                    **kwargs: Any) -> Any:
    """Call the conductor, again after a time-out or a 503 (``retry_kwargs`` replace
    arguments on the later attempts: the first may have been applied)."""
    for delay in CONDUCTOR_RETRY_DELAYS:
        try:
            return fn(*args, **kwargs)
        except (messaging.MessagingTimeout, exception.ServiceUnavailable,
                *rpc.BUS_UNREACHABLE) as err:
            LOG.warning("%s did not go through (%s); again in %d s", fn.__name__,
                        err.__class__.__name__, delay)
            time.sleep(delay)
            kwargs.update(retry_kwargs or {})
    return fn(*args, **kwargs)


# Passes of a many-node report between two that send every node, changed or not.
FULL_REPORT_EVERY = 10


def _local_root_gb(held: Any, volume_roots: frozenset = frozenset()) -> int:
    """The local disk an instance (or a moving server's flavor) holds: none for the
    root of a server booted from a volume (its image_ref is "", or its image mapped
    its root to a volume: ``volume_roots``)."""
    if isinstance(held, Instance) and (held.get("image_ref") == ""
                                       or held.uuid in volume_roots):
        return 0
    return held.root_gb


def _local_disks_gb(held: Any) -> int:
    """The local ephemeral and swap disks an instance (or a flavor) holds besides its
    root, in GB as its DISK_GB claim counts them (swap MB rounded up)."""
    flavor = held.get("flavor") if isinstance(held, Instance) else held
    swap_mb = int(getattr(flavor, "swap", 0) or 0)
    return int(getattr(flavor, "ephemeral_gb", 0) or 0) + (swap_mb + 1023) // 1024


def _held(inst: Instance, flavor: Any) -> Any:
    """What a moving server holds at one end: ``flavor``, without its root disk when
    the server was booted from a volume."""
    if inst.get("image_ref") != "":
        return flavor
    flavor = flavor.obj_clone()
    flavor.root_gb = 0
    return flavor


def _maybe_volume_root(inst: Instance) -> bool:
    """Whether the image a server booted from defined its disks (a snapshot of a
    volume-backed server), so only its mappings say where its root is."""
    return bool(inst.get("image_ref")) and str(
        (inst.get("system_metadata") or {}).get("image_bdm_v2", "")).lower() == "true"


def _node_of(node: Optional[str], nodes: list[str]) -> str:
    """The node of this host a server counts on: its own, or the first (a record
    without one, or naming a node this host no longer has, still counts somewhere)."""
    return node if node in nodes else nodes[0]


class ComputeManager(networking.NetworkingMixin, ShelveMixin, SnapshotMixin, RescueMixin,
                     GuestCallsMixin, ResizeMixin, LiveMigrationMixin, EvacuateMixin,
                     RebuildMixin, ReclaimMixin, VolumesMixin, BootVolumesMixin,
                     MoveVolumesMixin, ReimageMixin):
    """RPC API version 1.10 (see rpcapi.py)."""

    target_version = "1.10"

    def __init__(self, host: str, conductor: Any = None, driver: Any = None) -> None:
        self.host = host
        self.conductor = conductor or conductor_rpcapi.ConductorAPI()
        self.image_api = image_api.get_image_api(CONF)
        self.driver = driver or virt_driver.load_driver(
            CONF.compute_driver, host, image_api.HostImageSource(self.image_api), CONF)
        self.service_id: Optional[int] = None
        # The many-node report last taken by the conductor (see _report_nodes).
        self._reported: dict[str, dict] = {}
        self._reported_service: Optional[int] = None
        self._report_passes = 0
        self._locks: dict[str, threading.Lock] = collections.defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._init_networking()

    def _lock(self, uuid: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[uuid]

    # -- start-up ---------------------------------------------------------------------------
    def init_host(self) -> None:
        """Connect the driver, then make the database and the hypervisor agree again
        after whatever stopped this service (crash, restart, host reboot)."""
        self.driver.init_host(self._lifecycle_event)
        ctx = nl_context.get_admin_context()
        # first: servers evacuated while this host was down are not its any more
        away = self._settle_evacuations(ctx)
        moving = self._recover_moves(ctx)  # then: it may move servers back here
        instances = [i for i in self.conductor.instance_list_by_host(ctx, self.host)
                     if i.uuid not in away]
        known = {i.uuid for i in instances} | moving
        for inst in instances:
            try:
                self._reconcile(ctx, inst)
            except Exception:
                LOG.exception("could not reconcile instance %s", inst.uuid)
        try:
            self._reconcile_volumes(ctx, instances)
        except Exception:
            LOG.exception("could not reconcile the volume attachments of %s", self.host)
        for uuid in set(self.driver.list_instance_uuids()) - known:
            LOG.warning("destroying guest %s: no live instance record for it", uuid)
            self.driver.destroy(virt_driver.InstanceSpec(uuid, f"instance-{uuid}", "", 0, 0,
                                                         0, ""))

    def _reconcile(self, ctx: Any, inst: Instance) -> None:
        if inst.task_state == states.DELETING:
            LOG.info("finishing interrupted delete of %s", inst.uuid)
            self._terminate(ctx, inst)
        elif inst.vm_state == states.BUILDING:
            LOG.warning("build of %s was interrupted; marking it ERROR", inst.uuid)
            self.driver.destroy(instance_spec(inst))
            self._deallocate_network(ctx, inst)
            self._release_volumes(ctx, inst, failed_build=True)
            self._fail(ctx, inst, exception.NovaLiteException(
                "Build interrupted by a restart of nova-compute on " + self.host),
                vm_state=states.ERROR, release=True)
        elif (t := states.interrupted(inst.vm_state, inst.task_state)) and t.on_restart:
            LOG.warning("%s of %s was interrupted (task_state %s); settling it",
                        t.name, inst.uuid, inst.task_state)
            getattr(self, t.on_restart)(ctx, inst)
        elif inst.task_state is not None:
            LOG.warning("clearing task_state %s of %s left by a restart",
                        inst.task_state, inst.uuid)
            self.conductor.instance_update(ctx, inst.uuid, {"task_state": None})
            self._sync_one(ctx, inst.uuid)
        else:
            self._sync_one(ctx, inst.uuid)

    # -- build / delete -----------------------------------------------------------------------
    def build_and_run_instance(self, ctx: Any, instance: Instance,
                               block_device_mapping: Any = None) -> None:
        """``block_device_mapping``: the server's mappings as the conductor created them
        (None from an older conductor: read here)."""
        bdms = None if block_device_mapping is None else block_device_mapping.objects
        with self._lock(instance.uuid):
            self._build(ctx, instance, bdms)

    def _build(self, ctx: Any, inst: Instance, bdms: Optional[list] = None) -> None:
        event = f"compute_{states.get('build').event}"
        try:
            # Only a server still waiting for its host: a build message delivered twice
            # (re-sent by the conductor, or by the message bus) must not spawn it again.
            # The cast carries the record as the conductor created it: no need to read
            # it back for one changed value.
            conductor_retry(
                self.conductor.instance_update, ctx, inst.uuid,
                {"task_state": states.SPAWNING}, expected_task_state=[states.SCHEDULING],
                event={"event": event, "phase": "start", "host": self.host}, reply=False,
                retry_kwargs={"expected_task_state": [states.SCHEDULING, states.SPAWNING]})
            inst.task_state = states.SPAWNING
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s was deleted before its build started", inst.uuid)
            return
        started = time.monotonic()
        try:
            image_meta = self.image_api.show(None, inst.image_ref) if inst.image_ref else {}
            inst.network_info = net_model.dumps(self._allocate_network(ctx, inst))
            spec = instance_spec(inst)
            drive = guest_access.config_drive_files(self.conductor, ctx, inst, image_meta,
                                                    CONF)
            if drive is not None:
                spec.extra["config_drive"] = drive
            devices = self._prep_block_devices(ctx, inst, spec, bdms)
            if devices:
                spec.extra["block_devices"] = devices
                if not inst.image_ref:  # booted from a volume: its image's properties
                    image_meta = self._root_volume_image_meta(ctx, devices)
            self.driver.spawn(spec, image_meta)
            LOG.debug("instance %s: driver spawn done", inst.uuid)
            self._complete_attachments(ctx, devices)
        except Exception as err:
            LOG.exception("build of %s failed", inst.uuid)
            try:
                self.driver.destroy(instance_spec(inst))
            except Exception:
                LOG.exception("clean-up after failed build of %s failed", inst.uuid)
            self._deallocate_network(ctx, inst)
            self._release_volumes(ctx, inst, failed_build=True)
            self._fail(ctx, inst, err, vm_state=states.ERROR, release=True, event=event,
                       expected_task_state=states.SPAWNING)
            return
        try:
            conductor_retry(
                self.conductor.instance_update,
                ctx, inst.uuid, {"vm_state": states.ACTIVE, "task_state": None,
                                 "power_state": self.driver.get_power_state(
                                     instance_spec(inst)),
                                 "launched_at": datetime.utcnow(),
                                 **({"config_drive": "True"} if drive is not None else {})},
                expected_task_state=states.SPAWNING,
                event={"event": event, "phase": "finish", "host": self.host,
                       "result": "Success"}, reply=False)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s is being deleted; its build stops here", inst.uuid)
            return
        LOG.info("instance %s: spawned on %s in %.2f s", inst.uuid, self.host,
                 time.monotonic() - started)

    def terminate_instance(self, ctx: Any, instance: Instance) -> None:
        self.events.forget(instance.uuid)  # a build waiting for its VIFs gives up now
        with self._lock(instance.uuid):
            self._terminate(ctx, instance)

    def _terminate(self, ctx: Any, inst: Instance) -> None:
        event = f"compute_{states.get('delete').event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        try:
            self.driver.destroy(instance_spec(inst))
        except Exception as err:
            LOG.exception("destroy of %s failed", inst.uuid)
            self._fail(ctx, inst, err, vm_state=states.ERROR, event=event)
            return
        LOG.info("instance %s: destroyed on %s", inst.uuid, self.host)
        self._deallocate_network(ctx, inst)
        self._release_volumes(ctx, inst, failed_build=False)
        self.conductor.instance_destroy(ctx, inst.uuid, event=event, host=self.host)

    # -- lifecycle actions ------------------------------------------------------------------------
    def run_action(self, ctx: Any, instance: Instance, action: str, params: dict) -> None:
        t = states.get(action)
        event = f"compute_{t.event}"
        if t.compute_method:  # more than one driver call: the action's own method
            with self._lock(instance.uuid):
                getattr(self, t.compute_method)(ctx, instance, t, params)
            return
        with self._lock(instance.uuid):
            self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
            spec = instance_spec(instance)
            args = [getattr(getattr(CONF, a.group), a.name)
                    if isinstance(a, states.ConfValue) else a for a in t.driver_args]
            try:
                getattr(self.driver, t.driver_call)(spec, *args)
            except Exception as err:
                LOG.exception("%s of %s failed", action, instance.uuid)
                self._fail(ctx, instance, err, vm_state=None, event=event,
                           expected_task_state=t.task_state)
                return
            values = {"task_state": None, "power_state": self.driver.get_power_state(spec)}
            if t.to_vm_state:
                values["vm_state"] = t.to_vm_state
            try:
                self.conductor.instance_update(
                    ctx, instance.uuid, values,
                    expected_task_state=t.task_state,
                    event={"event": event, "phase": "finish", "host": self.host,
                           "result": "Success"}, reply=False)
            except (exception.InstanceNotFound, exception.InstanceInvalidState):
                LOG.info("instance %s changed during %s; leaving it", instance.uuid, action)
                return
            LOG.info("instance %s: %s done", instance.uuid, action)

    def get_console_output(self, ctx: Any, instance: Instance, length: Optional[int]) -> str:
        output = self.driver.get_console_output(instance_spec(instance))
        if length is not None:
            lines = output.splitlines(keepends=True)
            output = "".join(lines[-length:]) if length > 0 else ""
        return output

    def get_host_uptime(self, ctx: Any) -> str:
        """RPC call: the hypervisor host's uptime line (501 where the driver has none)."""
        try:
            return self.driver.get_host_uptime()
        except NotImplementedError:
            raise exception.NotImplementedByDriver() from None

    def get_vnc_console(self, ctx: Any, instance: Instance) -> dict:
        """Where nova-lite-novncproxy reaches the guest's display, and the URL base users
        get (both this host's [vnc] settings)."""
        return guest_access.vnc_console(self.driver, instance_spec(instance), instance.uuid,
                                        CONF)

    # -- failures -----------------------------------------------------------------------------
    def _fail(self, ctx: Any, inst: Instance, err: BaseException, vm_state: Optional[str],
              release: bool = False, event: Optional[str] = None,
              expected_task_state: Any = "__any__") -> None:
        """Record why an operation failed: fault, action event, state; never raises."""
        msg = (err.format_message() if isinstance(err, exception.NovaLiteException)
               else str(err)) or err.__class__.__name__
        details = "".join(traceback.format_exception(err))
        try:
            conductor_retry(self.conductor.instance_fault_create, ctx, inst.uuid,
                            getattr(err, "code", 500), msg, details, self.host)
            values: dict = {"task_state": None}
            if vm_state:
                values["vm_state"] = vm_state
            if release:  # as Nova does: a server holding no claim is on no host
                values.update(host=None, node=None)
            conductor_retry(self.conductor.instance_update, ctx, inst.uuid, values,
                            expected_task_state=expected_task_state)
            if release:
                conductor_retry(self.conductor.release_resources, ctx, inst.uuid)
            if event:  # last: the claim goes even if the event cannot be recorded
                self.conductor.action_event(ctx, inst.uuid, event, "finish", self.host,
                                            "Error", details)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed while recording its failure", inst.uuid)
        except Exception:
            LOG.exception("could not record the failure of %s", inst.uuid)

    # -- periodic tasks -------------------------------------------------------------------------
    def update_available_resource(self, ctx: Any) -> None:
        """Report the size and usage of each node of this host (one, or many when the
        driver manages many); creates their compute nodes on first run."""
        started = time.monotonic()
        nodes = self.driver.get_available_resources()
        instances = self.conductor.instance_list_by_host(ctx, self.host)
        names = [n["hypervisor_hostname"] for n in nodes]
        sizes = self._sizes_by_node(ctx, instances, names)
        volume_roots = self._volume_roots(ctx, instances)
        running = collections.Counter(_node_of(i.get("node"), names) for i in instances)
        reports = []
        for res in nodes:
            name = res["hypervisor_hostname"]
            held = sizes.get(name, [])
            res = dict(res, traits=sorted(set(res.get("traits") or ())
                                          | {os_traits.COMPUTE_NODE}))
            res.update({
                "host_ip": CONF.my_ip,
                "vcpus_used": sum(f.vcpus for f in held),
                "memory_mb_used": sum(f.memory_mb for f in held),
                "local_gb_used": sum(_local_root_gb(f, volume_roots) + _local_disks_gb(f)
                                     for f in held),
                "running_vms": running.get(name, 0),
                "cpu_allocation_ratio": CONF.cpu_allocation_ratio,
                "ram_allocation_ratio": CONF.ram_allocation_ratio,
                "disk_allocation_ratio": CONF.disk_allocation_ratio,
                "reserved_host_memory_mb": CONF.reserved_host_memory_mb,
                "reserved_host_disk_mb": CONF.reserved_host_disk_mb,
            })
            reports.append(res)
        if self.service_id is None:
            return
        if len(reports) == 1:
            self.conductor.compute_node_update(ctx, self.host, self.service_id, reports[0])
            return
        self._report_nodes(ctx, reports, started)

    def _volume_roots(self, ctx: Any, instances: list) -> frozenset:
        """Servers here whose image mapped their root to a volume (asked of the
        conductor only for servers booted from such images)."""
        maybe = [i.uuid for i in instances if _maybe_volume_root(i)]
        if not maybe:
            return frozenset()
        found = self.conductor.bdm_list_by_instances(ctx, maybe)
        return frozenset(u for u, bdms in found.items() if volume_backed(bdms))

    def _report_nodes(self, ctx: Any, reports: list[dict], started: float) -> None:
        """Send the nodes whose report changed since the conductor last took it; all of
        them on the first pass of a service record and every FULL_REPORT_EVERY passes
        (so rows an operator removed meanwhile come back)."""
        self._report_passes += 1
        last = self._reported
        if (self._reported_service != self.service_id
                or self._report_passes % FULL_REPORT_EVERY == 1):
            last = {}
        send = [r for r in reports if last.get(r["hypervisor_hostname"]) != r]
        if send:
            self.conductor.compute_nodes_update(ctx, self.host, self.service_id, send)
        self._reported = {r["hypervisor_hostname"]: r for r in reports}
        self._reported_service = self.service_id
        LOG.info("reported %d nodes (%d changed) in %.3f s", len(reports), len(send),
                 time.monotonic() - started)

    def _sizes_held_here(self, ctx: Any, instances: list) -> list:
        """What this host holds, as its claims count it (all its nodes together)."""
        return [f for held in self._sizes_by_node(ctx, instances, [self.host]).values()
                for f in held]

    def _sizes_by_node(self, ctx: Any, instances: list, nodes: list[str]
                       ) -> dict[str, list]:
        """What each node of this host holds, as its claims count it: each instance's
        flavor, except that a server on the move holds its old flavor on the source and
        its new one on the destination (both, when they are the same node)."""
        moves = {m.instance_uuid: m for m in self.conductor.migration_list(
            ctx, host=self.host, in_progress=True)}
        out: dict[str, list] = collections.defaultdict(list)
        for inst in instances:
            if inst.uuid not in moves:
                out[_node_of(inst.get("node"), nodes)].append(inst)
        for uuid, mig in moves.items():
            try:
                inst = self.conductor.server_get(ctx, uuid)
            except exception.InstanceNotFound:
                continue
            if mig.source_compute == self.host:
                out[_node_of(mig.source_node, nodes)].append(
                    _held(inst, inst.get("old_flavor") or inst.flavor))
            if mig.dest_compute == self.host:
                out[_node_of(mig.dest_node, nodes)].append(
                    _held(inst, inst.get("new_flavor") or inst.flavor))
        return out

    def sync_power_states(self, ctx: Any) -> None:
        """The database follows the hypervisor for guests nobody is operating on. Each
        guest is synced under its lock and read again there: an action that ended since
        the list was read (it holds the lock until its last update) would otherwise be
        undone from the list's old state, e.g. a soft delete turned into SHUTOFF."""
        for inst in self.conductor.instance_list_by_host(ctx, self.host):
            if not _power_synced(inst):
                continue  # not even as listed: no need for its lock and a read
            try:
                with self._lock(inst.uuid):
                    self._sync_one(ctx, inst.uuid)
            except exception.InstanceNotFound:
                continue
            except Exception:
                LOG.exception("power-state sync of %s failed", inst.uuid)

    def _sync_one(self, ctx: Any, uuid: str) -> None:
        inst = self.conductor.server_get(ctx, uuid)
        if not _power_synced(inst):
            return
        power = self.driver.get_power_state(instance_spec(inst))
        vm_state = inst.vm_state
        if vm_state in _FOLLOWS_POWER:
            vm_state = _VM_STATE_FOR_POWER.get(power, vm_state)
        if power == inst.power_state and vm_state == inst.vm_state:
            return
        LOG.info("instance %s: hypervisor says power_state %s; vm_state %s -> %s",
                 uuid, power, inst.vm_state, vm_state)
        try:
            self.conductor.instance_update(ctx, uuid, {"power_state": power,
                                                       "vm_state": vm_state},
                                           expected_task_state=None)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            pass

    def _lifecycle_event(self, uuid: str, power_state: int) -> None:
        """Called from the driver's event thread when a guest changes on its own."""
        ctx = nl_context.get_admin_context()
        try:
            with self._lock(uuid):
                self._sync_one(ctx, uuid)
        except exception.InstanceNotFound:
            pass
        except Exception:
            LOG.exception("handling lifecycle event for %s failed", uuid)

    def cleanup_images(self, ctx: Any) -> None:
        instances = self.conductor.instance_list_by_host(ctx, self.host)
        self.driver.periodic_cleanup([i.uuid for i in instances])


def _power_synced(inst: Instance) -> bool:
    """Whether the power-state sync may change this guest: nobody operates on it and
    its state follows the hypervisor's."""
    return inst.task_state is None and inst.vm_state in states.POWER_SYNCED_VM_STATES
