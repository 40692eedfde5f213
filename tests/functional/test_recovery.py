"""Crashes mid-operation leave servers in a defined state that a restart reconciles."""

from __future__ import annotations

import signal
import time

from tests.functional import harness


def _image(dep: harness.Deployment, tmp_path) -> str:
    path = tmp_path / "img.raw"
    path.write_bytes(b"\0" * 1024)
    return dep.manage("image", "import", "--name", "rec", str(path)).stdout.split()[-1]


def _boot(dep: harness.Deployment, image: str, name: str) -> str:
    r = dep.post("/servers", {"server": {"name": name, "imageRef": image, "flavorRef": "1"}})
    assert r.status_code == 202, r.text
    return r.json()["server"]["id"]


def _wait_task(dep: harness.Deployment, sid: str, task: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = dep.get(f"/servers/{sid}").json()["server"]
        if s["OS-EXT-STS:task_state"] == task:
            return s
        time.sleep(0.05)
    raise AssertionError(f"{sid} never reached task_state {task}: {s}")


def test_compute_killed_during_build_then_restarted(slow_host, tmp_path):
    dep = slow_host
    image = _image(dep, tmp_path)
    sid = _boot(dep, image, "interrupted")
    _wait_task(dep, sid, "spawning")
    dep.stop_proc("compute-s1", signal.SIGKILL)
    dep.start_proc("compute-s1", "nova-lite-compute", dep.host_confs["s1"])
    server = dep.wait_for_servers([sid], timeout=60)[sid]
    assert server["status"] == "ERROR"
    assert "interrupted" in server["fault"]["message"]
    # the claim was released: a new server fits and builds
    sid2 = _boot(dep, image, "after-restart")
    assert dep.wait_for_servers([sid2], timeout=60)[sid2]["status"] == "ACTIVE"
    for s in (sid, sid2):
        assert dep.delete(f"/servers/{s}").status_code == 204
    dep.wait_gone([sid, sid2])


def test_delete_during_build_wins(slow_host, tmp_path):
    dep = slow_host
    image = _image(dep, tmp_path)
    sid = _boot(dep, image, "short-lived")
    _wait_task(dep, sid, "spawning")
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid], timeout=30)
    assert dep.get(f"/servers/{sid}").status_code == 404


def test_delete_while_compute_is_down(slow_host, tmp_path):
    dep = slow_host
    image = _image(dep, tmp_path)
    sid = _boot(dep, image, "orphan")
    assert dep.wait_for_servers([sid], timeout=60)[sid]["status"] == "ACTIVE"
    dep.stop_proc("compute-s1", signal.SIGKILL)
    # wait until the service is seen down, then delete: done without the host
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        svcs = dep.get("/os-services?binary=nova-compute").json()["services"]
        if svcs and svcs[0]["state"] == "down":
            break
        time.sleep(0.5)
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid], timeout=10)
    dep.start_proc("compute-s1", "nova-lite-compute", dep.host_confs["s1"])
    dep.wait_for_computes(["s1"])
