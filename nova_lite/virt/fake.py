"""A fake virt driver: guests are entries in a dict, the host size comes from
[fake_driver]. Used by tests and scale runs; it behaves like a hypervisor that is always
fast and always works (unless told to fail through instance metadata: ``fake_spawn_error``
makes spawns fail, ``fake_resize_error`` = migrate|finish|confirm|revert makes that step of
a move fail, ``fake_live_migration_error`` = pre|migrate makes that step of a live migration
fail, ``fake_live_migration_seconds`` makes its copy take that long, and
``fake_volume_attach_hang`` makes a volume attach never return, as on a host that dies).

Images are real, though: a spawn downloads the image (and its kernel and ramdisk) into
this host's image cache exactly as the libvirt driver does, so image transfer, checksum
verification and the cache are exercised with the fake hypervisor too.
"""

from __future__ import annotations

import os
import shutil
import json
import threading
import time
from typing import Any, Optional

from nova_lite.virt import driver, imagecache, rescue_device
from nova_lite.virt.driver import ImageSource, InstanceSpec, LifecycleCallback

# Power state each lifecycle call leaves the guest in.
_AFTER = {"power_on": driver.RUNNING, "power_off": driver.SHUTDOWN, "pause": driver.PAUSED,
          "unpause": driver.RUNNING, "suspend": driver.SUSPENDED, "resume": driver.RUNNING,
          "reboot": driver.RUNNING}


def _volumes(instance: InstanceSpec) -> Optional[dict]:
    """{serial: {"connection_info", "mountpoint", "boot_index"}} of the volumes the
    instance is defined with (None when the caller passed none)."""
    devices = instance.extra.get("block_devices")
    if devices is None:
        return None
    return {d["serial"]: {"connection_info": dict(d["connection_info"]),
                          "mountpoint": "/dev/" + d["device_name"],
                          "boot_index": d.get("boot_index")} for d in devices}


def node_name(host: str, index: int) -> str:
    """Name of the index-th extra node of host (index >= 1)."""
    return f"{host}-n{index:04d}"


class FakeDriver(driver.ComputeDriver):
    def __init__(self, host: str, image_source: ImageSource, conf: Any) -> None:
        super().__init__(host, image_source, conf)
        self._lock = threading.Lock()
        self._guests: dict[str, dict] = {}
        self._set_aside: dict[str, dict] = {}  # guests a move set aside on this host
        self._incoming: dict[str, dict] = {}  # guests a live migration is bringing here
        self._live: dict[str, dict[str, threading.Event]] = {}  # copies running from here
        self._callback: Optional[LifecycleCallback] = None
        self.instances_path = os.path.abspath(conf.instances_path)
        self._cache = imagecache.ImageCache(self.instances_path, image_source)

    def init_host(self, lifecycle_callback: Optional[LifecycleCallback] = None) -> None:
        self._callback = lifecycle_callback

    def node_names(self) -> list[str]:
        """The first node keeps the host's name, so one node is what it always was and
        raising [fake_driver] nodes later keeps the servers already on it."""
        n = self.conf.fake_driver.nodes
        return [self.host] + [node_name(self.host, i) for i in range(1, n)]

    def get_available_resource(self, nodename: Optional[str] = None) -> dict:
        fd = self.conf.fake_driver
        return {"vcpus": fd.vcpus, "memory_mb": fd.memory_mb, "local_gb": fd.local_gb,
                "hypervisor_type": "fake", "hypervisor_version": 1000,
                "hypervisor_hostname": nodename or self.host, "cpu_info": "{}",
                "traits": list(fd.traits)}

    def get_available_resources(self) -> list[dict]:
        return [self.get_available_resource(name) for name in self.node_names()]

    def list_instance_uuids(self) -> list[str]:
        with self._lock:
            return list(self._guests)

    def spawn(self, instance: InstanceSpec, image_meta: dict) -> None:
        if instance.extra.get("metadata", {}).get("fake_spawn_error"):
            raise driver.DriverError("fake spawn failure requested by metadata")
        self._fetch_images(instance, image_meta)
        delay = self.conf.fake_driver.spawn_delay
        if delay:
            time.sleep(delay)
        drive = instance.extra.get("config_drive")
        with self._lock:
            self._guests[instance.uuid] = dict(
                self._new_guest(instance), config_drive=dict(drive) if drive else None,
                volumes=_volumes(instance) or {},
                local_disks=[dict(d) for d in instance.extra.get("local_disks") or []])

    def _new_guest(self, instance: InstanceSpec) -> dict:
        """A guest just booted (caller holds the lock)."""
        return {"power_state": driver.RUNNING, "console": ["NOVA-LITE-GUEST-UP (fake)"],
                "config_drive": None, "vifs": [dict(v) for v in instance.network_info],
                "vnc_port": 5900 + len(self._guests), "image_id": instance.image_id,
                "rescue_image_id": None, "rescue_device": None, "password": None}

    def _instance_dir(self, instance: InstanceSpec) -> str:
        return os.path.join(self.instances_path, instance.uuid)

    def _fetch_images(self, instance: InstanceSpec, image_meta: dict) -> None:
        """The instance's images in this host's cache, recorded as used by it."""
        if not instance.image_id:
            return
        props = image_meta.get("properties") or {}
        ids = [i for i in (instance.image_id, props.get("kernel_id"),
                           props.get("ramdisk_id")) if i]
        inst_dir = self._instance_dir(instance)
        os.makedirs(inst_dir, mode=0o755, exist_ok=True)
        imagecache.ImageCache.record_usage(inst_dir, ids)
        for image_id in ids:
            self._cache.fetch(image_id)

    def destroy(self, instance: InstanceSpec) -> None:
        with self._lock:
            self._guests.pop(instance.uuid, None)
            self._set_aside.pop(instance.uuid, None)
        shutil.rmtree(self._instance_dir(instance), ignore_errors=True)

    def get_power_state(self, instance: InstanceSpec) -> int:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            return guest["power_state"] if guest else driver.NOSTATE

    def _set(self, instance: InstanceSpec, op: str) -> None:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                raise driver.DriverError(f"guest {instance.name} does not exist")
            guest["power_state"] = _AFTER[op]
            guest["console"].append(f"fake {op}")

    def reboot(self, instance: InstanceSpec, reboot_type: str) -> None:
        self._set(instance, "reboot")

    def power_off(self, instance: InstanceSpec, timeout: int = 0) -> None:
        self._set(instance, "power_off")

    def power_on(self, instance: InstanceSpec) -> None:
        self._set(instance, "power_on")

    def pause(self, instance: InstanceSpec) -> None:
        self._set(instance, "pause")

    def unpause(self, instance: InstanceSpec) -> None:
        self._set(instance, "unpause")

    def suspend(self, instance: InstanceSpec) -> None:
        self._set(instance, "suspend")

    def resume(self, instance: InstanceSpec) -> None:
        self._set(instance, "resume")

    def get_console_output(self, instance: InstanceSpec) -> str:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                raise driver.DriverError(f"guest {instance.name} does not exist")
            return "\n".join(guest["console"]) + "\n"

    def attach_interface(self, instance: InstanceSpec, vif: dict) -> None:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                raise driver.DriverError(f"guest {instance.name} does not exist")
            guest["vifs"].append(dict(vif))

    def detach_interface(self, instance: InstanceSpec, vif: dict) -> None:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None:
                guest["vifs"] = [v for v in guest["vifs"] if v["id"] != vif["id"]]

    def attach_volume(self, instance: InstanceSpec, connection_info: dict,
                      mountpoint: str, serial: str) -> str:
        if instance.extra.get("metadata", {}).get("fake_volume_attach_hang"):
            time.sleep(3600)  # a host that dies mid-attach (tests kill it here)
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                raise driver.DriverError(f"guest {instance.name} does not exist")
            volumes = guest.setdefault("volumes", {})
            used = {v["mountpoint"] for v in volumes.values()}
            if mountpoint in used:
                mountpoint = next(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz"
                                  if f"/dev/vd{c}" not in used)
            volumes[serial] = {"connection_info": dict(connection_info),
                               "mountpoint": mountpoint}
            return mountpoint

    def detach_volume(self, instance: InstanceSpec, connection_info: dict,
                      mountpoint: str, serial: str) -> None:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None:
                guest.setdefault("volumes", {}).pop(serial, None)

    def swap_volume(self, instance: InstanceSpec, old_connection_info: dict,
                    new_connection_info: dict, mountpoint: str, old_serial: str,
                    new_serial: str) -> None:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or old_serial not in guest.get("volumes", {}):
                raise driver.DriverError(f"guest {instance.name} has no volume {old_serial}")
            old = guest["volumes"].pop(old_serial)
            guest["volumes"][new_serial] = dict(old, connection_info=dict(new_connection_info))

    def extend_volume(self, instance: InstanceSpec, connection_info: dict, serial: str,
                      new_size: int) -> None:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or serial not in guest.get("volumes", {}):
                raise driver.DriverError(f"guest {instance.name} has no volume {serial}")
            guest["volumes"][serial]["size"] = new_size

    def local_disks_of(self, uuid: str) -> list[dict]:
        """Test hook: the local (ephemeral, swap) disks the guest was built with."""
        with self._lock:
            return [dict(d) for d in self._guests[uuid].get("local_disks") or []]

    def volumes_of(self, uuid: str) -> dict[str, dict]:
        """Test hook: {serial: {"connection_info", "mountpoint"}} of the guest's volumes."""
        with self._lock:
            return dict(self._guests[uuid].get("volumes") or {})

    def vifs_of(self, uuid: str) -> list[dict]:
        """Test hook: the VIFs plugged into the guest."""
        with self._lock:
            return list(self._guests[uuid]["vifs"])

    def get_vnc_console(self, instance: InstanceSpec) -> dict:
        """A made-up port: fake guests have no display (the token flow still works)."""
        vnc = getattr(self.conf, "vnc", None)
        if vnc is None or not vnc.enabled:
            raise driver.ConsoleUnavailable("vnc")
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest["power_state"] != driver.RUNNING:
                raise driver.DriverError(f"guest {instance.name} is not running")
            return {"host": vnc.server_proxyclient_address, "port": guest["vnc_port"]}

    def config_drive_of(self, uuid: str) -> Optional[dict]:
        """Test hook: {path: bytes} of the config drive the guest was given."""
        with self._lock:
            return self._guests[uuid]["config_drive"]

    def _guest(self, instance: InstanceSpec) -> dict:
        """The guest (caller holds the lock)."""
        guest = self._guests.get(instance.uuid)
        if guest is None:
            raise driver.DriverError(f"guest {instance.name} does not exist")
        return guest

    def snapshot(self, instance: InstanceSpec, dest_path: str) -> str:
        """A recorded image: what the guest was booted from and what it printed."""
        if instance.extra.get("metadata", {}).get("fake_snapshot_error"):
            raise driver.DriverError("fake snapshot failure requested by metadata")
        delay = self.conf.fake_driver.snapshot_delay
        if delay:
            time.sleep(delay)
        with self._lock:
            guest = self._guest(instance)
            record = {"fake_snapshot_of": instance.uuid, "image_id": guest["image_id"],
                      "console": list(guest["console"])}
            guest["console"].append("fake snapshot")
        with open(dest_path, "w") as f:
            json.dump(record, f)
        return "raw"

    def rescue(self, instance: InstanceSpec, image_meta: dict, admin_password: str) -> None:
        with self._lock:
            guest = self._guest(instance)
            stable = rescue_device.stable_device(image_meta.get("properties") or {})
            guest.update(power_state=driver.RUNNING, rescue_image_id=image_meta["id"],
                         rescue_device=stable and stable._asdict())
            guest["console"].append(f"fake rescue from image {image_meta['id']}")

    def unrescue(self, instance: InstanceSpec) -> None:
        with self._lock:
            guest = self._guest(instance)
            guest.update(power_state=driver.RUNNING, rescue_image_id=None,
                         rescue_device=None)
            guest["console"].append("fake unrescue")

    def trigger_crash_dump(self, instance: InstanceSpec) -> None:
        with self._lock:
            guest = self._guest(instance)
            if guest["power_state"] != driver.RUNNING:
                raise driver.DriverError(f"guest {instance.name} is not running")
            guest["console"].append("fake NMI received")

    def set_admin_password(self, instance: InstanceSpec, password: str) -> None:
        if instance.extra.get("metadata", {}).get("fake_no_agent"):
            raise driver.GuestAgentNotEnabled("the guest agent is not enabled")
        with self._lock:
            self._guest(instance)["password"] = password

    def get_diagnostics(self, instance: InstanceSpec) -> dict:
        with self._lock:
            guest = self._guest(instance)
            power = guest["power_state"]
        return {
            "state": driver.POWER_STATE_NAMES.get(power, "pending"), "driver": "fake",
            "hypervisor": "fake", "hypervisor_os": "fake-os", "uptime": 46664,
            "config_drive": False, "num_cpus": instance.vcpus, "num_disks": 1,
            "num_nics": 0,
            "cpu_details": [{"id": n, "time": 17300000000, "utilisation": 15}
                            for n in range(instance.vcpus)],
            "disk_details": [{"read_bytes": 262144, "read_requests": 112,
                              "write_bytes": 5778432, "write_requests": 488,
                              "errors_count": 0}],
            "nic_details": [],
            "memory_details": {"maximum": instance.memory_mb, "used": 0},
        }

    # -- moves ----------------------------------------------------------------------------
    def _move_step(self, instance: InstanceSpec, step: str) -> None:
        if instance.extra.get("metadata", {}).get("fake_resize_error") == step:
            raise driver.DriverError(f"fake {step} failure requested by metadata")
        delay = self.conf.fake_driver.migrate_delay
        if delay:
            time.sleep(delay)

    def migrate_disk_and_power_off(self, instance: InstanceSpec, dest_host: str,
                                   new: InstanceSpec, timeout: int = 0) -> dict:
        self._move_step(instance, "migrate")
        with self._lock:
            guest = self._guests.pop(instance.uuid, None)
            if guest is None:
                raise driver.DriverError(f"guest {instance.name} does not exist")
            guest["power_state"] = driver.SHUTDOWN
            guest["console"].append(f"fake power off for a move to {dest_host}")
            self._set_aside[instance.uuid] = guest
        kept = {k: v for k, v in guest.items() if k not in ("power_state", "console")}
        return {"source_host": self.host, "console": list(guest["console"]), "guest": kept}

    def finish_migration(self, instance: InstanceSpec, disk_info: dict, image_meta: dict,
                         same_host: bool, power_on: bool) -> None:
        self._move_step(instance, "finish")
        self._fetch_images(instance, image_meta)
        console = list(disk_info.get("console") or []) + [
            f"fake guest resized to {instance.vcpus} vCPU, {instance.memory_mb} MB, "
            f"{instance.root_gb} GB"]
        with self._lock:
            self._guests[instance.uuid] = {
                **self._new_guest(instance), **(disk_info.get("guest") or {}),
                "power_state": driver.RUNNING if power_on else driver.SHUTDOWN,
                "console": console,
                "size": (instance.vcpus, instance.memory_mb, instance.root_gb)}
            if _volumes(instance) is not None:  # as exported to this host
                self._guests[instance.uuid]["volumes"] = _volumes(instance)

    def confirm_migration(self, instance: InstanceSpec, same_host: bool) -> None:
        self._move_step(instance, "confirm")
        with self._lock:
            self._set_aside.pop(instance.uuid, None)
        if not same_host:
            shutil.rmtree(self._instance_dir(instance), ignore_errors=True)

    def cleanup_migration_destination(self, instance: InstanceSpec, same_host: bool) -> None:
        self._move_step(instance, "revert")
        with self._lock:
            self._guests.pop(instance.uuid, None)
            if not same_host:
                self._set_aside.pop(instance.uuid, None)
        if not same_host:
            shutil.rmtree(self._instance_dir(instance), ignore_errors=True)

    def finish_revert_migration(self, instance: InstanceSpec, power_on: bool) -> None:
        with self._lock:
            # After a restart of this service the fake hypervisor is empty: the guest
            # comes back fresh, as a real one would from the disk set aside.
            guest = (self._set_aside.pop(instance.uuid, None)
                     or self._guests.get(instance.uuid)
                     or self._new_guest(instance))
            guest["power_state"] = driver.RUNNING if power_on else driver.SHUTDOWN
            guest["size"] = (instance.vcpus, instance.memory_mb, instance.root_gb)
            guest["console"].append("fake revert of a move")
            if _volumes(instance) is not None:
                guest["volumes"] = _volumes(instance)
            self._guests[instance.uuid] = guest

    # -- live migration --------------------------------------------------------------------
    def pre_live_migration(self, instance: InstanceSpec, block_migration: bool,
                           image_meta: dict) -> dict:
        meta = instance.extra.get("metadata", {})
        if meta.get("fake_live_migration_error") == "pre":
            raise driver.DriverError("fake pre_live_migration failure requested by metadata")
        self._fetch_images(instance, image_meta)
        with self._lock:
            self._incoming[instance.uuid] = self._new_guest(instance)
        return {"dest_host": self.host, "block_migration": block_migration}

    def live_migration(self, instance: InstanceSpec, dest_host: str, migrate_data: dict,
                       block_migration: bool, progress: driver.ProgressCallback) -> None:
        """Copies in ten rounds over fake_live_migration_seconds (metadata) or
        [fake_driver] migrate_delay, reporting progress after each."""
        meta = instance.extra.get("metadata", {})
        seconds = float(meta.get("fake_live_migration_seconds")
                        or self.conf.fake_driver.migrate_delay or 0)
        memory = instance.memory_mb * 1024 * 1024
        disk = instance.root_gb * 1024 ** 3 if block_migration else 0
        flags = {"abort": threading.Event(), "complete": threading.Event()}
        with self._lock:
            self._guest(instance)
            self._live[instance.uuid] = flags
        rounds = 10
        try:
            for n in range(1, rounds + 1):
                if flags["abort"].wait(seconds / rounds):
                    raise driver.LiveMigrationAborted(
                        f"live migration of {instance.name} aborted")
                if flags["complete"].is_set():
                    n = rounds
                if n == rounds // 2 and meta.get("fake_live_migration_error") == "migrate":
                    raise driver.DriverError("fake live migration failure requested by "
                                             "metadata")
                progress({"memory_total": memory, "memory_processed": memory * n // rounds,
                          "memory_remaining": memory - memory * n // rounds,
                          "disk_total": disk, "disk_processed": disk * n // rounds,
                          "disk_remaining": disk - disk * n // rounds})
                if n == rounds:
                    break
        finally:
            with self._lock:
                self._live.pop(instance.uuid, None)
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None:
                guest["console"].append(f"fake live migration to {dest_host}")

    def _live_flag(self, instance: InstanceSpec, name: str) -> None:
        with self._lock:
            flags = self._live.get(instance.uuid)
        if flags is None:
            raise driver.DriverError(f"no live migration of {instance.name} is running")
        flags[name].set()

    def live_migration_abort(self, instance: InstanceSpec) -> None:
        self._live_flag(instance, "abort")

    def live_migration_force_complete(self, instance: InstanceSpec) -> None:
        self._live_flag(instance, "complete")

    def post_live_migration_at_destination(self, instance: InstanceSpec,
                                           paused: bool = False) -> None:
        with self._lock:
            guest = self._incoming.pop(instance.uuid, None) or self._new_guest(instance)
            guest["power_state"] = driver.PAUSED if paused else driver.RUNNING
            guest["console"].append("fake live migration arrived")
            self._guests[instance.uuid] = guest

    def rollback_live_migration_at_destination(self, instance: InstanceSpec) -> None:
        with self._lock:
            self._incoming.pop(instance.uuid, None)
            self._guests.pop(instance.uuid, None)
        shutil.rmtree(self._instance_dir(instance), ignore_errors=True)

    def simulate_external_power_off(self, uuid: str) -> None:
        """Test hook: the guest shut itself down, as a real one can."""
        with self._lock:
            self._guests[uuid]["power_state"] = driver.SHUTDOWN
        if self._callback:
            self._callback(uuid, driver.SHUTDOWN)

    def periodic_cleanup(self, active_uuids: list[str]) -> None:
        """Remove cached base images that no instance directory on this host uses."""
        if self.conf.libvirt.remove_unused_base_images:
            self._cache.cleanup()
