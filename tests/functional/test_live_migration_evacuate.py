"""Live migration and evacuation through real daemons (three fake hosts): a live
migration completes, one is aborted and one forced to complete while they copy; a
compute is killed (SIGKILL), forced down, its servers evacuated; when it starts again
its stale guests go and its claims with them. After every step the claims equal the
live usage (tests/functional/accounting.py)."""

from __future__ import annotations

import signal
import time
from typing import Optional

from tests.functional import accounting, harness
from tests.functional.test_recovery import _image

V = {"OpenStack-API-Version": "compute 2.68"}  # also shows host and task_state (admin)


def _boot(dep: harness.Deployment, image: str, name: str, host: str,
          metadata: Optional[dict] = None) -> str:
    body = {"server": {"name": name, "imageRef": image, "flavorRef": "1",
                       "availability_zone": f"nova:{host}", "metadata": metadata or {}}}
    r = dep.post("/servers", body)
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    assert _wait(dep, sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == host
    return sid


def _server(dep: harness.Deployment, sid: str) -> dict:
    r = dep.get(f"/servers/{sid}", headers=V)
    assert r.status_code == 200, r.text
    return r.json()["server"]


def _wait(dep: harness.Deployment, sid: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    s: dict = {}
    while time.monotonic() < deadline:
        s = _server(dep, sid)
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return s
        time.sleep(0.1)
    raise AssertionError(f"{sid} did not become {status}: {s.get('status')} "
                         f"{s.get('OS-EXT-STS:task_state')} {s.get('fault')}")


def _moves(dep: harness.Deployment, sid: str) -> list[dict]:
    r = dep.get(f"/os-migrations?instance_uuid={sid}", headers=V)
    assert r.status_code == 200, r.text
    return r.json()["migrations"]


def _running(dep: harness.Deployment, sid: str, timeout: float = 30) -> dict:
    """The server's live migration, once it copies (GET /servers/{id}/migrations)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = dep.get(f"/servers/{sid}/migrations", headers=V)
        assert r.status_code == 200, r.text
        migs = [m for m in r.json()["migrations"] if m["status"] == "running"]
        if migs and migs[0]["memory_processed_bytes"]:
            return migs[0]
        time.sleep(0.05)
    raise AssertionError(f"no running live migration of {sid}")


def _live_migrate(dep: harness.Deployment, sid: str, host: Optional[str] = None) -> None:
    r = dep.post(f"/servers/{sid}/action",
                 {"os-migrateLive": {"host": host, "block_migration": "auto"}}, headers=V)
    assert r.status_code == 202, r.text


def test_live_migrate_abort_and_force_complete(three_hosts, tmp_path):
    dep = three_hosts
    image = _image(dep, tmp_path)
    # the scheduler picks the destination; the source is never it
    a = _boot(dep, image, "lm-a", "c1")
    _live_migrate(dep, a)
    s = _wait(dep, a, "ACTIVE")
    assert s["OS-EXT-SRV-ATTR:host"] in ("c2", "c3")
    mig = _moves(dep, a)[0]
    assert (mig["migration_type"], mig["status"], mig["source_compute"]) == (
        "live-migration", "completed", "c1")
    accounting.assert_consistent(dep)

    # a slow copy, aborted while it runs: the server stays on c1
    b = _boot(dep, image, "lm-b", "c1", {"fake_live_migration_seconds": "60"})
    _live_migrate(dep, b, "c2")
    running = _running(dep, b)
    assert 0 < running["memory_processed_bytes"] <= running["memory_total_bytes"]
    assert _server(dep, b)["status"] == "MIGRATING"
    # while it copies, the migration holds the source, the server the destination
    claims = accounting.allocations(dep)
    mig_uuid = _moves(dep, b)[0]["uuid"]
    assert (mig_uuid, "c1") in claims and (b, "c2") in claims and (b, "c1") not in claims
    r = dep.delete(f"/servers/{b}/migrations/{running['id']}", headers=V)
    assert r.status_code == 202, r.text
    s = _wait(dep, b, "ACTIVE", timeout=30)
    assert s["OS-EXT-SRV-ATTR:host"] == "c1"
    assert _moves(dep, b)[0]["status"] == "cancelled"
    # a finished move cannot be aborted any more
    r = dep.delete(f"/servers/{b}/migrations/{running['id']}", headers=V)
    assert r.status_code == 409 and "conflictingRequest" in r.json()

    # a slow copy, forced to complete: it ends at once on c3
    started = time.monotonic()
    _live_migrate(dep, b, "c3")
    running = _running(dep, b)
    r = dep.post(f"/servers/{b}/migrations/{running['id']}/action",
                 {"force_complete": None}, headers=V)
    assert r.status_code == 202, r.text
    assert _wait(dep, b, "ACTIVE", timeout=30)["OS-EXT-SRV-ATTR:host"] == "c3"
    assert time.monotonic() - started < 50
    assert _moves(dep, b)[0]["status"] == "completed"
    accounting.assert_consistent(dep)


def _compute_service(dep: harness.Deployment, host: str) -> dict:
    r = dep.get(f"/os-services?binary=nova-compute&host={host}", headers=V)
    assert r.status_code == 200, r.text
    return r.json()["services"][0]


def _force_down(dep: harness.Deployment, host: str, down: bool) -> None:
    svc = _compute_service(dep, host)
    r = dep.request("PUT", f"/os-services/{svc['id']}", body={"forced_down": down},
                    headers={"OpenStack-API-Version": "compute 2.53"})
    assert r.status_code == 200, r.text


def test_evacuate_a_killed_compute_then_restart_it(three_hosts, tmp_path):
    dep = three_hosts
    image = _image(dep, tmp_path)
    servers = [_boot(dep, image, f"ev-{n}", "c3") for n in range(2)]
    # c3 is up: refused
    r = dep.post(f"/servers/{servers[0]}/action", {"evacuate": {}}, headers=V)
    assert r.status_code == 400 and "still in use" in r.json()["badRequest"]["message"]

    dep.stop_proc("compute-c3", signal.SIGKILL)
    _force_down(dep, "c3", True)
    assert _compute_service(dep, "c3")["state"] == "down"
    for sid in servers:
        r = dep.post(f"/servers/{sid}/action", {"evacuate": {}}, headers=V)
        assert r.status_code == 200, r.text
    for sid in servers:
        assert _wait(dep, sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"] in ("c1", "c2")
        mig = _moves(dep, sid)[0]
        assert (mig["migration_type"], mig["status"], mig["source_compute"]) == (
            "evacuation", "done", "c3")

    # c3 comes back: its stale guests go, and its claims with them
    dep.start_proc("compute-c3", "nova-lite-compute", dep.host_confs["c3"])
    deadline = time.monotonic() + 60
    while any(_moves(dep, sid)[0]["status"] != "completed" for sid in servers):
        assert time.monotonic() < deadline, [_moves(dep, s)[0] for s in servers]
        time.sleep(0.2)
    log = dep.logs("compute-c3")
    for sid in servers:
        assert f"removing the guest of {sid}: it was evacuated" in log
        assert _server(dep, sid)["status"] == "ACTIVE"
    _force_down(dep, "c3", False)
    accounting.assert_consistent(dep)
    r = dep.get("/os-hypervisors/detail")
    c3 = [h for h in r.json()["hypervisors"] if h["service"]["host"] == "c3"][0]
    on_c3 = dep.get("/servers/detail?all_tenants=1&host=c3").json()["servers"]
    assert c3["running_vms"] == len(on_c3)
    assert not set(servers) & {s["id"] for s in on_c3}


def test_source_killed_while_copying_rolls_back(three_hosts, tmp_path):
    """SIGKILL of the source mid-copy: at its restart the server stays on it, the
    destination removes what it prepared, the claim returns (the record ends in error)."""
    dep = three_hosts
    image = _image(dep, tmp_path)
    sid = _boot(dep, image, "lm-kill", "c2", {"fake_live_migration_seconds": "60"})
    _live_migrate(dep, sid, "c1")
    _running(dep, sid)
    dep.stop_proc("compute-c2", signal.SIGKILL)
    assert _server(dep, sid)["OS-EXT-STS:task_state"] == "migrating"
    dep.start_proc("compute-c2", "nova-lite-compute", dep.host_confs["c2"])
    deadline = time.monotonic() + 60
    while (s := _server(dep, sid))["OS-EXT-STS:task_state"] is not None:
        assert time.monotonic() < deadline, s
        time.sleep(0.2)
    assert s["OS-EXT-SRV-ATTR:host"] == "c2"
    assert _moves(dep, sid)[0]["status"] == "error"
    accounting.assert_consistent(dep)
    r = dep.delete(f"/servers/{sid}")
    assert r.status_code == 204, r.text
    dep.wait_gone([sid])
    accounting.assert_consistent(dep)


def test_drain_a_host_with_concurrent_live_migrations(three_hosts, tmp_path):
    """Eight servers live-migrated off c1 at once: all land on c2 or c3, none is lost
    or doubled, and the claims equal the usage."""
    dep = three_hosts
    image = _image(dep, tmp_path)
    servers = [_boot(dep, image, f"drain-{n}", "c1") for n in range(8)]
    started = time.monotonic()
    for sid in servers:
        _live_migrate(dep, sid)
    hosts = [_wait(dep, sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"] for sid in servers]
    took = time.monotonic() - started
    assert set(hosts) <= {"c2", "c3"}, hosts
    assert all(_moves(dep, sid)[0]["status"] == "completed" for sid in servers)
    accounting.assert_consistent(dep)
    print(f"drained 8 servers from c1 in {took:.1f} s")
