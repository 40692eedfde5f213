"""Resize through real daemons (fake driver, two hosts): across hosts, confirm, revert,
a stopped server, every failure point, deletes and resets mid-move, and the compute
daemons killed in the middle; cold migration (the same machinery, same flavor) off a
host with confirm and to a named host with revert, watched through /os-migrations.
After every step the claims must equal the live usage (tests/functional/accounting.py)."""

from __future__ import annotations

import signal
import time
from typing import Iterator, Optional

import pymysql
import pytest

from tests.functional import accounting, harness
from tests.functional.conftest import _require_services
from tests.functional.test_boot_flow import image_id

MEMBER = "alice:proj-a"
MICRO = {"OpenStack-API-Version": "compute 2.84"}
STEP_DELAY = 2.0  # seconds each move step takes on c2 (room to kill it mid-step)


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    """c1 and c2, roomy; moves through c2 are slow; the source host is never the
    destination of a resize (allow_resize_to_same_host = False, Nova's default)."""
    _require_services()
    sizes = {"vcpus": 16, "memory_mb": 65536, "local_gb": 1000}
    dep = harness.Deployment(str(tmp_path_factory.mktemp("resize")),
                             {"c1": sizes, "c2": dict(sizes, migrate_delay=STEP_DELAY)})
    try:
        dep.setup()
        dep.image = image_id(dep, tmp_path_factory)  # type: ignore[attr-defined]
        yield dep
    finally:
        dep.teardown()


def boot(dep: harness.Deployment, name: str, host: Optional[str] = None, flavor: str = "1",
         token: str = "admin:admin", **server: object) -> str:
    """A server, ACTIVE; on ``host`` when given (only an admin may force a host)."""
    body = {"server": {"name": name, "imageRef": dep.image, "flavorRef": flavor, **server}}
    if host:
        body["server"]["availability_zone"] = f"nova:{host}"
    r = dep.post("/servers", body, token=token)
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    s = wait(dep, sid, "ACTIVE")
    assert host is None or s["OS-EXT-SRV-ATTR:host"] == host
    return sid


def server(dep: harness.Deployment, sid: str) -> dict:
    r = dep.get(f"/servers/{sid}", headers=MICRO)
    assert r.status_code == 200, r.text
    return r.json()["server"]


def wait(dep: harness.Deployment, sid: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    s: dict = {}
    while time.monotonic() < deadline:
        s = server(dep, sid)
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return s
        time.sleep(0.1)
    raise AssertionError(f"{sid} did not become {status}: {s.get('status')} "
                         f"{s.get('OS-EXT-STS:task_state')} {s.get('fault')}")


def wait_task(dep: harness.Deployment, sid: str, task: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server(dep, sid)["OS-EXT-STS:task_state"] == task:
            return
        time.sleep(0.02)
    raise AssertionError(f"{sid} never reached task_state {task}")


def act(dep: harness.Deployment, sid: str, body: dict, expect: int = 202,
        token: str = "admin:admin") -> dict:
    r = dep.post(f"/servers/{sid}/action", body, token=token)
    assert r.status_code == expect, r.text
    return r.json() if r.text else {}


def _cell_rows(dep: harness.Deployment, table: str, sid: str) -> list[dict]:
    conn = pymysql.connect(**harness.MYSQL, database=dep.db_prefix,
                           cursorclass=pymysql.cursors.DictCursor)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} WHERE instance_uuid = %s ORDER BY id", (sid,))
            return list(cur.fetchall())
    finally:
        conn.close()


def migrations(dep: harness.Deployment, sid: str) -> list[dict]:
    return _cell_rows(dep, "migrations", sid)


def fault_messages(dep: harness.Deployment, sid: str) -> list[str]:
    """Faults are shown only for ERROR servers: read them where they are recorded."""
    return [f["message"] for f in _cell_rows(dep, "instance_faults", sid)]


def events(dep: harness.Deployment, sid: str, action: str) -> dict[str, Optional[str]]:
    """event -> result of the newest ``action`` of a server."""
    acts = dep.get(f"/servers/{sid}/os-instance-actions", headers=MICRO).json()
    newest = [a for a in acts["instanceActions"] if a["action"] == action][0]
    one = dep.get(f"/servers/{sid}/os-instance-actions/{newest['request_id']}",
                  headers=MICRO).json()["instanceAction"]
    return {e["event"]: e["result"] for e in one["events"]}


def resize(dep: harness.Deployment, sid: str, flavor: str) -> float:
    """POST resize, wait for VERIFY_RESIZE; seconds it took."""
    start = time.monotonic()
    act(dep, sid, {"resize": {"flavorRef": flavor}})
    wait(dep, sid, "VERIFY_RESIZE")
    return time.monotonic() - start


def test_resize_to_another_host_then_confirm(two_hosts):
    dep = two_hosts
    sid = boot(dep, "grow", token=MEMBER)  # the owner resizes and confirms
    source = server(dep, sid)["OS-EXT-SRV-ATTR:host"]
    dest = {"c1": "c2", "c2": "c1"}[source]
    accounting.assert_consistent(dep, expect_servers=1)
    start = time.monotonic()
    act(dep, sid, {"resize": {"flavorRef": "2"}}, token=MEMBER)
    wait(dep, sid, "VERIFY_RESIZE")
    took = time.monotonic() - start
    s = server(dep, sid)
    assert s["OS-EXT-SRV-ATTR:host"] == dest
    assert (s["flavor"]["original_name"], s["flavor"]["ram"]) == ("m1.small", 2048)
    assert s["OS-EXT-STS:vm_state"] == "resized" and s["OS-EXT-STS:power_state"] == 1
    [mig] = migrations(dep, sid)
    assert (mig["status"], mig["migration_type"], mig["source_compute"],
            mig["dest_compute"], mig["old_instance_type_id"] != mig["new_instance_type_id"]
            ) == ("finished", "resize", source, dest, True)
    # the source keeps the old size under the migration, the destination the new one
    summary = accounting.assert_consistent(dep, expect_servers=1)
    assert summary["providers"][source]["MEMORY_MB"] == 512
    assert summary["providers"][dest]["MEMORY_MB"] == 2048
    assert events(dep, sid, "resize") == {"conductor_migrate_server": "Success",
                                         "compute_resize_instance": "Success",
                                         "compute_finish_resize": "Success"}
    console = dep.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}}).json()
    assert "resized to 1 vCPU, 2048 MB" in console["output"]

    start = time.monotonic()
    r = dep.post(f"/servers/{sid}/action", {"confirmResize": None}, token=MEMBER)
    assert r.status_code == 204, r.text
    wait(dep, sid, "ACTIVE")
    confirm = time.monotonic() - start
    assert migrations(dep, sid)[0]["status"] == "confirmed"
    summary = accounting.assert_consistent(dep, expect_servers=1)
    assert summary["providers"][source]["MEMORY_MB"] == 0
    assert events(dep, sid, "confirmResize") == {"compute_confirm_resize": "Success"}
    print(f"\nfake driver: resize {source} -> {dest}: VERIFY_RESIZE after {took:.2f} s "
          f"({STEP_DELAY} s per step on c2), confirm -> ACTIVE {confirm:.2f} s")
    act(dep, sid, {"confirmResize": None}, expect=409, token=MEMBER)
    assert dep.delete(f"/servers/{sid}", token=MEMBER).status_code == 204
    dep.wait_gone([sid])


def test_revert_returns_to_the_old_host_and_flavor(two_hosts):
    dep = two_hosts
    sid = boot(dep, "undo", "c1")
    resize(dep, sid, "3")
    accounting.assert_consistent(dep)
    r = dep.post(f"/servers/{sid}/action", {"revertResize": None})
    assert r.status_code == 202
    s = wait(dep, sid, "ACTIVE")
    assert (s["OS-EXT-SRV-ATTR:host"], s["flavor"]["original_name"]) == ("c1", "m1.tiny")
    assert migrations(dep, sid)[-1]["status"] == "reverted"
    accounting.assert_consistent(dep)
    assert events(dep, sid, "revertResize") == {"compute_revert_resize": "Success",
                                               "compute_finish_revert_resize": "Success"}


def test_a_stopped_server_is_resized_and_stays_stopped(two_hosts):
    dep = two_hosts
    sid = boot(dep, "cold", "c1")
    act(dep, sid, {"os-stop": None})
    wait(dep, sid, "SHUTOFF")
    resize(dep, sid, "2")
    assert server(dep, sid)["OS-EXT-STS:power_state"] == 4
    act(dep, sid, {"confirmResize": None}, expect=204)
    s = wait(dep, sid, "SHUTOFF")
    assert s["flavor"]["ram"] == 2048 and s["OS-EXT-SRV-ATTR:host"] == "c2"
    accounting.assert_consistent(dep)


def test_no_valid_host_leaves_the_server_where_it_was(two_hosts):
    dep = two_hosts
    r = dep.post("/flavors", {"flavor": {"name": "huge", "ram": 60000, "vcpus": 1,
                                         "disk": 1, "id": "huge"}})
    assert r.status_code == 200, r.text
    first = boot(dep, "fills-c2", "c2", flavor="huge")
    sid = boot(dep, "stuck", "c1")
    act(dep, sid, {"resize": {"flavorRef": "huge"}})  # only c2 may take it, and it is full
    deadline = time.monotonic() + 30
    while migrations(dep, sid)[-1]["status"] != "error":
        assert time.monotonic() < deadline, migrations(dep, sid)
        time.sleep(0.2)
    s = wait(dep, sid, "ACTIVE")
    assert (s["OS-EXT-SRV-ATTR:host"], s["flavor"]["original_name"]) == ("c1", "m1.tiny")
    result = events(dep, sid, "resize")
    assert result == {"conductor_migrate_server": "Error"}, result
    assert "No valid host was found" in fault_messages(dep, sid)[-1]
    accounting.assert_consistent(dep)
    for x in (first, sid):
        assert dep.delete(f"/servers/{x}").status_code == 204
    dep.wait_gone([first, sid])


@pytest.mark.parametrize("step, event", [("migrate", "compute_resize_instance"),
                                         ("finish", "compute_finish_resize")])
def test_a_failed_step_rolls_back_with_no_claim_leaked(two_hosts, step, event):
    dep = two_hosts
    sid = boot(dep, f"fail-{step}", "c1", metadata={"fake_resize_error": step})
    act(dep, sid, {"resize": {"flavorRef": "2"}})
    deadline = time.monotonic() + 30
    while migrations(dep, sid)[-1]["status"] != "error":
        assert time.monotonic() < deadline, migrations(dep, sid)
        time.sleep(0.2)
    s = wait(dep, sid, "ACTIVE")
    assert (s["OS-EXT-SRV-ATTR:host"], s["flavor"]["original_name"]) == ("c1", "m1.tiny")
    assert s["OS-EXT-STS:power_state"] == 1
    assert events(dep, sid, "resize")[event] == "Error"
    accounting.assert_consistent(dep)
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid])
    accounting.assert_consistent(dep)


def test_delete_and_reset_in_verify_resize_free_both_claims(two_hosts):
    dep = two_hosts
    a = boot(dep, "del-mid", "c1")
    b = boot(dep, "reset-mid", "c1")
    resize(dep, a, "2")
    resize(dep, b, "2")
    assert dep.delete(f"/servers/{a}").status_code == 204
    dep.wait_gone([a])
    assert migrations(dep, a)[-1]["status"] == "error"
    act(dep, b, {"os-resetState": {"state": "active"}})
    s = wait(dep, b, "ACTIVE")
    assert s["OS-EXT-SRV-ATTR:host"] == "c2" and migrations(dep, b)[-1]["status"] == "error"
    accounting.assert_consistent(dep)
    assert accounting.orphaned_claims(dep) == []


def test_resize_counts_against_the_quota(two_hosts):
    """The larger flavor counts from the resize until it is confirmed or reverted."""
    dep = two_hosts
    sid = boot(dep, "quota", token=MEMBER)
    r = dep.request("PUT", "/os-quota-sets/proj-a", body={"quota_set": {"ram": 2048}})
    assert r.status_code == 200, r.text
    try:
        r = dep.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "3"}}, token=MEMBER)
        assert r.status_code == 403, r.text
        assert "Quota exceeded for ram" in r.json()["forbidden"]["message"]
        assert server(dep, sid)["OS-EXT-STS:task_state"] is None
        act(dep, sid, {"resize": {"flavorRef": "2"}}, token=MEMBER)  # 2048 MB fits
        wait(dep, sid, "VERIFY_RESIZE")
        # while it waits, the quota counts 2048 MB: nothing more fits
        r = dep.post("/servers", {"server": {"name": "extra", "imageRef": dep.image,
                                             "flavorRef": "42"}}, token=MEMBER)
        assert r.status_code == 403, r.text
        act(dep, sid, {"revertResize": None}, token=MEMBER)
        wait(dep, sid, "ACTIVE")
        usage = dep.get("/os-quota-sets/proj-a/detail").json()["quota_set"]["ram"]
        assert usage["in_use"] == 512
    finally:
        dep.request("PUT", "/os-quota-sets/proj-a", body={"quota_set": {"ram": -1}})
    assert dep.delete(f"/servers/{sid}", token=MEMBER).status_code == 204
    dep.wait_gone([sid])
    accounting.assert_consistent(dep)


def test_a_locked_server_refuses_its_owner(two_hosts):
    dep = two_hosts
    sid = boot(dep, "locked", token=MEMBER)
    act(dep, sid, {"lock": None}, token=MEMBER)
    r = dep.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "2"}}, token=MEMBER)
    assert r.status_code == 409
    assert r.json()["conflictingRequest"]["message"] == f"Instance {sid} is locked"
    assert dep.delete(f"/servers/{sid}", token=MEMBER).status_code == 409
    act(dep, sid, {"unlock": None}, token=MEMBER)
    assert dep.delete(f"/servers/{sid}", token=MEMBER).status_code == 204
    dep.wait_gone([sid])


def os_migrations(dep: harness.Deployment, sid: str) -> list[dict]:
    r = dep.get(f"/os-migrations?instance_uuid={sid}",
                headers={"OpenStack-API-Version": "compute 2.80"})
    assert r.status_code == 200, r.text
    return r.json()["migrations"]


def cold_migrate(dep: harness.Deployment, sid: str, body: dict) -> tuple[list, float]:
    """POST migrate, then watch /os-migrations until VERIFY_RESIZE: (statuses seen in
    order, seconds it took)."""
    start = time.monotonic()
    r = dep.post(f"/servers/{sid}/action", body,
                 headers={"OpenStack-API-Version": "compute 2.56"})
    assert r.status_code == 202, r.text
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while not seen or seen[-1] != "finished":
        assert time.monotonic() < deadline, seen
        status = os_migrations(dep, sid)[0]["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        time.sleep(0.05)
    wait(dep, sid, "VERIFY_RESIZE")
    return seen, time.monotonic() - start


def test_cold_migrate_off_a_host_then_confirm(two_hosts):
    dep = two_hosts
    sid = boot(dep, "drain-me", "c1")
    before = accounting.assert_consistent(dep)["providers"]
    seen, took = cold_migrate(dep, sid, {"migrate": None})
    # the destination (c2) takes STEP_DELAY s to finish: the step shows on the way
    assert "post-migrating" in seen and seen[-1] == "finished", seen
    s = server(dep, sid)
    assert (s["OS-EXT-SRV-ATTR:host"], s["flavor"]["original_name"]) == ("c2", "m1.tiny")
    [m] = os_migrations(dep, sid)
    assert (m["migration_type"], m["source_compute"], m["dest_compute"], m["status"]) == (
        "migration", "c1", "c2", "finished")
    assert m["old_instance_type_id"] == m["new_instance_type_id"]
    assert m["user_id"] and m["project_id"] == "admin" and "links" not in m
    # the source keeps the server's size under the migration until confirmed
    during = accounting.assert_consistent(dep)["providers"]
    assert during["c1"]["MEMORY_MB"] == before["c1"]["MEMORY_MB"]
    assert during["c2"]["MEMORY_MB"] == before["c2"]["MEMORY_MB"] + 512
    # the source claim's consumer is the move in progress: nothing for the audit to fix
    audit = dep.manage("placement", "audit", "--verbose", check=False)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert events(dep, sid, "migrate") == {"conductor_migrate_server": "Success",
                                          "compute_resize_instance": "Success",
                                          "compute_finish_resize": "Success"}
    # not a live migration: nothing under the server's own migrations
    live = dep.get(f"/servers/{sid}/migrations", headers=MICRO)
    assert live.status_code == 200 and live.json() == {"migrations": []}
    r = dep.get(f"/servers/{sid}/migrations/{m['id']}", headers=MICRO)
    assert r.status_code == 404 and "is not live-migration" in r.text
    act(dep, sid, {"confirmResize": None}, expect=204)
    s = wait(dep, sid, "ACTIVE")
    assert os_migrations(dep, sid)[0]["status"] == "confirmed"
    after = accounting.assert_consistent(dep)["providers"]
    assert after["c1"]["MEMORY_MB"] == before["c1"]["MEMORY_MB"] - 512
    audit = dep.manage("placement", "audit", check=False)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    print(f"\nfake driver: cold migration c1 -> c2: VERIFY_RESIZE after {took:.2f} s "
          f"({STEP_DELAY} s per step on c2), statuses {seen}")
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid])


def test_cold_migrate_to_a_named_host_then_revert(two_hosts):
    dep = two_hosts
    sid = boot(dep, "go-and-back", "c2")
    for host, why in (("c2", "Cannot migrate to the same host."),
                      ("c9", "Compute host c9 could not be found.")):
        r = dep.post(f"/servers/{sid}/action", {"migrate": {"host": host}},
                     headers={"OpenStack-API-Version": "compute 2.56"})
        assert r.status_code == 400 and r.json()["badRequest"]["message"] == why
    r = dep.post(f"/servers/{sid}/action", {"migrate": None}, token=MEMBER)
    assert r.status_code == 404, r.text  # not theirs (an owner gets 403: API tests)
    assert os_migrations(dep, sid) == []
    seen, _took = cold_migrate(dep, sid, {"migrate": {"host": "c1"}})
    assert "migrating" in seen, seen  # c2, the source, is slow at its step
    assert server(dep, sid)["OS-EXT-SRV-ATTR:host"] == "c1"
    accounting.assert_consistent(dep)
    act(dep, sid, {"revertResize": None})
    s = wait(dep, sid, "ACTIVE")
    assert (s["OS-EXT-SRV-ATTR:host"], s["flavor"]["original_name"]) == ("c2", "m1.tiny")
    [m] = os_migrations(dep, sid)
    assert (m["status"], m["dest_compute"]) == ("reverted", "c1")
    listed = dep.get("/os-migrations?migration_type=migration&source_compute=c2",
                     headers=MICRO).json()["migrations"]
    assert m["id"] in [x["id"] for x in listed]
    accounting.assert_consistent(dep)
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid])


def _kill_and_restart(dep: harness.Deployment, host: str) -> None:
    dep.stop_proc(f"compute-{host}", signal.SIGKILL)
    dep.start_proc(f"compute-{host}", "nova-lite-compute", dep.host_confs[host])


def test_destination_killed_mid_finish_then_restarted(two_hosts):
    dep = two_hosts
    sid = boot(dep, "kill-dest", "c1")
    act(dep, sid, {"resize": {"flavorRef": "2"}})
    wait_task(dep, sid, "resize_finish")  # c2 takes STEP_DELAY seconds for it
    _kill_and_restart(dep, "c2")
    s = wait(dep, sid, "ACTIVE", timeout=90)
    assert (s["OS-EXT-SRV-ATTR:host"], s["flavor"]["original_name"]) == ("c1", "m1.tiny")
    assert migrations(dep, sid)[-1]["status"] == "error"
    assert "interrupted by a restart of nova-compute on c2" in fault_messages(dep, sid)[-1]
    dep.wait_for_computes(["c2"])
    accounting.assert_consistent(dep, timeout=60)


def test_source_killed_mid_migrate_then_restarted(two_hosts):
    dep = two_hosts
    sid = boot(dep, "kill-src", "c2")
    act(dep, sid, {"resize": {"flavorRef": "2"}})
    wait_task(dep, sid, "resize_migrating")  # c2, the source, is slow at it
    _kill_and_restart(dep, "c2")
    s = wait(dep, sid, "ACTIVE", timeout=90)
    assert (s["OS-EXT-SRV-ATTR:host"], s["flavor"]["original_name"]) == ("c2", "m1.tiny")
    assert s["OS-EXT-STS:power_state"] == 1
    assert migrations(dep, sid)[-1]["status"] == "error"
    assert "interrupted by a restart of nova-compute on c2" in fault_messages(dep, sid)[-1]
    dep.wait_for_computes(["c2"])
    accounting.assert_consistent(dep, timeout=60)
