"""LibvirtDriver against libvirt's in-process test driver (test:///default).

No daemon and no real guest: this checks the driver's bookkeeping (domain definition,
state mapping, image cache, clean-up, events). tests/functional/libvirt covers the real
thing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
import uuid

import pytest
from oslo_config import cfg

libvirt = pytest.importorskip("libvirt")

from nova_lite.conf import compute as compute_conf  # noqa: E402
from nova_lite.conf import default as default_conf  # noqa: E402
from nova_lite.conf import image as image_conf  # noqa: E402
from nova_lite.conf import libvirt as libvirt_conf  # noqa: E402
from nova_lite.conf import network as network_conf  # noqa: E402
from nova_lite.virt import driver  # noqa: E402
from nova_lite.virt.libvirt import LibvirtDriver  # noqa: E402
from nova_lite.virt.libvirt import host as vhost  # noqa: E402
from nova_lite.image.api import Verifier  # noqa: E402
from nova_lite.virt import imagecache  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None,
                                reason="qemu-img (qemu-utils) is not installed")


class MemoryImages(driver.ImageSource):
    """An image source holding bytes in memory; counts downloads and verifies them as
    the real image API does."""

    def __init__(self) -> None:
        self.images: dict[str, tuple[dict, bytes]] = {}
        self.downloads: list[str] = []
        self.delay = 0.0
        self.corrupt: set[str] = set()
        self._lock = threading.Lock()

    def add(self, data: bytes, disk_format: str = "raw", **props: str) -> str:
        image_id = str(uuid.uuid4())
        meta = {"id": image_id, "name": image_id, "disk_format": disk_format,
                "container_format": "bare", "size": len(data),
                "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(data).hexdigest(),
                "status": "active", "properties": props}
        self.images[image_id] = (meta, data)
        return image_id

    def show(self, image_id: str) -> dict:
        if image_id not in self.images:
            raise LookupError(f"no image {image_id}")
        return dict(self.images[image_id][0])

    def download(self, image_id: str, dest_path: str, meta: dict | None = None) -> dict:
        with self._lock:
            self.downloads.append(image_id)
        time.sleep(self.delay)
        meta, data = self.images[image_id]
        if image_id in self.corrupt:
            data = data[:-1] + b"?"
        verifier = Verifier(meta)
        verifier.update(data)
        verifier.check()
        with open(dest_path, "wb") as f:
            f.write(data)
        return meta


def _conf(instances_path: str, virt_type: str = "qemu", uri: str = "test:///default",
          **libvirt_extra: str) -> cfg.ConfigOpts:
    """A private ConfigOpts read from a file.

    Not set_override: overrides of group options live on the OptGroup objects that
    every ConfigOpts (the global CONF too) shares, so they would leak into other tests.
    """
    path = os.path.join(os.path.dirname(instances_path), f"nova-{uuid.uuid4().hex}.conf")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    extra = "".join(f"{k} = {v}\n" for k, v in libvirt_extra.items())
    with open(path, "w") as f:
        f.write(f"[DEFAULT]\ninstances_path = {instances_path}\n"
                f"[libvirt]\nvirt_type = {virt_type}\nconnection_uri = {uri}\n{extra}"
                "[compute]\nshutdown_timeout = 5\n")
    conf = cfg.ConfigOpts()
    for mod in (default_conf, compute_conf, image_conf, libvirt_conf, network_conf):
        mod.register_opts(conf)
    conf(["--config-file", path], project="nova-lite-test")
    return conf


@pytest.fixture
def images() -> MemoryImages:
    return MemoryImages()


@pytest.fixture
def events() -> list:
    return []


@pytest.fixture
def drv(tmp_path, images, events):
    d = LibvirtDriver("testhost", images, _conf(str(tmp_path / "instances")))
    d.init_host(lambda u, s: events.append((u, s)))
    yield d
    for u in d.list_instance_uuids():
        d.destroy(driver.InstanceSpec(u, "", "", 0, 0, 0, ""))
    d.cleanup_host()


def _spec(image_id: str, name: str = "") -> driver.InstanceSpec:
    u = str(uuid.uuid4())
    return driver.InstanceSpec(u, name or f"instance-{u[:8]}", "vm", 1, 128, 1, image_id)


def _kernel_image(images: MemoryImages) -> str:
    kernel = images.add(b"K" * 4096, "aki")
    ramdisk = images.add(b"R" * 2048, "ari")
    return images.add(b"D" * 65536, "raw", kernel_id=kernel, ramdisk_id=ramdisk,
                      os_command_line="console=ttyS0")


def _domain(d: LibvirtDriver, spec: driver.InstanceSpec):
    return d._host.get_connection().lookupByUUIDString(spec.uuid)


def test_spawn_defines_and_starts_domain(drv, images):
    image_id = _kernel_image(images)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    dom = _domain(drv, spec)
    assert dom.name() == spec.name
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert drv.get_power_state(spec) == driver.RUNNING
    xml = dom.XMLDesc(0)
    base_dir = os.path.join(drv.instances_path, "_base")
    assert os.path.join(base_dir, imagecache.base_name(image_id)) not in xml  # overlay only
    assert f"{drv.instances_path}/{spec.uuid}/disk" in xml
    props = images.show(image_id)["properties"]
    assert os.path.join(base_dir, imagecache.base_name(props["kernel_id"])) in xml
    assert "console=ttyS0 no_timer_check" in xml
    assert os.path.exists(os.path.join(drv.instances_path, spec.uuid, "disk"))


def test_list_only_our_domains(drv, images):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    uuids = drv.list_instance_uuids()
    assert spec.uuid in uuids
    foreign = drv._host.get_connection().lookupByName("test").UUIDString()
    assert foreign not in uuids


def test_guests_of_another_compute_host_are_not_ours(tmp_path, drv, images, events):
    sibling = LibvirtDriver("otherhost", images, _conf(str(tmp_path / "other")))
    sibling.init_host()
    image_id = images.add(b"D" * 4096)
    theirs = _spec(image_id)
    sibling.spawn(theirs, images.show(image_id))
    try:
        assert theirs.uuid in sibling.list_instance_uuids()
        assert theirs.uuid not in drv.list_instance_uuids()
        sibling.power_off(theirs)
        time.sleep(0.5)
        assert all(u != theirs.uuid for u, _ in events)
    finally:
        sibling.destroy(theirs)
        sibling.cleanup_host()


def test_power_operations_map_states(drv, images):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    drv.pause(spec)
    assert drv.get_power_state(spec) == driver.PAUSED
    drv.unpause(spec)
    assert drv.get_power_state(spec) == driver.RUNNING
    drv.suspend(spec)
    assert _domain(drv, spec).hasManagedSaveImage(0)
    assert drv.get_power_state(spec) == driver.SUSPENDED
    drv.resume(spec)
    assert drv.get_power_state(spec) == driver.RUNNING
    drv.power_off(spec, timeout=5)
    assert drv.get_power_state(spec) == driver.SHUTDOWN
    drv.power_off(spec, timeout=5)  # already off: no error
    drv.power_on(spec)
    assert drv.get_power_state(spec) == driver.RUNNING
    drv.power_off(spec)  # no timeout: straight destroy
    assert drv.get_power_state(spec) == driver.SHUTDOWN
    drv.power_on(spec)
    for kind in ("SOFT", "HARD"):
        drv.reboot(spec, kind)
        assert drv.get_power_state(spec) == driver.RUNNING


def test_soft_reboot_of_paused_guest_falls_back_to_hard(drv, images):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    drv.pause(spec)
    drv.reboot(spec, "SOFT")
    assert drv.get_power_state(spec) == driver.RUNNING


def test_destroy_is_idempotent_and_removes_files(drv, images):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    drv.suspend(spec)  # a managed save image must not block undefine
    drv.destroy(spec)
    assert drv.get_power_state(spec) == driver.NOSTATE
    assert not os.path.exists(os.path.join(drv.instances_path, spec.uuid))
    assert spec.uuid not in drv.list_instance_uuids()
    drv.destroy(spec)


def test_destroy_orphan_by_uuid_only(drv, images):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    drv.destroy(driver.InstanceSpec(spec.uuid, f"instance-{spec.uuid}", "", 0, 0, 0, ""))
    assert drv.get_power_state(spec) == driver.NOSTATE


def test_operations_on_missing_guest_raise_driver_error(drv):
    spec = _spec("nothing")
    assert drv.get_power_state(spec) == driver.NOSTATE
    for op in (drv.pause, drv.unpause, drv.suspend, drv.resume, drv.power_on,
               drv.get_console_output):
        with pytest.raises(driver.DriverError, match="does not exist"):
            op(spec)
    with pytest.raises(driver.DriverError):
        drv.reboot(spec, "HARD")


def test_spawn_twice_is_refused(drv, images):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    with pytest.raises(driver.DriverError, match="already exists"):
        drv.spawn(spec, images.show(image_id))
    assert drv.get_power_state(spec) == driver.RUNNING


def test_kernel_image_is_not_bootable(drv, images):
    kernel = images.add(b"K" * 10, "aki")
    with pytest.raises(driver.DriverError, match="kernel or ramdisk"):
        drv.spawn(_spec(kernel), images.show(kernel))


def test_failed_download_cleans_up(drv, images):
    image_id = images.add(b"D" * 4096)
    images.corrupt.add(image_id)
    spec = _spec(image_id)
    with pytest.raises(driver.DriverError, match="checksum"):
        drv.spawn(spec, images.show(image_id))
    assert drv.get_power_state(spec) == driver.NOSTATE
    assert not os.path.exists(os.path.join(drv.instances_path, spec.uuid))
    base_dir = os.path.join(drv.instances_path, "_base")
    assert [n for n in os.listdir(base_dir) if not n.startswith(".")] == []


def test_root_disk_smaller_than_image_is_refused(drv, images, tmp_path):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    spec.root_gb = 0
    drv.spawn(spec, images.show(image_id))  # 0 = the image's own size
    qcow2 = tmp_path / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2), "2G"], check=True)
    big = images.add(qcow2.read_bytes(), "qcow2")
    with pytest.raises(driver.DriverError, match="smaller than the image"):
        drv.spawn(_spec(big), images.show(big))


def test_qcow2_with_backing_file_is_refused(drv, images, tmp_path):
    backing = tmp_path / "secret"
    backing.write_bytes(b"x" * 512)
    qcow2 = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(backing),
                    "-F", "raw", str(qcow2)], check=True)
    evil = images.add(qcow2.read_bytes(), "qcow2")
    with pytest.raises(driver.DriverError, match="backing file"):
        drv.spawn(_spec(evil), images.show(evil))


def test_concurrent_spawns_download_base_once(drv, images):
    image_id = images.add(b"D" * 4096)
    images.delay = 0.3
    specs = [_spec(image_id) for _ in range(4)]
    errors: list = []

    def spawn(spec):
        try:
            drv.spawn(spec, images.show(image_id))
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=spawn, args=(s,)) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert images.downloads == [image_id]
    assert all(drv.get_power_state(s) == driver.RUNNING for s in specs)


def test_periodic_cleanup_keeps_used_bases(drv, images):
    first, second = images.add(b"1" * 4096), images.add(b"2" * 4096)
    a, b, c = _spec(first), _spec(first), _spec(second)
    for spec in (a, b, c):
        drv.spawn(spec, images.show(spec.image_id))
    cache = imagecache.ImageCache(drv.instances_path, images)
    drv.destroy(c)
    drv.destroy(a)
    drv.periodic_cleanup([b.uuid])
    assert os.path.exists(cache.path(first))
    assert not os.path.exists(cache.path(second))
    drv.destroy(b)
    drv.periodic_cleanup([])
    assert not os.path.exists(cache.path(first))


def test_cleanup_can_be_disabled(tmp_path, images):
    conf = _conf(str(tmp_path / "instances"), remove_unused_base_images="false")
    d = LibvirtDriver("testhost", images, conf)
    d.init_host()
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    d.spawn(spec, images.show(image_id))
    d.destroy(spec)
    d.periodic_cleanup([])
    assert os.path.exists(imagecache.ImageCache(d.instances_path, images).path(image_id))
    d.cleanup_host()


def test_lifecycle_events_reach_the_callback(drv, images, events):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    _domain(drv, spec).destroy()  # as if the guest had powered itself off

    def seen():
        return (spec.uuid, driver.SHUTDOWN) in events

    deadline = time.monotonic() + 5
    while not seen() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen()
    assert (spec.uuid, driver.RUNNING) in events
    foreign = drv._host.get_connection().lookupByName("test").UUIDString()
    assert all(u != foreign for u, _ in events)


def test_available_resource(drv):
    res = drv.get_available_resource()
    assert res["hypervisor_type"] == "QEMU"
    assert isinstance(res["hypervisor_version"], int)
    assert res["vcpus"] > 0 and res["memory_mb"] > 0 and res["local_gb"] > 0
    assert res["hypervisor_hostname"]
    assert '"arch"' in res["cpu_info"]


def test_console_output_reads_the_log(drv, images):
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    assert drv.get_console_output(spec) == ""
    with open(os.path.join(drv.instances_path, spec.uuid, "console.log"), "w") as f:
        f.write("hello\nNOVA-LITE-GUEST-UP\n")
    assert "NOVA-LITE-GUEST-UP" in drv.get_console_output(spec)


def test_kvm_required_but_unusable(tmp_path, images, monkeypatch):
    monkeypatch.setattr(vhost, "kvm_usable", lambda: (False, "/dev/kvm does not exist"))
    d = LibvirtDriver("h", images, _conf(str(tmp_path / "i"), virt_type="kvm",
                                         uri="qemu:///system"))
    with pytest.raises(driver.DriverError, match="virt_type = qemu"):
        d.init_host()


def _ovs_vif() -> dict:
    port = str(uuid.uuid4())
    return {"id": port, "address": "fa:16:3e:00:00:01", "type": "ovs", "active": False,
            "details": {"bridge_name": "br-int"}, "devname": ("tap" + port)[:14],
            "ovs_interfaceid": port, "network": {"id": "n", "label": "l", "mtu": 1442}}


def test_a_guest_with_ports_starts_paused_and_runs_once_they_are_plugged(drv, images):
    import threading

    from nova_lite.compute.instance_events import InstanceEvents

    drv.virtapi = InstanceEvents()
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    spec.network_info = [_ovs_vif()]
    port = spec.network_info[0]["id"]
    seen = []

    def plug() -> None:  # Neutron's event, once the domain exists (paused)
        seen.append(_domain(drv, spec).state()[0])
        drv.virtapi.deliver(spec.uuid, "network-vif-plugged", port, "completed")

    timer = threading.Timer(0.5, plug)
    timer.start()
    drv.spawn(spec, images.show(image_id))
    timer.join()
    assert seen == [libvirt.VIR_DOMAIN_PAUSED]
    assert _domain(drv, spec).state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert f"interfaceid='{port}'" in _domain(drv, spec).XMLDesc(0)


def test_a_port_that_never_plugs_fails_the_spawn_and_cleans_up(tmp_path, images):
    from nova_lite.compute.instance_events import InstanceEvents

    conf = _conf(str(tmp_path / "instances"))
    conf.set_override("vif_plugging_timeout", 1)
    d = LibvirtDriver("testhost", images, conf)
    d.init_host()
    d.virtapi = InstanceEvents(timeout_is_fatal=True)
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    spec.network_info = [_ovs_vif()]
    with pytest.raises(driver.DriverError, match="Virtual Interface creation failed"):
        d.spawn(spec, images.show(image_id))
    assert spec.uuid not in d.list_instance_uuids()
    d.cleanup_host()


def test_user_mode_nic_without_ports(tmp_path, images):
    conf = _conf(str(tmp_path / "instances"), user_mode_network="true")
    d = LibvirtDriver("testhost", images, conf)
    d.init_host()
    image_id = images.add(b"D" * 4096)
    spec = _spec(image_id)
    d.spawn(spec, images.show(image_id))
    assert "<interface type='user'>" in _domain(d, spec).XMLDesc(0)
    d.destroy(spec)
    e1000 = images.add(b"D" * 4096, hw_vif_model="e1000")  # the image chooses the NIC
    spec = _spec(e1000)
    d.spawn(spec, images.show(e1000))
    assert "<model type='e1000'/>" in _domain(d, spec).XMLDesc(0)
    d.destroy(spec)
    d.cleanup_host()


def test_image_disk_bus_reaches_the_domain_and_bad_values_are_refused(drv, images):
    image_id = images.add(b"D" * 4096, hw_disk_bus="sata")
    spec = _spec(image_id)
    drv.spawn(spec, images.show(image_id))
    xml = _domain(drv, spec).XMLDesc(0)
    assert "bus='sata'" in xml and "dev='sda'" in xml
    bad = images.add(b"D" * 4096, hw_disk_bus="floppy")
    with pytest.raises(driver.DriverError, match="hw_disk_bus"):
        drv.spawn(_spec(bad), images.show(bad))
