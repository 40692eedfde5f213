"""LibvirtDriver's live migration against a scripted domain: the flags and parameters of
migrateToURI3 (live, peer to peer, block migration of the writable disks only, the
destination's definition naming the destination host), progress from jobStats, abort,
force complete and failures. libvirt's test driver cannot migrate and no second libvirt
daemon is reachable here, so the domain is a stand-in; the calls are libvirt's."""

from __future__ import annotations

import threading
import types
import xml.etree.ElementTree as ET

import pytest

from nova_lite.virt import driver
from nova_lite.virt.libvirt import config as vconfig
from nova_lite.virt.libvirt import live_migration as lm
from nova_lite.virt.libvirt.driver import LibvirtDriver


class LibvirtError(Exception):
    def get_error_message(self) -> str:
        return str(self)

    def get_error_code(self) -> int:
        return 1


LV = types.SimpleNamespace(
    libvirtError=LibvirtError, VIR_ERR_NO_DOMAIN=42, VIR_DOMAIN_XML_MIGRATABLE=8,
    VIR_MIGRATE_LIVE=1, VIR_MIGRATE_PEER2PEER=2, VIR_MIGRATE_PERSIST_DEST=8,
    VIR_MIGRATE_UNDEFINE_SOURCE=16, VIR_MIGRATE_NON_SHARED_INC=128,
    VIR_MIGRATE_PARAM_DEST_XML="destination_xml", VIR_MIGRATE_PARAM_MIGRATE_DISKS="migrate_disks",
    VIR_MIGRATE_PARAM_BANDWIDTH="bandwidth", VIR_DOMAIN_PAUSED=3, VIR_DOMAIN_RUNNING=1)

NS = vconfig.METADATA_NS
XML = f"""<domain type='qemu'><name>instance-1</name>
<metadata><nova_lite:instance xmlns:nova_lite="{NS}"><nova_lite:host>src</nova_lite:host>
</nova_lite:instance></metadata>
<devices>
  <disk type='file' device='disk'><source file='/i/disk'/><target dev='vda'/></disk>
  <disk type='file' device='cdrom'><source file='/i/disk.config'/><target dev='sda'/>
    <readonly/></disk>
</devices></domain>"""


class Domain:
    """migrateToURI3 runs until released, aborted or failed; jobStats says how far."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list = []
        self.release = threading.Event()
        self.aborted = threading.Event()
        self.fail = fail
        self.paused = False

    def XMLDesc(self, flags: int) -> str:
        return XML

    def migrateToURI3(self, uri: str, params: dict, flags: int) -> None:
        self.calls.append((uri, params, flags))
        if self.fail:
            raise LibvirtError("unable to connect to the destination")
        while not self.release.wait(0.01):
            if self.aborted.is_set():
                raise LibvirtError("operation aborted: migration job: canceled by client")

    def jobStats(self) -> dict:
        return {"type": 2, "memory_total": 100, "memory_processed": 40,
                "memory_remaining": 60, "disk_total": 10, "disk_processed": 10,
                "disk_remaining": 0}

    def abortJob(self) -> None:
        self.aborted.set()

    def suspend(self) -> None:
        self.paused = True
        self.release.set()

    def state(self) -> tuple:
        return (LV.VIR_DOMAIN_PAUSED if self.paused else LV.VIR_DOMAIN_RUNNING, 0)

    def resume(self) -> None:
        self.paused = False


@pytest.fixture
def drv(monkeypatch):
    d = LibvirtDriver.__new__(LibvirtDriver)
    d._lv = LV
    d.host = "src"
    d.conf = types.SimpleNamespace(libvirt=types.SimpleNamespace(
        live_migration_uri="qemu+tcp://%s/system", live_migration_bandwidth=0))
    d.dom = Domain()
    d.instances_path = "/i"
    monkeypatch.setattr(lm, "PROGRESS_POLL", 0.01)
    d._get = lambda instance: d.dom
    return d


SPEC = driver.InstanceSpec("u-1", "instance-1", "vm", 1, 512, 1, "img")


def _migrate_in_background(drv, block=True):
    seen: list = []
    out: dict = {}

    def run():
        try:
            drv.live_migration(SPEC, "dst", {"instances_path": "/var/lib/dst"}, block,
                               seen.append)
        except Exception as err:
            out["error"] = err
    th = threading.Thread(target=run)
    th.start()
    while not seen:
        th.join(0.01)
    return th, seen, out


def test_block_migration_calls_migrate_to_uri3_and_reports_progress(drv):
    th, seen, out = _migrate_in_background(drv)
    drv.dom.release.set()
    th.join(5)
    assert not out
    uri, params, flags = drv.dom.calls[0]
    assert uri == "qemu+tcp://dst/system"
    assert flags == (LV.VIR_MIGRATE_LIVE | LV.VIR_MIGRATE_PEER2PEER |
                     LV.VIR_MIGRATE_PERSIST_DEST | LV.VIR_MIGRATE_UNDEFINE_SOURCE |
                     LV.VIR_MIGRATE_NON_SHARED_INC)
    assert params["migrate_disks"] == ["vda"]  # not the read-only config drive
    dest = ET.fromstring(params["destination_xml"])
    assert vconfig.metadata_host(ET.tostring(dest.find("metadata")[0],
                                             encoding="unicode")) == "dst"
    # the destination's instances_path
    assert [d.find("source").get("file") for d in dest.findall("./devices/disk")] == [
        "/var/lib/dst/disk", "/var/lib/dst/disk.config"]
    assert seen[0] == {"memory_total": 100, "memory_processed": 40,
                       "memory_remaining": 60, "disk_total": 10, "disk_processed": 10,
                       "disk_remaining": 0}
    assert seen[-1] == {"memory_remaining": 0, "disk_remaining": 0}


def test_without_block_migration_no_disks_travel(drv):
    drv.conf.libvirt.live_migration_bandwidth = 50
    th, _, _ = _migrate_in_background(drv, block=False)
    drv.dom.release.set()
    th.join(5)
    _, params, flags = drv.dom.calls[0]
    assert not flags & LV.VIR_MIGRATE_NON_SHARED_INC
    assert "migrate_disks" not in params and params["bandwidth"] == 50


def test_abort_raises_live_migration_aborted(drv):
    th, _, out = _migrate_in_background(drv)
    drv.live_migration_abort(SPEC)
    th.join(5)
    assert isinstance(out["error"], driver.LiveMigrationAborted)
    with pytest.raises(driver.DriverError):  # nothing runs any more
        drv.live_migration_abort(SPEC)


def test_force_complete_pauses_and_the_destination_resumes(drv):
    th, _, out = _migrate_in_background(drv)
    drv.live_migration_force_complete(SPEC)
    th.join(5)
    assert not out and drv.dom.paused
    drv.post_live_migration_at_destination(SPEC, paused=False)
    assert not drv.dom.paused


def test_a_paused_guest_stays_paused_at_the_destination(drv):
    drv.dom.paused = True
    drv.post_live_migration_at_destination(SPEC, paused=True)
    assert drv.dom.paused


def test_a_failure_is_a_driver_error(drv):
    drv.dom = Domain(fail=True)
    with pytest.raises(driver.DriverError, match="unable to connect"):
        drv.live_migration(SPEC, "dst", {}, True, lambda stats: None)


def test_pre_live_migration_prepares_an_overlay_for_block_migration(drv, tmp_path,
                                                                    monkeypatch):
    from nova_lite.virt.libvirt import disk_files

    made = []
    monkeypatch.setattr(disk_files, "create_overlay",
                        lambda base, fmt, path, gb: made.append((base, fmt, path, gb)))
    drv.instances_path = str(tmp_path)
    drv._cache = types.SimpleNamespace(
        fetch=lambda image_id: (f"/base/{image_id}", {"disk_format": "qcow2"}))
    data = drv.pre_live_migration(SPEC, True, {"properties": {}})
    assert data == {"dest_host": "src", "block_migration": True,
                    "instances_path": str(tmp_path)}
    assert made == [("/base/img", "qcow2", str(tmp_path / "u-1" / "disk"), 1)]
    assert drv.pre_live_migration(SPEC, False, {})["block_migration"] is False
    assert len(made) == 1


def test_pre_live_migration_makes_the_config_drive_again(drv, tmp_path, monkeypatch):
    from nova_lite.virt import configdrive

    built = []
    monkeypatch.setattr(configdrive, "build_iso", lambda files, dest: built.append(
        (list(files), dest)))
    drv.instances_path = str(tmp_path)
    drv._cache = types.SimpleNamespace(fetch=lambda image_id: ("/base/x", {}))
    spec = driver.InstanceSpec("u-2", "instance-2", "vm", 1, 512, 1, "img",
                               extra={"config_drive": [("openstack/latest/meta_data.json",
                                                        b"{}")]})
    drv.pre_live_migration(spec, False, {})
    assert built == [([("openstack/latest/meta_data.json", b"{}")],
                      configdrive.drive_path(str(tmp_path / "u-2")))]
