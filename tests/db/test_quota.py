"""The quota engine on both backends: limits precedence, counting of real records, and
concurrent creates from threads and forked processes that must not overshoot a limit."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading
import uuid
from typing import Iterator

import pytest

from nova_lite import exception
from nova_lite.conductor import quota as quota_mod
from nova_lite.conductor.quota_sets import QuotaSetsMixin
from nova_lite.conf import CONF
from nova_lite.db import cells as cells_db
from nova_lite.db import engine as db_engine
from nova_lite.db import instances as inst_db
from nova_lite.db import quotas as quotas_db
from tests.db.test_cells_instances import create_instance, new_instance


class Cells:
    def __init__(self, *urls: str) -> None:
        self.urls = urls

    def all(self) -> list[dict]:
        return [{"database_connection": u, "name": f"cell{n}"} for n, u in enumerate(self.urls)]


@pytest.fixture
def quota_conf() -> Iterator[None]:
    CONF.set_override("instances", 5, group="quota")
    CONF.set_override("cores", 8, group="quota")
    CONF.set_override("ram", -1, group="quota")
    yield
    for name in ("instances", "cores", "ram"):
        CONF.clear_override(name, group="quota")


def _record(api_url: str, project: str, user: str, vcpus: int = 1):
    """A record() that writes one build request, as build_requests_create does."""
    def record(session, n: int = 1) -> int:
        for _ in range(n):
            inst = new_instance(project, user_id=user, vcpus=vcpus)
            cells_db.add_build_request(session, inst.uuid, project, user,
                                       inst.obj_to_primitive(), {})
        return n
    return record


def _pending(api_url: str, project: str) -> int:
    return db_engine.run_in_transaction(
        api_url, lambda s: len(quotas_db.pending_instances(s, project)))


def test_limits_precedence(api_url: str, cell_url: str, quota_conf: None) -> None:
    engine = quota_mod.QuotaEngine(api_url, Cells(cell_url))

    def limits(user=None):
        return db_engine.run_in_transaction(api_url, lambda s: engine.limits(s, "p1", user))

    project, user = limits("u1")
    assert project["instances"] == 5 and project["cores"] == 8 and project["ram"] == -1
    assert project["key_pairs"] == 100 and project["floating_ips"] == 10
    db_engine.run_in_transaction(api_url, lambda s: quotas_db.set_class_limits(
        s, "default", {"instances": 7}))
    assert limits()[0]["instances"] == 7
    db_engine.run_in_transaction(api_url, lambda s: quotas_db.set_project_limits(
        s, "p1", {"instances": 3}))
    db_engine.run_in_transaction(api_url, lambda s: quotas_db.set_user_limits(
        s, "p1", "u1", {"instances": 2}))
    project, user = limits("u1")
    assert project["instances"] == 3 and user["instances"] == 2 and user["cores"] == 8
    db_engine.run_in_transaction(api_url, lambda s: quotas_db.delete_limits(s, "p1"))
    project, user = limits("u1")
    assert project["instances"] == 7 and user["instances"] == 7


def test_counts_build_requests_and_cell_instances_once(api_url: str, cell_url: str,
                                                       quota_conf: None) -> None:
    engine = quota_mod.QuotaEngine(api_url, Cells(cell_url))
    live = new_instance("p1", user_id="u1", vcpus=2, memory_mb=256)
    create_instance(cell_url, live, "cell1")
    gone = new_instance("p1", user_id="u2", vcpus=4)
    create_instance(cell_url, gone, "cell1")
    inst_db.instance_destroy(cell_url, gone.uuid)
    # a server moving from build request to cell: present in both, counted once
    moving = new_instance("p1", user_id="u2", vcpus=1, memory_mb=64)
    cells_db.build_request_create(api_url, moving.uuid, "p1", "u2",
                                  moving.obj_to_primitive(), {})
    create_instance(cell_url, moving, "cell1")
    pending = new_instance("p1", user_id="u1", vcpus=1, memory_mb=128)
    cells_db.build_request_create(api_url, pending.uuid, "p1", "u1",
                                  pending.obj_to_primitive(), {})
    other = new_instance("p2", vcpus=8)
    create_instance(cell_url, other, "cell1")
    used = db_engine.run_in_transaction(api_url, lambda s: engine.usage(
        s, "p1", "u1", ["instances", "cores", "ram", "metadata_items"]))
    assert used == {"instances": (3, 2), "cores": (4, 3), "ram": (448, 384),
                    "metadata_items": (0, 0)}


def test_over_quota_message_names_resource_requested_used_limit(
        api_url: str, cell_url: str, quota_conf: None) -> None:
    engine = quota_mod.QuotaEngine(api_url, Cells(cell_url))
    for _ in range(4):
        engine.check_deltas(None, "p1", "u1", {"instances": 1, "cores": 2},
                            record=_record(api_url, "p1", "u1", vcpus=2))
    with pytest.raises(exception.OverQuota) as err:
        engine.check_deltas(None, "p1", "u1", {"instances": 1, "cores": 2},
                            record=_record(api_url, "p1", "u1", vcpus=2))
    assert err.value.code == 403
    assert err.value.format_message() == (
        "Quota exceeded for cores: Requested 2, but already used 8 of 8 cores")
    with pytest.raises(exception.OverQuota) as err:
        engine.check_deltas(None, "p1", "u1", {"instances": 2, "cores": 1})
    assert err.value.format_message() == (
        "Quota exceeded for cores, instances: Requested 1, 2, but already used 8, 4 of "
        "8, 5 cores, instances")
    # shrinking, unlimited and absolute resources
    assert engine.check_deltas(None, "p1", "u1", {"cores": -2, "ram": 10 ** 6}) is None
    engine.check_deltas(None, "p1", "u1", {"metadata_items": 128})
    with pytest.raises(exception.OverQuota, match="Requested 129, but already used 0 of "
                                                  "128 metadata_items"):
        engine.check_deltas(None, "p1", "u1", {"metadata_items": 129})
    assert _pending(api_url, "p1") == 4


def test_user_limit_and_multiple_create_fits_what_it_can(api_url: str, cell_url: str,
                                                         quota_conf: None) -> None:
    engine = quota_mod.QuotaEngine(api_url, Cells(cell_url))
    db_engine.run_in_transaction(api_url, lambda s: quotas_db.set_user_limits(
        s, "p1", "u1", {"instances": 2}))
    record = _record(api_url, "p1", "u1")
    per = {"instances": 1, "cores": 1, "ram": 128}
    assert engine.fit_instances(None, "p1", "u1", per, 1, 3, record) == 2
    with pytest.raises(exception.OverQuota, match="already used 2 of 2 instances"):
        engine.fit_instances(None, "p1", "u1", per, 1, 1, record)
    # another user of the project still has the project's room (5 - 2)
    assert engine.fit_instances(None, "p1", "u2", per, 2, 10, _record(api_url, "p1", "u2")) == 3
    with pytest.raises(exception.OverQuota, match="Requested 1, but already used 5 of 5"):
        engine.fit_instances(None, "p1", "u2", per, 1, 1, record)


def test_quota_update_refuses_limits_below_usage(api_url: str, cell_url: str,
                                                 quota_conf: None) -> None:
    sets = QuotaSetsMixin()
    sets.api_url = api_url
    sets.quota = quota_mod.QuotaEngine(api_url, Cells(cell_url))
    sets.quota.check_deltas(None, "p1", "u1", {"instances": 3},
                            record=_record(api_url, "p1", "u1", vcpus=1))
    sets.quota.check_deltas(None, "p1", "u1", {"instances": 1},
                            record=_record(api_url, "p1", "u1", vcpus=1))
    with pytest.raises(exception.Invalid, match="Quota limit 1 for instances must be greater "
                                                "than or equal to already used and reserved 2"):
        sets.quota_update(None, "p1", None, {"instances": 1})
    assert sets.quota_update(None, "p1", None, {"instances": 1}, force=True)["instances"] == 1
    sets.quota_update(None, "p1", None, {"instances": 4})
    with pytest.raises(exception.Invalid, match="must be less than or equal to 4"):
        sets.quota_update(None, "p1", "u1", {"instances": 5})
    assert sets.quota_update(None, "p1", "u1", {"instances": 3})["instances"] == 3
    detail = sets.quota_get(None, "p1", usages=True)
    assert detail["instances"] == {"limit": 4, "in_use": 2}
    assert detail["key_pairs"] == {"limit": 100, "in_use": 0}
    sets.quota_delete(None, "p1")
    assert sets.quota_get(None, "p1", "u1")["instances"] == 5


# -- concurrency -------------------------------------------------------------------------------

def _race(api_url: str, cell_url: str, project: str, attempts: int) -> tuple[int, int]:
    """``attempts`` threads try one create each, released together: (made, refused)."""
    engine = quota_mod.QuotaEngine(api_url, Cells(cell_url))
    gate = threading.Barrier(attempts)

    def one(n: int) -> bool:
        gate.wait()
        try:
            engine.fit_instances(None, project, f"u{n}", {"instances": 1, "cores": 1}, 1, 1,
                                 _record(api_url, project, f"u{n}"))
            return True
        except exception.OverQuota:
            return False

    with concurrent.futures.ThreadPoolExecutor(attempts) as pool:
        results = list(pool.map(one, range(attempts)))
    return results.count(True), results.count(False)


def _race_in_child(api_url: str, cell_url: str, project: str, attempts: int,
                   out: "multiprocessing.Queue") -> None:
    db_engine.dispose_all()  # never share the parent's connections
    try:
        out.put(_race(api_url, cell_url, project, attempts))
    except BaseException as err:  # report, so the parent fails with the reason
        out.put(repr(err))


def test_concurrent_threads_never_overshoot(api_url: str, cell_url: str,
                                            quota_conf: None) -> None:
    made, refused = _race(api_url, cell_url, f"p-{uuid.uuid4().hex[:6]}", 12)
    assert (made, refused) == (5, 7)


def test_concurrent_processes_never_overshoot(backend: str, api_url: str, cell_url: str,
                                              quota_conf: None) -> None:
    """Four forked processes (like conductor workers) with four threads each."""
    project = f"p-{uuid.uuid4().hex[:6]}"
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    db_engine.dispose_all()
    procs = [ctx.Process(target=_race_in_child, args=(api_url, cell_url, project, 4, out))
             for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(r[0] for r in results) == 5 and sum(r[1] for r in results) == 11
    assert _pending(api_url, project) == 5


def test_concurrent_creates_while_builds_move_to_the_cell(api_url: str, cell_url: str,
                                                          quota_conf: None) -> None:
    """Build requests becoming cell instances meanwhile (as scheduling does) must not
    open room: the count reads build requests first, then the cells."""
    from nova_lite.objects.instance import Instance

    project = f"p-{uuid.uuid4().hex[:6]}"
    stop = threading.Event()

    def mover() -> None:
        while not stop.is_set():
            for br in cells_db.build_request_list(api_url, project_id=project):
                inst = Instance.obj_from_primitive(br["instance"])
                create_instance(cell_url, inst, "cell1")
                cells_db.build_request_delete(api_url, inst.uuid)

    movers = [threading.Thread(target=mover)]
    for t in movers:
        t.start()
    try:
        made, refused = _race(api_url, cell_url, project, 16)
    finally:
        stop.set()
        for t in movers:
            t.join()
    assert (made, refused) == (5, 11)
    engine = quota_mod.QuotaEngine(api_url, Cells(cell_url))
    used = db_engine.run_in_transaction(api_url, lambda s: engine.usage(
        s, project, None, ["instances"]))
    assert used["instances"][0] == 5


def test_pending_counts_are_decoded_once_and_follow_the_build_requests(
        api_url: str, monkeypatch) -> None:
    record = _record(api_url, "p-pending", "u1", vcpus=3)
    db_engine.run_in_transaction(api_url, lambda s: record(s, 2))

    def counts():
        return db_engine.run_in_transaction(
            api_url, lambda s: quotas_db.pending_instances(s, "p-pending"))

    first = counts()
    assert len(first) == 2 and all(v[:2] == ("u1", 3) for v in first.values())
    decoded = []
    real_loads = quotas_db.json.loads
    monkeypatch.setattr(quotas_db.json, "loads", lambda b: decoded.append(1) or real_loads(b))
    db_engine.run_in_transaction(api_url, lambda s: record(s, 1))
    second = counts()
    assert len(second) == 3 and len(decoded) == 1  # only the new request is decoded
    gone = next(iter(first))
    cells_db.build_request_delete(api_url, gone)
    assert set(counts()) == set(second) - {gone}
