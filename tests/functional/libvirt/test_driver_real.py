"""LibvirtDriver against the real libvirtd, booting the real test image.

The tests share two guests and run in file order (each leaves the guests running,
except the last ones, which delete them). Every state the driver claims is checked
against libvirt directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid

import pytest

from nova_lite.virt import driver

libvirt = pytest.importorskip("libvirt")

pytestmark = [pytest.mark.libvirt, pytest.mark.slow]

MARKER = "NOVA-LITE-GUEST-UP"
BOOT_TIMEOUT = 90


def _spec(image_id: str, label: str) -> driver.InstanceSpec:
    u = str(uuid.uuid4())
    return driver.InstanceSpec(u, f"instance-nltest-{label}-{u[:8]}", f"nltest-{label}",
                               1, 128, 1, image_id)


def _markers(rd, spec) -> int:
    return rd.driver.get_console_output(spec).count(MARKER)


def _wait_markers(rd, spec, count: int, timeout: float = BOOT_TIMEOUT) -> float:
    """Seconds until the console shows `count` markers; fails after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if _markers(rd, spec) >= count:
            return time.monotonic() - start
        time.sleep(0.2)
    tail = rd.driver.get_console_output(spec)[-2000:]
    pytest.fail(f"{spec.name}: {count} x {MARKER} not seen within {timeout}s; "
                f"console tail:\n{tail}")


def _dom(rd, spec):
    return rd.driver._host.get_connection().lookupByUUIDString(spec.uuid)


def _lv_state(rd, spec) -> int:
    return _dom(rd, spec).state()[0]


@pytest.fixture(scope="module")
def guests(real_driver, libvirt_env):
    """Two guests of the same image, spawned at the same time."""
    rd = real_driver
    image_id = libvirt_env["image_id"]
    meta = rd.store.show(None, image_id)
    specs = [_spec(image_id, "a"), _spec(image_id, "b")]
    rd.created.extend(specs)
    errors: list = []

    def spawn(spec):
        try:
            rd.driver.spawn(spec, meta)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=spawn, args=(s,)) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOOT_TIMEOUT)
    assert not errors, errors
    return specs


def test_two_guests_boot(real_driver, guests):
    rd = real_driver
    for spec in guests:
        _wait_markers(rd, spec, 1)
        dom = _dom(rd, spec)
        assert dom.name() == spec.name
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert rd.driver.get_power_state(spec) == driver.RUNNING
        assert spec.uuid in rd.driver.list_instance_uuids()
        assert "disk /dev/vda says: NOVA-LITE-TEST-DISK" in rd.driver.get_console_output(spec)


def test_guests_share_one_base_image(real_driver, guests):
    backings = set()
    for spec in guests:
        disk = os.path.join(real_driver.driver.instances_path, spec.uuid, "disk")
        out = subprocess.run(["qemu-img", "info", "-U", "--output=json", disk],
                             check=True, capture_output=True, text=True).stdout
        info = json.loads(out)
        assert info["format"] == "qcow2"
        backings.add(info["backing-filename"])
    assert len(backings) == 1
    (base,) = backings
    assert os.path.dirname(base) == os.path.join(real_driver.driver.instances_path, "_base")


def test_soft_reboot(real_driver, guests):
    rd, spec = real_driver, guests[0]
    before = _markers(rd, spec)
    rd.driver.reboot(spec, "SOFT")
    _wait_markers(rd, spec, before + 1)
    console = rd.driver.get_console_output(spec)
    assert "power button pressed" in console  # ACPI, not the hard fallback
    assert _lv_state(rd, spec) == libvirt.VIR_DOMAIN_RUNNING


def test_hard_reboot(real_driver, guests):
    rd, spec = real_driver, guests[0]
    before = _markers(rd, spec)
    presses = rd.driver.get_console_output(spec).count("power button pressed")
    rd.driver.reboot(spec, "HARD")
    _wait_markers(rd, spec, before + 1)
    assert rd.driver.get_console_output(spec).count("power button pressed") == presses
    assert _lv_state(rd, spec) == libvirt.VIR_DOMAIN_RUNNING


def test_power_off_and_on(real_driver, guests):
    rd, spec = real_driver, guests[1]
    before = _markers(rd, spec)
    start = time.monotonic()
    rd.driver.power_off(spec, timeout=30)
    assert time.monotonic() - start < 30  # the guest obeyed ACPI; no forced destroy
    assert "power button pressed" in rd.driver.get_console_output(spec)
    assert _lv_state(rd, spec) == libvirt.VIR_DOMAIN_SHUTOFF
    assert rd.driver.get_power_state(spec) == driver.SHUTDOWN
    rd.driver.power_on(spec)
    assert _lv_state(rd, spec) == libvirt.VIR_DOMAIN_RUNNING
    _wait_markers(rd, spec, before + 1)


def test_pause_unpause(real_driver, guests):
    rd, spec = real_driver, guests[1]
    rd.driver.pause(spec)
    assert _lv_state(rd, spec) == libvirt.VIR_DOMAIN_PAUSED
    assert rd.driver.get_power_state(spec) == driver.PAUSED
    rd.driver.unpause(spec)
    assert _lv_state(rd, spec) == libvirt.VIR_DOMAIN_RUNNING
    assert rd.driver.get_power_state(spec) == driver.RUNNING


def test_suspend_resume(real_driver, guests):
    rd, spec = real_driver, guests[1]
    before = _markers(rd, spec)
    rd.driver.suspend(spec)
    dom = _dom(rd, spec)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert dom.hasManagedSaveImage(0)
    assert rd.driver.get_power_state(spec) == driver.SUSPENDED
    rd.driver.resume(spec)
    assert _lv_state(rd, spec) == libvirt.VIR_DOMAIN_RUNNING
    assert not _dom(rd, spec).hasManagedSaveImage(0)
    time.sleep(2)
    assert _markers(rd, spec) == before  # restored from memory, not booted again


def test_external_stop_reaches_lifecycle_callback(real_driver, guests):
    rd, spec = real_driver, guests[1]
    rd.events.clear()
    _dom(rd, spec).destroy()  # behind the driver's back, like a guest crash
    deadline = time.monotonic() + 10
    while (spec.uuid, driver.SHUTDOWN) not in rd.events and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (spec.uuid, driver.SHUTDOWN) in rd.events
    rd.driver.power_on(spec)
    deadline = time.monotonic() + 10
    while (spec.uuid, driver.RUNNING) not in rd.events and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (spec.uuid, driver.RUNNING) in rd.events


def test_available_resource(real_driver):
    res = real_driver.driver.get_available_resource()
    assert res["hypervisor_type"] == "QEMU"
    assert res["hypervisor_version"] > 1_000_000
    assert res["vcpus"] == os.cpu_count()
    with open("/proc/meminfo") as f:
        total_kib = int(f.readline().split()[1])
    assert res["memory_mb"] == total_kib // 1024
    assert res["local_gb"] > 0


def test_destroy_and_base_image_cleanup(real_driver, guests, libvirt_env):
    rd = real_driver
    a, b = guests
    base = os.path.join(rd.driver.instances_path, "_base")

    def bases():
        return sorted(n for n in os.listdir(base) if not n.startswith("."))

    cached = bases()
    assert len(cached) == 3  # disk, kernel, ramdisk
    rd.driver.destroy(a)
    conn = rd.driver._host.get_connection()
    with pytest.raises(libvirt.libvirtError):
        conn.lookupByUUIDString(a.uuid)
    assert not os.path.exists(os.path.join(rd.driver.instances_path, a.uuid))
    assert rd.driver.get_power_state(a) == driver.NOSTATE
    rd.driver.destroy(a)  # idempotent

    rd.driver.periodic_cleanup([b.uuid])
    assert bases() == cached  # b still uses them
    assert _markers(rd, b) >= 1

    rd.driver.destroy(b)
    with pytest.raises(libvirt.libvirtError):
        conn.lookupByUUIDString(b.uuid)
    rd.driver.periodic_cleanup([])
    assert bases() == []
