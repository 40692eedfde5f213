"""Live migration with libvirt: migrateToURI3, peer to peer, with the disks copied along
(block migration: VIR_MIGRATE_NON_SHARED_INC, since compute hosts share no
instances_path). The destination prepares the guest's directory, an empty overlay over
the same cached base image (only the guest's own blocks travel) and its config drive
(read-only, left out of the copy), and names its instances_path, where the definition
it receives points. The domain arrives defined (PERSIST_DEST) and leaves the source
undefined (UNDEFINE_SOURCE); its nova_lite metadata names the destination host, so that
host recognises it as its own.
"""

from __future__ import annotations

import logging
import os
import threading
import xml.etree.ElementTree as ET
from typing import Any

from nova_lite.virt import configdrive, driver, imagecache
from nova_lite.virt.driver import DriverError, InstanceSpec
from nova_lite.virt.libvirt import config as vconfig
from nova_lite.virt.libvirt import disk_files

LOG = logging.getLogger(__name__)

# How often the copy's progress is read (seconds).
PROGRESS_POLL = 0.5
_STATS = ("memory_total", "memory_processed", "memory_remaining", "disk_total",
          "disk_processed", "disk_remaining")


def dest_xml(domain_xml: str, dest_host: str, source_path: str = "",
             dest_path: str = "") -> str:
    """The domain's definition as the destination keeps it: owned by ``dest_host``, its
    files (disks, config drive, console log, kernel) under the destination's
    instances_path."""
    if source_path and dest_path and source_path != dest_path:
        domain_xml = domain_xml.replace(source_path.rstrip("/") + "/",
                                        dest_path.rstrip("/") + "/")
    root = ET.fromstring(domain_xml)
    for el in root.iter(f"{{{vconfig.METADATA_NS}}}host"):
        el.text = dest_host
    return ET.tostring(root, encoding="unicode")


def writable_disks(domain_xml: str) -> list[str]:
    """Target devices of the disks a block migration copies (not read-only CD-ROMs)."""
    root = ET.fromstring(domain_xml)
    out = []
    for disk in root.findall("./devices/disk"):
        target = disk.find("target")
        if disk.get("device") == "disk" and disk.find("readonly") is None and \
                target is not None:
            out.append(target.get("dev"))
    return out


class LiveMigrationMixin:
    _lv: Any
    host: str
    conf: Any
    _cache: Any
    instances_path: str

    def _jobs(self) -> dict:
        """Copies running from this host, by instance uuid (abort and force complete
        reach them from other threads)."""
        return self.__dict__.setdefault("_live_jobs", {})

    def pre_live_migration(self, instance: InstanceSpec, block_migration: bool,
                           image_meta: dict) -> dict:

        inst_dir = self._instance_dir(instance)  # type: ignore[attr-defined]
        props = image_meta.get("properties") or {}
        ids = [i for i in (instance.image_id, props.get("kernel_id"),
                           props.get("ramdisk_id")) if i]
        with self._errors(f"preparing for {instance.name}"):  # type: ignore[attr-defined]
            os.makedirs(inst_dir, mode=0o755, exist_ok=True)
            imagecache.ImageCache.record_usage(inst_dir, ids)
            fetched = [self._cache.fetch(i) for i in ids]
            disk = os.path.join(inst_dir, "disk")
            if block_migration and fetched and not os.path.exists(disk):
                base, meta = fetched[0]
                fmt = "qcow2" if meta.get("disk_format") == "qcow2" else "raw"
                disk_files.create_overlay(base, fmt, disk, instance.root_gb)
            drive_files = configdrive.files_or_none(instance.extra.get("config_drive"))
            if drive_files is not None:
                configdrive.build_iso(drive_files, configdrive.drive_path(inst_dir))
        return {"dest_host": self.host, "block_migration": block_migration,
                "instances_path": self.instances_path}

    def live_migration(self, instance: InstanceSpec, dest_host: str, migrate_data: dict,
                       block_migration: bool, progress: driver.ProgressCallback) -> None:
        lv = self._lv
        dom = self._get(instance)  # type: ignore[attr-defined]
        with self._errors(f"starting the live migration of {instance.name}"):  # type: ignore[attr-defined]
            xml = dom.XMLDesc(lv.VIR_DOMAIN_XML_MIGRATABLE)
        flags = (lv.VIR_MIGRATE_LIVE | lv.VIR_MIGRATE_PEER2PEER |
                 lv.VIR_MIGRATE_PERSIST_DEST | lv.VIR_MIGRATE_UNDEFINE_SOURCE)
        params: dict = {lv.VIR_MIGRATE_PARAM_DEST_XML: dest_xml(
            xml, dest_host, self.instances_path, migrate_data.get("instances_path", ""))}
        if block_migration:
            flags |= lv.VIR_MIGRATE_NON_SHARED_INC
            params[lv.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = writable_disks(xml)
        if self.conf.libvirt.live_migration_bandwidth:
            params[lv.VIR_MIGRATE_PARAM_BANDWIDTH] = self.conf.libvirt.live_migration_bandwidth
        uri = self.conf.libvirt.live_migration_uri % dest_host
        job: dict = {"abort": False, "error": None, "dom": dom}
        self._jobs()[instance.uuid] = job

        def run() -> None:
            try:
                dom.migrateToURI3(uri, params, flags)
            except Exception as err:  # reported by the caller's thread
                job["error"] = err

        worker = threading.Thread(target=run, name=f"migrate-{instance.uuid}", daemon=True)
        LOG.info("live migration of %s to %s (%s, block %s)", instance.name, uri, flags,
                 block_migration)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(PROGRESS_POLL)
                stats = self._job_stats(dom)
                if stats and worker.is_alive():
                    progress(stats)
        finally:
            self._jobs().pop(instance.uuid, None)
        err = job["error"]
        if err is not None:
            if job["abort"]:
                raise driver.LiveMigrationAborted(f"live migration of {instance.name} "
                                                  "aborted")
            msg = err.get_error_message() if isinstance(err, lv.libvirtError) else str(err)
            raise DriverError(f"live migration of {instance.name} to {dest_host} failed: "
                              f"{msg}")
        progress({"memory_remaining": 0, "disk_remaining": 0})

    def _job_stats(self, dom: Any) -> dict:
        try:
            stats = dom.jobStats()
        except self._lv.libvirtError:
            return {}
        return {k: int(stats[k]) for k in _STATS if k in stats}

    def _running_job(self, instance: InstanceSpec) -> dict:
        job = self._jobs().get(instance.uuid)
        if job is None:
            raise DriverError(f"no live migration of {instance.name} is running")
        return job

    def live_migration_abort(self, instance: InstanceSpec) -> None:
        job = self._running_job(instance)
        job["abort"] = True
        with self._errors(f"aborting the live migration of {instance.name}"):  # type: ignore[attr-defined]
            job["dom"].abortJob()

    def live_migration_force_complete(self, instance: InstanceSpec) -> None:
        """Pause the guest: its memory stops changing and the copy converges; the
        destination resumes it (post_live_migration_at_destination)."""
        job = self._running_job(instance)
        with self._errors(f"pausing {instance.name} to finish its migration"):  # type: ignore[attr-defined]
            job["dom"].suspend()

    def post_live_migration_at_destination(self, instance: InstanceSpec,
                                           paused: bool = False) -> None:
        lv = self._lv
        with self._errors(f"taking over {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            state, _ = dom.state()
            if state == lv.VIR_DOMAIN_PAUSED and not paused:
                dom.resume()
