"""What the libvirt driver does with a guest's disks beyond booting it: snapshots and
rescue (a LibvirtDriver mixin).

snapshot: the root disk (a qcow2 overlay over a cached base) is flattened with
``qemu-img convert`` into a standalone qcow2. A guest that is running or paused is saved
away first (libvirt managed save: the disk is at rest and fully written) and brought
back afterwards, as Nova's cold snapshot does.

rescue: the domain's definition is kept in ``unrescue.xml``, then the domain is defined
again from it booting a fresh overlay of the rescue image (``disk.rescue``): as vda with
the server's own disks following (its root disk as vdb), or, for a stable device rescue
(the image's hw_rescue_device / hw_rescue_bus), added after every disk the server has,
its volumes included, which keep their names. unrescue defines the kept definition
again and drops the rescue files; it does nothing when there is no rescue.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from typing import Any

from nova_lite.virt import driver, imagecache, rescue_device
from nova_lite.virt.driver import InstanceSpec
from nova_lite.virt.libvirt import config as vconfig
from nova_lite.virt.libvirt import disk_files

LOG = logging.getLogger(__name__)

RESCUE_DISK = "disk.rescue"
UNRESCUE_XML = "unrescue.xml"


def _add_usage(inst_dir: str, image_ids: list[str]) -> None:
    """Add images to those the instance directory keeps cached (see imagecache)."""
    path = os.path.join(inst_dir, imagecache.USAGE_FILE)
    try:
        with open(path) as f:
            names = set(json.load(f))
    except (OSError, ValueError):
        names = set()
    names.update(imagecache.base_name(i) for i in image_ids)
    tmp = path + ".rescue.tmp"
    with open(tmp, "w") as f:
        json.dump(sorted(names), f)
    os.replace(tmp, path)


class GuestImagesMixin:
    _lv: Any
    _host: Any
    _cache: Any
    virt_type: str
    host: str

    # -- snapshot --------------------------------------------------------------------------
    def snapshot(self, instance: InstanceSpec, dest_path: str) -> str:
        lv = self._lv
        with self._errors(f"snapshotting {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            was = self._state(dom)  # type: ignore[attr-defined]
            saved = bool(dom.isActive())
            if saved:
                dom.managedSave(0)
            try:
                disk = os.path.join(self._instance_dir(instance), "disk")  # type: ignore[attr-defined]
                disk_files.run(["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2",
                                  disk, dest_path])
            finally:
                if saved:
                    flags = lv.VIR_DOMAIN_START_PAUSED if was == driver.PAUSED else 0
                    dom.createWithFlags(flags)
        LOG.info("snapshot of %s written to %s", instance.name, dest_path)
        return "qcow2"

    # -- rescue ----------------------------------------------------------------------------
    def rescue(self, instance: InstanceSpec, image_meta: dict, admin_password: str) -> None:
        inst_dir = self._instance_dir(instance)  # type: ignore[attr-defined]
        with self._errors(f"rescuing {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            kept = os.path.join(inst_dir, UNRESCUE_XML)
            if not os.path.exists(kept):  # written first: unrescue can always undo
                tmp = kept + ".part"
                with open(tmp, "w") as f:
                    f.write(dom.XMLDesc(self._lv.VIR_DOMAIN_XML_INACTIVE))
                os.replace(tmp, kept)
            props = image_meta.get("properties") or {}
            kernel_id, ramdisk_id = props.get("kernel_id"), props.get("ramdisk_id")
            _add_usage(inst_dir, [i for i in (image_meta["id"], kernel_id, ramdisk_id) if i])
            base, meta = self._cache.fetch(image_meta["id"])
            kernel = self._cache.fetch(kernel_id)[0] if kernel_id else None
            ramdisk = self._cache.fetch(ramdisk_id)[0] if ramdisk_id else None
            rescue_disk = os.path.join(inst_dir, RESCUE_DISK)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(rescue_disk)
            disk_files.create_overlay(
                base, "qcow2" if meta.get("disk_format") == "qcow2" else "raw", rescue_disk, 0)
            cmdline = vconfig.kernel_cmdline(props, self.virt_type) if kernel else None
            stable = rescue_device.stable_device(props)
            with open(kept) as f:
                if stable is None:
                    xml = vconfig.rescue_xml(f.read(), rescue_disk, kernel, ramdisk, cmdline)
                else:
                    xml = vconfig.stable_rescue_xml(f.read(), rescue_disk, stable.device,
                                                    stable.bus, kernel, ramdisk, cmdline)
            self._redefine_and_start(dom, xml)
        LOG.info("rescued %s from image %s (%s)", instance.name, image_meta["id"],
                 f"stable: {stable.device} on {stable.bus}" if stable else "legacy")

    def unrescue(self, instance: InstanceSpec) -> None:
        inst_dir = self._instance_dir(instance)  # type: ignore[attr-defined]
        kept = os.path.join(inst_dir, UNRESCUE_XML)
        if not os.path.exists(kept):
            return
        with self._errors(f"unrescuing {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            with open(kept) as f:
                xml = f.read()
            self._redefine_and_start(dom, xml)
            for name in (RESCUE_DISK, UNRESCUE_XML):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(inst_dir, name))
        LOG.info("unrescued %s", instance.name)

    def _redefine_and_start(self, dom: Any, xml: str) -> None:
        """Stop the domain, replace its definition, boot it afresh."""
        if dom.isActive():
            self._hard_stop(dom)  # type: ignore[attr-defined]
        if dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)
        dom = self._host.get_connection().defineXML(xml)
        self._start(dom)  # type: ignore[attr-defined]
