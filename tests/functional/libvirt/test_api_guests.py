"""Real QEMU/KVM guests driven through the compute API.

One deployment (every daemon its own process, RabbitMQ, MariaDB) with one libvirt
compute host; two guests booted with POST /servers. Every action is checked three
ways: libvirt's view of the domain, GET /servers/{id} and the instance actions. The
tests share the guests and run in file order; the last one deletes them.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import time
from typing import Any

import pytest

libvirt = pytest.importorskip("libvirt")

pytestmark = [pytest.mark.libvirt, pytest.mark.slow]

MARKER = "NOVA-LITE-GUEST-UP"
BOOT_TIMEOUT = 120
ACTION_TIMEOUT = 90
SYNC_INTERVAL = 5  # the harness's [compute] sync_power_state_interval
EVENTS = {"OpenStack-API-Version": "compute 2.84"}  # admin: events with results

# power_state values (Nova's)
RUNNING, PAUSED, SHUTDOWN, SUSPENDED = 1, 3, 4, 7


def _server(env, sid: str) -> dict:
    r = env.dep.get(f"/servers/{sid}")
    assert r.status_code == 200, r.text
    return r.json()["server"]


def _wait_server(env, sid: str, status: str, timeout: float = ACTION_TIMEOUT) -> dict:
    """Poll until status and no task_state; fail with the last view otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        s = _server(env, sid)
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return s
        if s["status"] == "ERROR" or time.monotonic() > deadline:
            pytest.fail(f"{sid} did not become {status}: status {s['status']}, task_state "
                        f"{s['OS-EXT-STS:task_state']}, fault {s.get('fault')}\n"
                        f"{env.dep.logs('compute-' + env.host)[-3000:]}")
        time.sleep(0.2)


def _console(env, sid: str, length: Any = None) -> str:
    body = {"os-getConsoleOutput": {} if length is None else {"length": length}}
    r = env.dep.post(f"/servers/{sid}/action", body)
    assert r.status_code == 200, r.text
    return r.json()["output"]


def _wait_markers(env, sid: str, count: int, timeout: float = BOOT_TIMEOUT) -> float:
    """Seconds until the console shows `count` markers."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if _console(env, sid).count(MARKER) >= count:
            return time.monotonic() - start
        time.sleep(0.5)
    pytest.fail(f"{sid}: {count} x {MARKER} not seen within {timeout}s; console tail:\n"
                f"{_console(env, sid)[-2000:]}")


def _dom(env, sid: str):
    return env.conn.lookupByUUIDString(sid)


def _lv_state(env, sid: str) -> int:
    return _dom(env, sid).state()[0]


def _act(env, sid: str, body: dict, expect: int = 202) -> dict:
    r = env.dep.post(f"/servers/{sid}/action", body)
    assert r.status_code == expect, r.text
    return r.json() if r.text else {}


def _assert_recorded(env, sid: str, action: str, event: str, wait: float = 30) -> None:
    """The newest `action` of the server has `event` finished with Success (the host
    records the event's end just after the server's new state: waited for, bounded)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return _check_recorded(env, sid, action, event)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _check_recorded(env, sid: str, action: str, event: str) -> None:
    r = env.dep.get(f"/servers/{sid}/os-instance-actions", headers=EVENTS)
    assert r.status_code == 200, r.text
    mine = [a for a in r.json()["instanceActions"] if a["action"] == action]
    assert mine, r.json()
    newest = max(mine, key=lambda a: a["start_time"])
    r = env.dep.get(f"/servers/{sid}/os-instance-actions/{newest['request_id']}",
                    headers=EVENTS)
    assert r.status_code == 200, r.text
    events = {e["event"]: e for e in r.json()["instanceAction"]["events"]}
    assert event in events, events
    assert events[event]["result"] == "Success", events[event]
    assert events[event]["finish_time"], events[event]
    assert events[event]["host"] == env.host


def _assert_state(s: dict, status: str, vm_state: str, power_state: int) -> None:
    assert (s["status"], s["OS-EXT-STS:vm_state"], s["OS-EXT-STS:task_state"],
            s["OS-EXT-STS:power_state"]) == (status, vm_state, None, power_state)


def _conflict(env, sid: str, body: dict, action: str, state: str) -> None:
    r = env.dep.post(f"/servers/{sid}/action", body)
    assert r.status_code == 409, r.text
    msg = r.json()["conflictingRequest"]["message"]
    assert msg == f"Cannot '{action}' instance {sid} while it is in vm_state {state}", msg


@pytest.fixture(scope="module")
def guests(api_env) -> list[str]:
    """Two servers booted at once through POST /servers."""
    env = api_env

    def boot(i: int) -> str:
        r = env.dep.post("/servers", {"server": {"name": f"guest-{i}",
                                                 "imageRef": env.image_id,
                                                 "flavorRef": "42"}})
        assert r.status_code == 202, r.text
        return r.json()["server"]["id"]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return list(pool.map(boot, range(2)))


def test_two_guests_boot_and_show_the_marker(api_env, guests):
    env = api_env
    for sid in guests:
        s = _wait_server(env, sid, "ACTIVE", BOOT_TIMEOUT)
        _assert_state(s, "ACTIVE", "active", RUNNING)
        _wait_markers(env, sid, 1)
        # length=5: the last five lines (the kernel may still print after the marker).
        tail = _console(env, sid, length=5)
        full = _console(env, sid)
        assert 0 < len(tail.splitlines()) <= 5 and tail.strip() in full, tail
        assert MARKER in full
        assert "disk /dev/vda says: NOVA-LITE-TEST-DISK" in full
        dom = _dom(env, sid)
        assert s["OS-EXT-SRV-ATTR:instance_name"] == dom.name()
        assert s["OS-EXT-SRV-ATTR:host"] == env.host
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert dom.maxMemory() == 128 * 1024
        _assert_recorded(env, sid, "create", "compute_build_and_run_instance")
    assert {d.UUIDString() for d in env.our_domains()} == set(guests)


def test_soft_reboot(api_env, guests):
    env, sid = api_env, guests[0]
    before = _console(env, sid).count(MARKER)
    _act(env, sid, {"reboot": {"type": "SOFT"}})
    _assert_state(_wait_server(env, sid, "ACTIVE"), "ACTIVE", "active", RUNNING)
    _wait_markers(env, sid, before + 1)
    assert "power button pressed" in _console(env, sid)  # ACPI, not the hard fallback
    assert _lv_state(env, sid) == libvirt.VIR_DOMAIN_RUNNING
    _assert_recorded(env, sid, "reboot", "compute_reboot_instance")


def test_hard_reboot(api_env, guests):
    env, sid = api_env, guests[0]
    before = _console(env, sid).count(MARKER)
    _act(env, sid, {"reboot": {"type": "HARD"}})
    _assert_state(_wait_server(env, sid, "ACTIVE"), "ACTIVE", "active", RUNNING)
    _wait_markers(env, sid, before + 1)
    assert _lv_state(env, sid) == libvirt.VIR_DOMAIN_RUNNING
    _assert_recorded(env, sid, "reboot", "compute_reboot_instance")


def test_stop_and_start(api_env, guests):
    env, sid = api_env, guests[0]
    _conflict(env, sid, {"os-start": None}, "start", "active")
    _act(env, sid, {"os-stop": None})
    _assert_state(_wait_server(env, sid, "SHUTOFF"), "SHUTOFF", "stopped", SHUTDOWN)
    assert _lv_state(env, sid) == libvirt.VIR_DOMAIN_SHUTOFF
    _assert_recorded(env, sid, "stop", "compute_stop_instance")
    _conflict(env, sid, {"os-stop": None}, "stop", "stopped")
    _conflict(env, sid, {"pause": None}, "pause", "stopped")

    before = _console(env, sid).count(MARKER)
    _act(env, sid, {"os-start": None})
    _assert_state(_wait_server(env, sid, "ACTIVE"), "ACTIVE", "active", RUNNING)
    assert _lv_state(env, sid) == libvirt.VIR_DOMAIN_RUNNING
    _wait_markers(env, sid, before + 1)
    _assert_recorded(env, sid, "start", "compute_start_instance")


def test_pause_and_unpause(api_env, guests):
    env, sid = api_env, guests[1]
    _conflict(env, sid, {"unpause": None}, "unpause", "active")
    _act(env, sid, {"pause": None})
    _assert_state(_wait_server(env, sid, "PAUSED"), "PAUSED", "paused", PAUSED)
    assert _lv_state(env, sid) == libvirt.VIR_DOMAIN_PAUSED
    _assert_recorded(env, sid, "pause", "compute_pause_instance")
    _conflict(env, sid, {"pause": None}, "pause", "paused")

    _act(env, sid, {"unpause": None})
    _assert_state(_wait_server(env, sid, "ACTIVE"), "ACTIVE", "active", RUNNING)
    assert _lv_state(env, sid) == libvirt.VIR_DOMAIN_RUNNING
    _assert_recorded(env, sid, "unpause", "compute_unpause_instance")


def test_suspend_and_resume(api_env, guests):
    env, sid = api_env, guests[1]
    _conflict(env, sid, {"resume": None}, "resume", "active")
    markers = _console(env, sid).count(MARKER)
    _act(env, sid, {"suspend": None})
    _assert_state(_wait_server(env, sid, "SUSPENDED"), "SUSPENDED", "suspended", SUSPENDED)
    dom = _dom(env, sid)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage(0)
    _assert_recorded(env, sid, "suspend", "compute_suspend_instance")
    _conflict(env, sid, {"os-start": None}, "start", "suspended")

    _act(env, sid, {"resume": None})
    _assert_state(_wait_server(env, sid, "ACTIVE"), "ACTIVE", "active", RUNNING)
    dom = _dom(env, sid)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and not dom.hasManagedSaveImage(0)
    _assert_recorded(env, sid, "resume", "compute_resume_instance")
    time.sleep(1)
    assert _console(env, sid).count(MARKER) == markers  # restored, not rebooted


def _seconds_until_shutoff(env, sid: str, limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        s = _server(env, sid)
        if s["status"] == "SHUTOFF":
            _assert_state(s, "SHUTOFF", "stopped", SHUTDOWN)
            return time.monotonic() - start
        time.sleep(0.1)
    pytest.fail(f"{sid} still {_server(env, sid)['status']} {limit}s after its guest "
                "stopped behind nova_lite's back")


def test_power_off_behind_nova_lites_back_is_noticed(api_env, guests):
    """Within one sync_power_state_interval, by lifecycle event or the periodic task."""
    env = api_env
    a, b = guests
    name = _dom(env, a).name()
    subprocess.run(["virsh", "-c", "qemu:///system", "shutdown", name], check=True,
                   capture_output=True, timeout=30)  # ACPI from outside
    deadline = time.monotonic() + 60
    while _dom(env, a).isActive():
        assert time.monotonic() < deadline, "the guest ignored virsh shutdown"
        time.sleep(0.1)
    took_a = _seconds_until_shutoff(env, a, SYNC_INTERVAL + 2)

    _dom(env, b).destroy()  # pulled the plug
    took_b = _seconds_until_shutoff(env, b, SYNC_INTERVAL + 2)
    print(f"\nSHUTOFF noticed after virsh shutdown: {took_a:.2f}s, "
          f"after destroy: {took_b:.2f}s (interval {SYNC_INTERVAL}s)")
    assert took_a <= SYNC_INTERVAL and took_b <= SYNC_INTERVAL
    # nova_lite did not do it: no stop action was recorded for b
    r = env.dep.get(f"/servers/{b}/os-instance-actions")
    assert "stop" not in {x["action"] for x in r.json()["instanceActions"]}


def test_delete_cleans_up_but_keeps_the_shared_base(api_env, guests):
    env = api_env
    a, b = guests
    instances = os.path.join(env.dep.state_path, "instances")
    base_dir = os.path.join(instances, "_base")
    bases = os.listdir(base_dir)
    assert bases
    name_a = _dom(env, a).name()

    assert env.dep.delete(f"/servers/{a}").status_code == 204
    env.dep.wait_gone([a])
    assert name_a not in {d.name() for d in env.conn.listAllDomains(0)}
    assert not os.path.exists(os.path.join(instances, a))
    assert os.listdir(base_dir) == bases  # b still uses it
    assert os.path.isdir(os.path.join(instances, b))
    before = _console(env, b).count(MARKER)
    _act(env, b, {"os-start": None})  # and b still boots from it
    _wait_server(env, b, "ACTIVE")
    _wait_markers(env, b, before + 1)

    assert env.dep.delete(f"/servers/{b}").status_code == 204
    env.dep.wait_gone([b])
    assert env.our_domains() == []
    assert not os.path.exists(os.path.join(instances, b))
    assert env.dep.get("/servers?all_tenants=1").json()["servers"] == []
