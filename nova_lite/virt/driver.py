"""The virt driver boundary.

Drivers receive plain values only (dicts and strings), never database objects or RPC
clients, so a driver can be exercised in isolation and the fake and libvirt drivers are
interchangeable. The compute manager owns all state bookkeeping; a driver only acts on
the hypervisor and reports what it sees.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from typing import Any, Callable, Optional

# Power states, numbered as Nova numbers them (they appear in the API as
# OS-EXT-STS:power_state).
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

# The ``state`` names of diagnostics (Nova's power_state.STATE_MAP).
POWER_STATE_NAMES = {NOSTATE: "pending", RUNNING: "running", PAUSED: "paused",
                     SHUTDOWN: "shutdown", CRASHED: "crashed", SUSPENDED: "suspended"}


@dataclasses.dataclass
class InstanceSpec:
    """What a driver needs to know about one instance. ``extra`` may carry "metadata"
    (the server's metadata), "config_drive" ([(path, bytes)] of a config drive),
    "block_devices" (its volumes: connection_info, device_name, boot_index, serial,
    disk_bus) and "image_meta" (for a guest defined again from a root volume: the image
    the volume was made from)."""

    uuid: str
    name: str  # hypervisor-level name, e.g. "instance-0000002a"
    display_name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    image_id: str
    extra: dict = dataclasses.field(default_factory=dict)
    # The instance's VIFs (nova_lite.network.model), to plug into the guest.
    network_info: list = dataclasses.field(default_factory=list)


class ImageSource:
    """What a driver may ask of the image service (nova_lite.image.api.HostImageSource
    serves it as the compute host itself, never as a user)."""

    def show(self, image_id: str) -> dict:
        """Image metadata: id, name, status, disk_format, container_format, size,
        checksum, os_hash_algo, os_hash_value, properties."""
        raise NotImplementedError

    def download(self, image_id: str, dest_path: str, meta: Optional[dict] = None) -> dict:
        """Stream the image to dest_path, verified against its size, md5 and multihash
        (raises ImageCorrupt and leaves no file otherwise); its metadata."""
        raise NotImplementedError


# Called by a driver when the hypervisor reports a lifecycle change it did not cause:
# (instance_uuid, power_state).
LifecycleCallback = Callable[[str, int], None]


class DriverError(Exception):
    """A driver operation failed; the message is shown to users in the instance fault."""


class ConsoleUnavailable(DriverError):
    """The guest has no console of this type (disabled on the host, or not supported)."""

    def __init__(self, console_type: str) -> None:
        super().__init__(f"Unavailable console type {console_type}.")
        self.console_type = console_type


class VirtAPI:
    """What a driver may ask of its compute service: waiting for external events."""

    def wait_for_instance_event(self, instance_uuid: str, events: list[tuple[str, str]],
                                timeout: float) -> Any:
        """A context manager: the (name, tag) events are expected from its start, and
        its exit waits until all arrived. Past ``timeout`` (0: no wait) it raises
        DriverError when waiting is fatal, else it logs and returns; an event with
        status "failed" raises DriverError."""
        return contextlib.nullcontext()


class LiveMigrationAborted(DriverError):
    """live_migration stopped because live_migration_abort asked it to."""


# progress(stats) while a live migration copies: Nova's migration progress fields.
ProgressCallback = Callable[[dict], None]


class NotSupported(DriverError):
    """The hypervisor (or this guest) cannot do what was asked at all."""


class GuestAgentNotEnabled(NotSupported):
    """The operation needs an agent inside the guest, and the guest has none."""


class ComputeDriver:
    """Base class of virt drivers. Methods raise DriverError on failure."""

    def __init__(self, host: str, image_source: ImageSource, conf: Any) -> None:
        self.host = host
        self.image_source = image_source
        self.conf = conf
        self.virtapi: VirtAPI = VirtAPI()  # the compute manager sets its own

    def init_host(self, lifecycle_callback: Optional[LifecycleCallback] = None) -> None:
        """Prepare the hypervisor connection; register for lifecycle events."""

    def cleanup_host(self) -> None:
        """Release hypervisor connections at shutdown."""

    def get_available_resource(self) -> dict:
        """Host totals: vcpus, memory_mb, local_gb, hypervisor_type, hypervisor_version,
        hypervisor_hostname, cpu_info (string), and traits (os-traits names the host
        has, e.g. CPU features; the compute service adds COMPUTE_NODE)."""
        raise NotImplementedError

    def get_available_resources(self) -> list[dict]:
        """Every node this service manages, each as get_available_resource() describes
        it (one per host, except where a driver manages many, as the fake one can)."""
        return [self.get_available_resource()]

    def list_instance_uuids(self) -> list[str]:
        """UUIDs of every guest present on the hypervisor."""
        raise NotImplementedError

    def spawn(self, instance: InstanceSpec, image_meta: dict) -> None:
        """Create and start the guest; return once it is running."""
        raise NotImplementedError

    def destroy(self, instance: InstanceSpec) -> None:
        """Stop and remove the guest and all its local files (anything a move set
        aside for it included); idempotent."""
        raise NotImplementedError

    def get_power_state(self, instance: InstanceSpec) -> int:
        """Current power state; NOSTATE when the guest does not exist."""
        raise NotImplementedError

    def reboot(self, instance: InstanceSpec, reboot_type: str) -> None:
        """reboot_type is "SOFT" (ACPI, hard fallback after a timeout) or "HARD"."""
        raise NotImplementedError

    def power_off(self, instance: InstanceSpec, timeout: int = 0) -> None:
        """timeout > 0: ask the guest to shut down first, then destroy."""
        raise NotImplementedError

    def power_on(self, instance: InstanceSpec) -> None:
        raise NotImplementedError

    def pause(self, instance: InstanceSpec) -> None:
        raise NotImplementedError

    def unpause(self, instance: InstanceSpec) -> None:
        raise NotImplementedError

    def suspend(self, instance: InstanceSpec) -> None:
        raise NotImplementedError

    def resume(self, instance: InstanceSpec) -> None:
        raise NotImplementedError

    def get_console_output(self, instance: InstanceSpec) -> str:
        raise NotImplementedError

    def attach_interface(self, instance: InstanceSpec, vif: dict) -> None:
        """Hot-plug one VIF (nova_lite.network.model) into the running or stopped guest."""
        raise DriverError("this hypervisor cannot attach interfaces")

    def detach_interface(self, instance: InstanceSpec, vif: dict) -> None:
        """Unplug one VIF; a VIF the guest does not have is not an error."""
        raise DriverError("this hypervisor cannot detach interfaces")

    def get_volume_connector(self, instance: InstanceSpec) -> dict:
        """This host as Cinder's attachment_update wants it (os-brick's connector keys)."""
        return {"host": self.host, "ip": getattr(self.conf, "my_ip", "127.0.0.1"),
                "platform": "x86_64", "os_type": "linux", "multipath": False,
                "do_local_attach": False}

    def attach_volume(self, instance: InstanceSpec, connection_info: dict,
                      mountpoint: str, serial: str) -> str:
        """Hot-plug a Cinder volume (its connection_info: driver_volume_type and data)
        into the guest at ``mountpoint`` (e.g. /dev/vdb) or the next free device, with
        ``serial`` (the volume id) as the disk's serial; the device it got."""
        raise DriverError("this hypervisor cannot attach volumes")

    def detach_volume(self, instance: InstanceSpec, connection_info: dict,
                      mountpoint: str, serial: str) -> None:
        """Unplug the volume whose serial is ``serial``; one the guest does not have is
        not an error."""
        raise DriverError("this hypervisor cannot detach volumes")

    def swap_volume(self, instance: InstanceSpec, old_connection_info: dict,
                    new_connection_info: dict, mountpoint: str, old_serial: str,
                    new_serial: str) -> None:
        """Copy the guest's disk of the old volume onto the new one (exported here) and
        switch the guest to it, at the same device."""
        raise DriverError("this hypervisor cannot swap volumes")

    def extend_volume(self, instance: InstanceSpec, connection_info: dict, serial: str,
                      new_size: int) -> None:
        """Cinder grew the attached volume whose serial is ``serial``: make the running
        guest see ``new_size`` bytes (a stopped one reads the size when it starts)."""
        raise DriverError("this hypervisor cannot extend attached volumes")

    def get_vnc_console(self, instance: InstanceSpec) -> dict:
        """{"host", "port"} of the guest's VNC server, as the console proxy reaches it;
        ConsoleUnavailable when the guest has none."""
        raise ConsoleUnavailable("vnc")

    def snapshot(self, instance: InstanceSpec, dest_path: str) -> str:
        """Write a standalone copy of the guest's root disk (no backing file) to
        dest_path and return its disk_format. A running guest is brought back to the
        power state it had; the copy is consistent (taken with the disk at rest)."""
        raise NotImplementedError

    def rescue(self, instance: InstanceSpec, image_meta: dict, admin_password: str) -> None:
        """Boot the guest from the rescue image (image_meta, from the image service) with
        its own root disk attached as the second disk, or, when the image asks for a
        stable device rescue (virt.rescue_device), with the rescue image added after
        all its disks and volumes, which stay as they were."""
        raise NotImplementedError

    def unrescue(self, instance: InstanceSpec) -> None:
        """Boot the guest from its own disk again and drop the rescue disk; idempotent."""
        raise NotImplementedError

    def trigger_crash_dump(self, instance: InstanceSpec) -> None:
        """Inject an NMI, so a guest kernel set up for it writes a crash dump."""
        raise NotImplementedError

    def set_admin_password(self, instance: InstanceSpec, password: str) -> None:
        """Set the guest's administrator password (raises GuestAgentNotEnabled when that
        needs an agent the guest lacks)."""
        raise NotImplementedError

    def get_diagnostics(self, instance: InstanceSpec) -> dict:
        """Usage data in Nova's 2.48 shape: state, driver, hypervisor, hypervisor_os,
        uptime, config_drive, num_cpus, num_disks, num_nics, cpu_details [{id, time,
        utilisation}], disk_details [{read_bytes, read_requests, write_bytes,
        write_requests, errors_count}], nic_details [...], memory_details {maximum,
        used} (MiB)."""

    def get_host_uptime(self) -> str:
        """The host's `uptime` line (os-hypervisors uptime): time, time up, users,
        load average. Read from the host this compute runs on."""
        return host_uptime()

    # -- rebuild ------------------------------------------------------------------------
    def rebuild(self, instance: InstanceSpec, image_meta: dict,
                preserve_ephemeral: bool = False, power_on: bool = True) -> None:
        """Re-create the guest on this host from ``image_meta`` (the root disk is
        re-imaged; ephemeral disks are kept when preserve_ephemeral); left powered off
        unless power_on. By default: destroy, then spawn."""
        self.destroy(instance)
        self.spawn(instance, image_meta)
        if not power_on:
            self.power_off(instance)

    # -- moves (resize; cold migration later) ---------------------------------------------
    # A move sets the source guest aside rather than deleting it, so that a revert, or a
    # failure at any later step, can bring it back: the source host keeps it until
    # confirm_migration or finish_revert_migration.

    def migrate_disk_and_power_off(self, instance: InstanceSpec, dest_host: str,
                                   new: InstanceSpec, timeout: int = 0) -> dict:
        """On the source host: stop the guest (clean shutdown for up to timeout seconds)
        and set it aside for ``dest_host``; ``new`` is the instance at its new size.
        Returns the disk_info the destination's finish_migration needs."""
        raise NotImplementedError

    def finish_migration(self, instance: InstanceSpec, disk_info: dict, image_meta: dict,
                         same_host: bool, power_on: bool) -> None:
        """On the destination: create the guest at ``instance``'s (new) size from the
        disk set aside, its root disk grown to the new size; running if power_on."""
        raise NotImplementedError

    def confirm_migration(self, instance: InstanceSpec, same_host: bool) -> None:
        """On the source, once the move is confirmed: drop what was set aside; idempotent."""
        raise NotImplementedError

    def cleanup_migration_destination(self, instance: InstanceSpec, same_host: bool) -> None:
        """On the destination of a move being reverted: remove the guest finish_migration
        created, keeping what the source set aside (the same host, when same_host)."""
        if not same_host:
            self.destroy(instance)
            return
        raise NotImplementedError

    def finish_revert_migration(self, instance: InstanceSpec, power_on: bool) -> None:
        """On the source: bring back the guest set aside, at ``instance``'s (old) size,
        running if power_on. Idempotent, and safe after a crash at any step of the move
        (the guest may still be in place, merely stopped)."""
        raise NotImplementedError

    # -- live migration ----------------------------------------------------------------
    # The guest keeps running while its memory (and, with block migration, its disks)
    # is copied; the source keeps it until the copy is done, so any failure or an abort
    # leaves it running where it was.

    def pre_live_migration(self, instance: InstanceSpec, block_migration: bool,
                           image_meta: dict) -> dict:
        """On the destination, before the copy: make room for the incoming guest (its
        directory, and empty disks over their backing images when block_migration).
        Returns migrate_data for the source's live_migration."""
        raise NotImplementedError

    def live_migration(self, instance: InstanceSpec, dest_host: str, migrate_data: dict,
                       block_migration: bool, progress: ProgressCallback) -> None:
        """On the source: copy the running guest to ``dest_host``; ``progress`` gets
        {memory_total, memory_processed, memory_remaining, disk_total, disk_processed,
        disk_remaining} (bytes) as it goes. Blocks until the guest runs on the
        destination; raises LiveMigrationAborted after live_migration_abort, DriverError
        on failure (the guest still runs here then)."""
        raise NotImplementedError

    def live_migration_abort(self, instance: InstanceSpec) -> None:
        """Called from another thread while live_migration runs: stop the copy."""
        raise NotImplementedError

    def live_migration_force_complete(self, instance: InstanceSpec) -> None:
        """Called from another thread while live_migration runs: finish now (pause the
        guest so that its memory stops changing)."""
        raise NotImplementedError

    def post_live_migration(self, instance: InstanceSpec) -> None:
        """On the source, after the copy: remove what is left of the guest here."""
        self.destroy(instance)

    def post_live_migration_at_destination(self, instance: InstanceSpec,
                                           paused: bool = False) -> None:
        """On the destination, after the copy: the guest is this host's from now on
        (running, or paused when it was paused at the source)."""

    def rollback_live_migration_at_destination(self, instance: InstanceSpec) -> None:
        """On the destination of a failed or aborted copy: remove what
        pre_live_migration (and the copy) made here."""
        self.destroy(instance)

    def periodic_cleanup(self, active_uuids: list[str]) -> None:
        """Periodic housekeeping, e.g. removing unused cached base images."""


def load_driver(name: str, host: str, image_source: ImageSource, conf: Any) -> ComputeDriver:
    """Load "fake.FakeDriver" or "libvirt.LibvirtDriver" (Nova's compute_driver names)."""
    module_name, _, cls_name = name.rpartition(".")
    module = importlib.import_module(f"nova_lite.virt.{module_name}")
    cls = getattr(module, cls_name)
    return cls(host, image_source, conf)


def host_uptime() -> str:
    """`uptime`'s line for this machine (as Nova's libvirt driver reports it); built
    from /proc where the command is missing."""
    import shutil
    import subprocess
    import time

    if shutil.which("uptime"):
        try:
            out = subprocess.run(["uptime"], capture_output=True, text=True, timeout=10,
                                 env={"LANG": "C", "PATH": "/usr/bin:/bin"}, check=True)
            return out.stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            pass
    with open("/proc/uptime") as f:
        up = int(float(f.read().split()[0]))
    with open("/proc/loadavg") as f:
        loads = f.read().split()[:3]
    days, rest = divmod(up, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    span = f"{hours}:{minutes:02d}" if hours else f"{minutes} min"
    if days:
        span = f"{days} day{'s' if days != 1 else ''}, {span}"
    return f" {time.strftime('%H:%M:%S')} up {span},  load average: {', '.join(loads)}"
