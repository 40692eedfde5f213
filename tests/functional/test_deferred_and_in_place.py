"""Through real daemons, on one fake host with [DEFAULT] allow_resize_to_same_host,
resize_confirm_window and reclaim_instance_interval set: resize in place (revert, then
confirmed automatically), soft delete / restore / forceDelete / reclaim, rebuild, lock
with a reason, and quick actions' events. Claims are checked after each step."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from tests.functional import accounting, harness
from tests.functional.conftest import _require_services
from tests.functional.test_boot_flow import image_id
from tests.functional.test_resize import act, boot, events, server, wait

CONFIRM_WINDOW = 8
RECLAIM_INTERVAL = 12


@pytest.fixture(scope="module")
def one_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    _require_services()
    dep = harness.Deployment(
        str(tmp_path_factory.mktemp("inplace")),
        {"d1": {"vcpus": 16, "memory_mb": 65536, "local_gb": 1000}},
        extra_conf=f"[DEFAULT]\nallow_resize_to_same_host = True\n"
                   f"resize_confirm_window = {CONFIRM_WINDOW}\n"
                   f"reclaim_instance_interval = {RECLAIM_INTERVAL}\n")
    try:
        dep.setup()
        dep.image = image_id(dep, tmp_path_factory)  # type: ignore[attr-defined]
        yield dep
    finally:
        dep.teardown()


def gone(dep: harness.Deployment, sid: str, timeout: float = 30) -> None:
    """Deleted for good (the default list hides soft-deleted servers: ask for it)."""
    deadline = time.monotonic() + timeout
    while dep.get(f"/servers/{sid}").status_code != 404:
        assert time.monotonic() < deadline, f"{sid} was not deleted"
        time.sleep(0.2)


def listed(dep: harness.Deployment, query: str = "") -> set[str]:
    r = dep.get(f"/servers?all_tenants=1{query}")
    assert r.status_code == 200, r.text
    return {s["id"] for s in r.json()["servers"]}


def test_resize_in_place_revert_then_automatic_confirm(one_host):
    dep = one_host
    sid = boot(dep, "in-place", "d1")
    act(dep, sid, {"resize": {"flavorRef": "2"}})
    s = wait(dep, sid, "VERIFY_RESIZE")
    assert s["OS-EXT-SRV-ATTR:host"] == "d1" and s["flavor"]["ram"] == 2048
    act(dep, sid, {"revertResize": None})  # well inside the confirmation window
    s = wait(dep, sid, "ACTIVE")
    assert s["flavor"]["ram"] == 512
    accounting.assert_consistent(dep, expect_servers=1)

    act(dep, sid, {"resize": {"flavorRef": "3"}})
    wait(dep, sid, "VERIFY_RESIZE")
    verified = time.monotonic()
    summary = accounting.assert_consistent(dep, expect_servers=1)
    assert summary["providers"]["d1"]["MEMORY_MB"] == 512 + 4096  # both, until confirmed
    assert sid in listed(dep, "&status=VERIFY_RESIZE")
    s = wait(dep, sid, "ACTIVE", timeout=4 * CONFIRM_WINDOW)  # nobody confirms it
    # not before the window has passed
    assert s["flavor"]["ram"] == 4096 and time.monotonic() - verified > CONFIRM_WINDOW - 1
    assert events(dep, sid, "confirmResize") == {"compute_confirm_resize": "Success"}
    summary = accounting.assert_consistent(dep, expect_servers=1)
    assert summary["providers"]["d1"]["MEMORY_MB"] == 4096
    assert dep.delete(f"/servers/{sid}").status_code == 204  # soft: see below
    wait(dep, sid, "SOFT_DELETED")
    act(dep, sid, {"forceDelete": None})
    gone(dep, sid)


def test_soft_delete_restore_force_delete_and_reclaim(one_host):
    dep = one_host
    keep, force, reclaim = (boot(dep, n, "d1") for n in ("keep", "force", "reclaim"))
    for sid in (keep, force, reclaim):
        assert dep.delete(f"/servers/{sid}").status_code == 204
    for sid in (keep, force, reclaim):
        s = wait(dep, sid, "SOFT_DELETED")
        assert s["OS-EXT-STS:vm_state"] == "soft-delete" and s["OS-EXT-STS:power_state"] == 4
    # hidden from the default list, found by status or deleted=true
    assert {keep, force, reclaim} & listed(dep) == set()
    assert {keep, force, reclaim} <= listed(dep, "&status=SOFT_DELETED")
    assert {keep, force, reclaim} <= listed(dep, "&deleted=true")
    act(dep, keep, {"restore": None})
    act(dep, force, {"forceDelete": None})
    assert wait(dep, keep, "ACTIVE")["OS-EXT-STS:power_state"] == 1
    gone(dep, force)
    # the soft-deleted one keeps its claim until it is reclaimed
    accounting.assert_consistent(dep, expect_servers=2)
    gone(dep, reclaim, timeout=6 * RECLAIM_INTERVAL)
    accounting.assert_consistent(dep, expect_servers=1)
    act(dep, keep, {"restore": None}, expect=409)
    assert dep.delete(f"/servers/{keep}").status_code == 204
    wait(dep, keep, "SOFT_DELETED")
    act(dep, keep, {"forceDelete": None})
    gone(dep, keep)


def test_rebuild_with_a_new_image_keeps_host_and_claim(one_host, tmp_path_factory):
    dep = one_host
    path = tmp_path_factory.mktemp("img2") / "other.raw"
    path.write_bytes(b"\1" * 4096)
    other = dep.manage("image", "import", "--name", "other", str(path)).stdout.split()[-1]
    sid = boot(dep, "rebuild-me", "d1")
    r = dep.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": other, "name": "reborn",
                                                       "metadata": {"gen": "2"}}},
                 headers={"OpenStack-API-Version": "compute 2.75"})
    assert r.status_code == 202, r.text
    body = r.json()["server"]
    assert body["status"] == "REBUILD" and body["adminPass"] and body["name"] == "reborn"
    s = wait(dep, sid, "ACTIVE")
    assert (s["image"]["id"], s["name"], s["metadata"]) == (other, "reborn", {"gen": "2"})
    assert s["OS-EXT-SRV-ATTR:host"] == "d1"
    assert events(dep, sid, "rebuild") == {"compute_rebuild_instance": "Success"}
    accounting.assert_consistent(dep, expect_servers=1)
    act(dep, sid, {"os-stop": None})
    wait(dep, sid, "SHUTOFF")
    act(dep, sid, {"rebuild": {"imageRef": dep.image}})
    s = wait(dep, sid, "SHUTOFF")  # a stopped server stays stopped
    assert s["image"]["id"] == dep.image and s["OS-EXT-STS:power_state"] == 4
    act(dep, sid, {"pause": None}, expect=409)
    act(dep, sid, {"forceDelete": None})
    gone(dep, sid)
    accounting.assert_consistent(dep, expect_servers=0)


def test_lock_with_a_reason_and_the_locked_filter(one_host):
    dep = one_host
    sid = boot(dep, "locked", "d1")
    v273 = {"OpenStack-API-Version": "compute 2.73"}
    r = dep.post(f"/servers/{sid}/action", {"lock": {"locked_reason": "audit"}},
                 headers=v273)
    assert r.status_code == 202, r.text
    s = dep.get(f"/servers/{sid}", headers=v273).json()["server"]
    assert (s["locked"], s["locked_reason"]) == (True, "audit")
    r = dep.get("/servers?all_tenants=1&locked=true", headers=v273)
    assert [x["id"] for x in r.json()["servers"]] == [sid]
    assert events(dep, sid, "lock") == {"api_lock": "Success"}
    act(dep, sid, {"unlock": None})
    r = dep.get("/servers?all_tenants=1&locked=true", headers=v273)
    assert r.json()["servers"] == []
    assert server(dep, sid)["locked"] is False
    act(dep, sid, {"forceDelete": None})
    gone(dep, sid)


def test_each_action_shows_its_one_event_finished(one_host):
    """Ten quick actions in a row (the fake driver answers at once, so each compute's
    start and finish reach the conductor back to back): every action shows its one
    compute event, finished, never a second, unfinished copy of it."""
    dep = one_host
    sid = boot(dep, "events", "d1")
    for _ in range(5):
        act(dep, sid, {"pause": None})
        wait(dep, sid, "PAUSED")
        act(dep, sid, {"unpause": None})
        wait(dep, sid, "ACTIVE")
    acts = dep.get(f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    shown = {}
    for a in acts:
        if a["action"] in ("pause", "unpause"):
            one = dep.get(f"/servers/{sid}/os-instance-actions/{a['request_id']}",
                          headers={"OpenStack-API-Version": "compute 2.51"}).json()
            shown[a["request_id"]] = [(e["event"], e["result"])
                                      for e in one["instanceAction"]["events"]]
    assert len(shown) == 10
    assert all(ev in ([("compute_pause_instance", "Success")],
                      [("compute_unpause_instance", "Success")])
               for ev in shown.values()), shown
    act(dep, sid, {"forceDelete": None})
    gone(dep, sid)
