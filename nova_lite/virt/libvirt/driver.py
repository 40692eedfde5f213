"""The libvirt virt driver: real guests under QEMU/KVM.

Guests are looked up by instance uuid (never by name: the compute manager may ask to
destroy an orphan knowing only its uuid), and only domains carrying nova_lite's
metadata element are ever listed, so other guests on the same libvirtd are left alone.
Every instance lives in <instances_path>/<uuid>/ (qcow2 overlay ``disk`` over a cached
base, ``console.log``); deleting that directory is part of destroy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import time
from typing import Any, Callable, Iterator, Optional

from nova_lite.image import properties as image_properties
from nova_lite.virt import configdrive, driver, imagecache
from nova_lite.virt.driver import DriverError, ImageSource, InstanceSpec, LifecycleCallback
from nova_lite.virt.libvirt import config as vconfig
from nova_lite.virt.libvirt import disk_files
from nova_lite.virt.libvirt import local_disks as vlocal
from nova_lite.virt.libvirt import host as vhost
from nova_lite.virt.libvirt import vif as vvif
from nova_lite.virt.libvirt import volume as vvolume
from nova_lite.virt.libvirt.guest_access import GuestAccessMixin
from nova_lite.virt.libvirt.guest_images import GuestImagesMixin
from nova_lite.virt.libvirt.live_migration import LiveMigrationMixin
from nova_lite.virt.libvirt.vif import LibvirtVifMixin
from nova_lite.virt.libvirt.volume import LibvirtVolumeMixin

LOG = logging.getLogger(__name__)

CONSOLE_MAX_BYTES = 100 * 1024
POLL = 0.2
SHUTDOWN_RETRY_INTERVAL = 10  # seconds between ACPI power button presses
GiB = 1024 ** 3


def _state_map(lv: Any) -> dict[int, int]:
    return {
        lv.VIR_DOMAIN_NOSTATE: driver.NOSTATE,
        lv.VIR_DOMAIN_RUNNING: driver.RUNNING,
        lv.VIR_DOMAIN_BLOCKED: driver.RUNNING,
        lv.VIR_DOMAIN_PAUSED: driver.PAUSED,
        lv.VIR_DOMAIN_SHUTDOWN: driver.SHUTDOWN,
        lv.VIR_DOMAIN_SHUTOFF: driver.SHUTDOWN,
        lv.VIR_DOMAIN_CRASHED: driver.CRASHED,
        lv.VIR_DOMAIN_PMSUSPENDED: driver.SUSPENDED,
    }


def cpu_traits(cpu_info: str) -> list[str]:
    """os-traits names of the host CPU's features (x86 ones: HW_CPU_X86_<FEATURE>)."""
    import os_traits

    prefix = "HW_CPU_X86_"
    # libvirt spells them sse4.2, sse4_1, avx512f; os-traits SSE42, SSE41, AVX512F.
    known = {re.sub("[^A-Z0-9]", "", t[len(prefix):]): t
             for t in os_traits.get_traits(prefix)}
    try:
        features = json.loads(cpu_info).get("features") or []
    except (ValueError, AttributeError):
        return []
    found = (known.get(re.sub("[^A-Z0-9]", "", str(f).upper())) for f in features)
    return sorted({t for t in found if t})


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll predicate until true or timeout seconds passed; bounded by design."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)


class LibvirtDriver(GuestImagesMixin, GuestAccessMixin, LiveMigrationMixin,
                    LibvirtVolumeMixin, LibvirtVifMixin, driver.ComputeDriver):
    def __init__(self, host: str, image_source: ImageSource, conf: Any) -> None:
        super().__init__(host, image_source, conf)
        self._lv = vhost.require_libvirt()
        self.instances_path = os.path.abspath(conf.instances_path)
        self.virt_type = conf.libvirt.virt_type
        self._host = vhost.Host(conf.libvirt.connection_uri, is_ours=self._is_ours)
        self._cache = imagecache.ImageCache(self.instances_path, image_source,
                                            validate=disk_files.check_download)

    # --- host ----------------------------------------------------------------------

    def init_host(self, lifecycle_callback: Optional[LifecycleCallback] = None) -> None:
        if self.virt_type == "kvm" and not self._host.uri.startswith("test:"):
            ok, why = vhost.kvm_usable()
            if not ok:
                raise DriverError(f"[libvirt] virt_type is kvm but KVM cannot run guests "
                                  f"on this host: {why}. Set [libvirt] virt_type = qemu "
                                  "(software emulation) or fix KVM.")
        if shutil.which("qemu-img") is None:
            raise DriverError("qemu-img is not installed (package qemu-utils); "
                              "run tools/setup-libvirt")
        os.makedirs(self.instances_path, mode=0o755, exist_ok=True)
        self._host.connect(lifecycle_callback)

    def cleanup_host(self) -> None:
        self._host.close()

    def get_available_resource(self) -> dict:
        with self._errors("reading host resources"):
            st = os.statvfs(self.instances_path)
            cpu_info = self._host.cpu_info()
            return {
                "vcpus": self._host.vcpus(),
                "memory_mb": self._host.memory_mb(),
                "local_gb": st.f_blocks * st.f_frsize // GiB,
                "hypervisor_type": "QEMU",
                "hypervisor_version": self._host.hypervisor_version(),
                "hypervisor_hostname": self._host.hostname(),
                "cpu_info": cpu_info,
                "traits": cpu_traits(cpu_info),
            }

    def list_instance_uuids(self) -> list[str]:
        with self._errors("listing guests"):
            conn = self._host.get_connection()
            return [d.UUIDString() for d in conn.listAllDomains(0) if self._is_ours(d)]

    # --- helpers -------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn libvirt and OS errors into DriverError with a readable message."""
        try:
            yield
        except DriverError:
            raise
        except self._lv.libvirtError as err:
            raise DriverError(f"{what} failed: {err.get_error_message()}") from err
        except OSError as err:
            raise DriverError(f"{what} failed: {err}") from err

    def _is_ours(self, dom: Any) -> bool:
        """Created by nova_lite for this compute host (not a foreign or sibling guest)."""
        try:
            meta = dom.metadata(self._lv.VIR_DOMAIN_METADATA_ELEMENT, vconfig.METADATA_NS)
            return vconfig.metadata_host(meta) == self.host
        except self._lv.libvirtError:
            return False

    def _lookup(self, instance: InstanceSpec) -> Optional[Any]:
        conn = self._host.get_connection()
        try:
            return conn.lookupByUUIDString(instance.uuid)
        except self._lv.libvirtError as err:
            if err.get_error_code() == self._lv.VIR_ERR_NO_DOMAIN:
                return None
            raise DriverError(f"looking up {instance.name} failed: "
                              f"{err.get_error_message()}") from err

    def _get(self, instance: InstanceSpec) -> Any:
        dom = self._lookup(instance)
        if dom is None:
            raise DriverError(f"guest {instance.name} ({instance.uuid}) does not exist "
                              "on the hypervisor")
        return dom

    def _instance_dir(self, instance: InstanceSpec) -> str:
        return os.path.join(self.instances_path, instance.uuid)

    def _state(self, dom: Any) -> int:
        lv = self._lv
        state, reason = dom.state()
        if state == lv.VIR_DOMAIN_SHUTOFF and (reason == lv.VIR_DOMAIN_SHUTOFF_SAVED
                                               or dom.hasManagedSaveImage(0)):
            return driver.SUSPENDED
        return _state_map(lv).get(state, driver.NOSTATE)

    def _wait_shutoff(self, dom: Any, timeout: float) -> bool:
        return _wait(lambda: not dom.isActive(), timeout)

    def _clean_shutdown(self, dom: Any, timeout: float) -> bool:
        """Press the ACPI power button, again every SHUTDOWN_RETRY_INTERVAL seconds (a guest
        still booting misses a press), until the guest is off or ``timeout`` has passed;
        libvirtError when the press itself fails."""
        deadline = time.monotonic() + timeout
        while True:
            dom.shutdown()
            left = deadline - time.monotonic()
            if self._wait_shutoff(dom, min(SHUTDOWN_RETRY_INTERVAL, max(left, 0))):
                return True
            if time.monotonic() >= deadline or not dom.isActive():
                return not dom.isActive()

    def _hard_stop(self, dom: Any) -> None:
        try:
            dom.destroy()
        except self._lv.libvirtError as err:
            if dom.isActive():
                raise DriverError(f"could not stop guest: {err.get_error_message()}") \
                    from err

    def _interfaces(self, instance: InstanceSpec, model: str = "virtio") -> list:
        """The guest's NICs; ``model`` is the boot image's hw_vif_model."""
        if not instance.network_info and self.conf.libvirt.user_mode_network:
            return [vvif.user_mode_element(model)]
        return [vvif.interface_element(v, self.conf.neutron.ovs_bridge, model)
                for v in instance.network_info]

    def _start_plugged(self, instance: InstanceSpec, dom: Any) -> None:
        """Start a new guest; with ports to plug, paused until Neutron reports every one
        plugged (network-vif-plugged), so the guest's first DHCP request finds its port
        wired. Timeout and failure handling: [DEFAULT] vif_plugging_timeout/_is_fatal."""
        events = vvif.plug_events(instance.network_info)
        timeout = self.conf.vif_plugging_timeout
        if not events or timeout <= 0:
            self._start(dom)
            return
        with self.virtapi.wait_for_instance_event(instance.uuid, events, timeout):
            self._create_paused(dom)
        dom.resume()
        if not _wait(lambda: self._state(dom) == driver.RUNNING, 30):
            raise DriverError("guest did not reach the running state")

    def _create_paused(self, dom: Any) -> None:
        lv = self._lv
        try:
            dom.createWithFlags(lv.VIR_DOMAIN_START_PAUSED)
        except lv.libvirtError as err:
            if err.get_error_code() != lv.VIR_ERR_INVALID_ARG:
                raise
            dom.create()  # a driver without START_PAUSED (libvirt's test driver)
            dom.suspend()

    def _start(self, dom: Any) -> None:
        dom.create()
        if not _wait(lambda: self._state(dom) == driver.RUNNING, 30):
            raise DriverError("guest did not reach the running state")

    # --- spawn / destroy -----------------------------------------------------------

    def spawn(self, instance: InstanceSpec, image_meta: dict) -> None:
        devices = instance.extra.get("block_devices") or []
        root_volume = vvolume.boots_from_volume(devices)
        if not instance.image_id and not root_volume:
            raise DriverError("booting without an image or a root volume is not supported")
        disk_format = image_meta.get("disk_format") or "raw"
        if disk_format in ("aki", "ari"):
            raise DriverError(f"image {instance.image_id} is a kernel or ramdisk image, "
                              "it cannot be booted by itself")
        if disk_format == "iso":
            raise DriverError("booting from ISO images is not supported")
        props = image_meta.get("properties") or {}
        invalid = image_properties.invalid_property(props)
        if invalid:
            raise DriverError(invalid)
        kernel_id, ramdisk_id = props.get("kernel_id"), props.get("ramdisk_id")
        if self._lookup(instance) is not None:
            raise DriverError(f"a guest with uuid {instance.uuid} already exists")

        inst_dir = self._instance_dir(instance)
        try:
            with self._errors(f"creating {instance.name}"):
                os.makedirs(inst_dir, mode=0o755, exist_ok=True)
                root_image = None if root_volume else instance.image_id
                imagecache.ImageCache.record_usage(
                    inst_dir, [i for i in (root_image, kernel_id, ramdisk_id) if i])
                if root_image:
                    base, meta = self._cache.fetch(root_image)
                    disk = os.path.join(inst_dir, "disk")
                    base_format = "qcow2" if meta.get("disk_format") == "qcow2" else "raw"
                    disk_files.create_overlay(base, base_format, disk, instance.root_gb)
                vlocal.create(inst_dir, instance.extra.get("local_disks") or [])
                drive_files = configdrive.files_or_none(instance.extra.get("config_drive"))
                if drive_files is not None:
                    configdrive.build_iso(drive_files, configdrive.drive_path(inst_dir))
                self._start_plugged(instance, self._define(instance, props, devices))
        except DriverError:
            LOG.warning("spawn of %s failed; cleaning up", instance.uuid)
            with contextlib.suppress(Exception):
                self.destroy(instance)
            raise
        LOG.info("spawned %s (%s)", instance.name, instance.uuid)

    def _define(self, instance: InstanceSpec, props: dict, devices: list = ()) -> Any:
        """Define (or redefine) the domain of an instance whose directory holds its disk
        (and config drive, if it has one), with the volumes of a build (``devices``);
        kernel and ramdisk come from the cache."""
        inst_dir = self._instance_dir(instance)
        kernel_id, ramdisk_id = props.get("kernel_id"), props.get("ramdisk_id")
        kernel = self._cache.fetch(kernel_id)[0] if kernel_id else None
        ramdisk = self._cache.fetch(ramdisk_id)[0] if ramdisk_id else None
        drive = configdrive.drive_path(inst_dir)
        guest = vconfig.GuestConfig(
            name=instance.name, uuid=instance.uuid, vcpus=instance.vcpus,
            memory_mb=instance.memory_mb, virt_type=self.virt_type,
            disk_path=os.path.join(inst_dir, "disk"),
            console_log=os.path.join(inst_dir, "console.log"),
            display_name=instance.display_name, image_id=instance.image_id, host=self.host,
            kernel_path=kernel, ramdisk_path=ramdisk,
            cmdline=vconfig.kernel_cmdline(props, self.virt_type) if kernel else None,
            config_drive_path=drive if os.path.exists(drive) else None,
            vnc_listen=self._vnc_listen(),
            interfaces=self._interfaces(instance, props.get("hw_vif_model") or "virtio"),
            disk_bus=props.get("hw_disk_bus") or "virtio",
            machine_type=props.get("hw_machine_type"))
        vlocal.add_to_guest(guest, inst_dir)
        vvolume.add_to_guest(guest, devices)
        return self._host.get_connection().defineXML(vconfig.domain_xml(guest))

    def _undefine(self, instance: InstanceSpec) -> None:
        """Stop and undefine the domain, if any (its files stay)."""
        lv = self._lv
        dom = self._lookup(instance)
        if dom is None:
            return
        if dom.isActive():
            self._hard_stop(dom)
        try:
            dom.undefineFlags(lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        except lv.libvirtError as err:
            if err.get_error_code() != lv.VIR_ERR_NO_DOMAIN:
                raise

    def destroy(self, instance: InstanceSpec) -> None:
        with self._errors(f"deleting {instance.name}"):
            self._undefine(instance)
            shutil.rmtree(self._instance_dir(instance), ignore_errors=True)
            shutil.rmtree(self._set_aside_dir(instance), ignore_errors=True)

    # --- power ---------------------------------------------------------------------

    def get_power_state(self, instance: InstanceSpec) -> int:
        with self._errors(f"reading the state of {instance.name}"):
            dom = self._lookup(instance)
            if dom is None:
                return driver.NOSTATE
            try:
                return self._state(dom)
            except self._lv.libvirtError as err:
                if err.get_error_code() == self._lv.VIR_ERR_NO_DOMAIN:
                    return driver.NOSTATE
                raise

    def reboot(self, instance: InstanceSpec, reboot_type: str) -> None:
        with self._errors(f"rebooting {instance.name}"):
            dom = self._get(instance)
            if reboot_type == "SOFT" and self._soft_reboot(dom):
                return
            if reboot_type == "SOFT":
                LOG.warning("%s did not shut down within %ss; rebooting it hard",
                            instance.name, self.conf.compute.shutdown_timeout)
            self._hard_reboot(dom)

    def _soft_reboot(self, dom: Any) -> bool:
        """ACPI shutdown, then start again; False when the guest did not cooperate."""
        if self._state(dom) != driver.RUNNING:
            return False
        try:  # the power button; on_poweroff=destroy ends the process
            if not self._clean_shutdown(dom, self.conf.compute.shutdown_timeout):
                return False
        except self._lv.libvirtError:
            return False
        self._start(dom)
        return True

    def _hard_reboot(self, dom: Any) -> None:
        if dom.isActive():
            self._hard_stop(dom)
        if dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)  # a hard reboot boots afresh
        self._start(dom)

    def power_off(self, instance: InstanceSpec, timeout: int = 0) -> None:
        with self._errors(f"stopping {instance.name}"):
            dom = self._get(instance)
            if not dom.isActive():
                if dom.hasManagedSaveImage(0):
                    dom.managedSaveRemove(0)  # stopped means its memory is gone
                return
            if timeout > 0 and self._state(dom) == driver.RUNNING:
                try:
                    if self._clean_shutdown(dom, timeout):
                        return
                    LOG.info("%s ignored the shutdown request for %ss; destroying it",
                             instance.name, timeout)
                except self._lv.libvirtError as err:
                    LOG.info("ACPI shutdown of %s failed (%s); destroying it",
                             instance.name, err.get_error_message())
            self._hard_stop(dom)

    def power_on(self, instance: InstanceSpec) -> None:
        with self._errors(f"starting {instance.name}"):
            dom = self._get(instance)
            if not dom.isActive():
                self._start(dom)

    def pause(self, instance: InstanceSpec) -> None:
        with self._errors(f"pausing {instance.name}"):
            self._get(instance).suspend()

    def unpause(self, instance: InstanceSpec) -> None:
        with self._errors(f"unpausing {instance.name}"):
            self._get(instance).resume()

    def suspend(self, instance: InstanceSpec) -> None:
        """Save the guest's memory to disk (libvirt managed save) and stop it."""
        with self._errors(f"suspending {instance.name}"):
            self._get(instance).managedSave(0)

    def resume(self, instance: InstanceSpec) -> None:
        """Restore from the managed save image; create() picks it up."""
        with self._errors(f"resuming {instance.name}"):
            dom = self._get(instance)
            if not dom.isActive():
                self._start(dom)

    # --- moves (resize) -------------------------------------------------------------
    # The guest's directory is set aside as <uuid>_resize (as Nova's driver does) until
    # the move is confirmed or reverted; the new guest lives in <uuid>.

    def _set_aside_dir(self, instance: InstanceSpec) -> str:
        return self._instance_dir(instance) + "_resize"

    def migrate_disk_and_power_off(self, instance: InstanceSpec, dest_host: str,
                                   new: InstanceSpec, timeout: int = 0) -> dict:
        if not _root_volume(instance) and new.root_gb and new.root_gb < instance.root_gb:
            raise DriverError("Resize error: Unable to resize disk down.")
        if dest_host != self.host:
            # Copying the disk to another host needs a transfer between compute hosts
            # that this driver does not have yet; nothing has been touched.
            raise DriverError(f"the libvirt driver moves guests within one host only, not "
                              f"from {self.host} to {dest_host}; set [DEFAULT] "
                              "allow_resize_to_same_host = True to resize in place")
        with self._errors(f"setting {instance.name} aside"):
            if self._lookup(instance) is not None:
                self.power_off(instance, timeout)
            aside = self._set_aside_dir(instance)
            if os.path.isdir(self._instance_dir(instance)):
                shutil.rmtree(aside, ignore_errors=True)
                os.rename(self._instance_dir(instance), aside)
            elif not os.path.isdir(aside) and not _root_volume(instance):
                raise DriverError(f"guest {instance.name} has no disk on {self.host}")
            self._undefine(instance)
        return {"source_host": self.host, "disk": os.path.join(aside, "disk")}

    def finish_migration(self, instance: InstanceSpec, disk_info: dict, image_meta: dict,
                         same_host: bool, power_on: bool) -> None:
        inst_dir = self._instance_dir(instance)
        try:
            with self._errors(f"creating {instance.name} at its new size"):
                source = os.path.join(self._set_aside_dir(instance), "disk")
                root_volume = _root_volume(instance)
                if not root_volume and not os.path.exists(source):
                    raise DriverError(f"the disk of {instance.name} set aside by the source "
                                      f"host {disk_info.get('source_host')} is not here")
                shutil.rmtree(inst_dir, ignore_errors=True)
                os.makedirs(inst_dir, mode=0o755)
                props = image_meta.get("properties") or {}
                imagecache.ImageCache.record_usage(inst_dir, [
                    i for i in (instance.image_id, props.get("kernel_id"),
                                props.get("ramdisk_id")) if i])
                disk = os.path.join(inst_dir, "disk")
                if not root_volume:  # a root volume stays where it is, in Cinder
                    shutil.copyfile(source, disk)  # a qcow2 overlay: its base is shared
                    os.chmod(disk, 0o644)
                drive = configdrive.drive_path(os.path.dirname(source))
                if os.path.exists(drive):
                    shutil.copyfile(drive, configdrive.drive_path(inst_dir))
                vlocal.copy(os.path.dirname(source), inst_dir)
                size = instance.root_gb * GiB
                if not root_volume and size and \
                        disk_files.virtual_size(disk, "qcow2") < size:
                    disk_files.run(["qemu-img", "resize", "-q", "-f", "qcow2", disk,
                                    str(size)])
                dom = self._define(instance, props,
                                   instance.extra.get("block_devices") or [])
                if power_on:
                    self._start(dom)
        except DriverError:
            with contextlib.suppress(Exception):
                self.cleanup_migration_destination(instance, same_host)
            raise
        LOG.info("%s (%s) now has %d vCPU, %d MiB, %d GiB", instance.name, instance.uuid,
                 instance.vcpus, instance.memory_mb, instance.root_gb)

    def confirm_migration(self, instance: InstanceSpec, same_host: bool) -> None:
        shutil.rmtree(self._set_aside_dir(instance), ignore_errors=True)

    def cleanup_migration_destination(self, instance: InstanceSpec, same_host: bool) -> None:
        with self._errors(f"removing the resized {instance.name}"):
            self._undefine(instance)
            shutil.rmtree(self._instance_dir(instance), ignore_errors=True)

    def finish_revert_migration(self, instance: InstanceSpec, power_on: bool) -> None:
        with self._errors(f"restoring {instance.name}"):
            # Redefined at its old size, whatever a half-done move left defined.
            self._undefine(instance)
            aside = self._set_aside_dir(instance)
            if os.path.isdir(aside):
                shutil.rmtree(self._instance_dir(instance), ignore_errors=True)
                os.rename(aside, self._instance_dir(instance))
            if not _root_volume(instance) and not os.path.exists(
                    os.path.join(self._instance_dir(instance), "disk")):
                raise DriverError(f"guest {instance.name} has no disk to restore")
            os.makedirs(self._instance_dir(instance), mode=0o755, exist_ok=True)
            image_meta = self.image_source.show(instance.image_id) if instance.image_id \
                else instance.extra.get("image_meta") or {}
            dom = self._define(instance, image_meta.get("properties") or {},
                               instance.extra.get("block_devices") or [])
            if power_on:
                self._start(dom)

    # --- console and housekeeping --------------------------------------------------

    def _vnc_listen(self) -> Optional[str]:
        vnc = getattr(self.conf, "vnc", None)
        return vnc.server_listen if vnc is not None and vnc.enabled else None

    def get_vnc_console(self, instance: InstanceSpec) -> dict:
        """Where the guest's VNC server listens: {"host", "port"} (the host as
        nova-lite-novncproxy reaches it: [vnc] server_proxyclient_address)."""
        vnc = getattr(self.conf, "vnc", None)
        if vnc is None or not vnc.enabled:
            raise driver.ConsoleUnavailable("vnc")
        with self._errors(f"reading the VNC port of {instance.name}"):
            dom = self._get(instance)
            if not dom.isActive():
                raise DriverError(f"guest {instance.name} is not running")
            port = vconfig.vnc_port(dom.XMLDesc(0))
        if port is None:
            raise driver.ConsoleUnavailable("vnc")
        return {"host": vnc.server_proxyclient_address, "port": port}

    def get_console_output(self, instance: InstanceSpec) -> str:
        path = os.path.join(self._instance_dir(instance), "console.log")
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - CONSOLE_MAX_BYTES))
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            if self._lookup(instance) is None:
                raise DriverError(f"guest {instance.name} does not exist") from None
            return ""

    def periodic_cleanup(self, active_uuids: list[str]) -> None:
        """Remove cached base images that no instance directory on this host uses.

        An instance directory exists from the start of spawn until destroy, so a base
        is kept exactly as long as some instance (in any state) may still need it.
        """
        if not self.conf.libvirt.remove_unused_base_images:
            return
        strays = self._stray_instance_dirs(set(active_uuids))
        if strays:
            LOG.warning("instance directories without an instance: %s (kept; their "
                        "base images stay cached)", ", ".join(sorted(strays)))
        self._cache.cleanup()

    def _stray_instance_dirs(self, active: set[str]) -> set[str]:
        # <uuid>_resize holds what a move set aside: it belongs to <uuid>
        known = active | set(self.list_instance_uuids())
        return {d for d in self._cache.stray_instance_dirs(known)
                if d.removesuffix("_resize") not in known}


def _root_volume(instance: InstanceSpec) -> bool:
    """Whether the instance's root disk is a volume (of the block_devices it is given)."""
    return any(d.get("boot_index") == 0 for d in instance.extra.get("block_devices") or [])
