"""A build ends ACTIVE or ERROR whatever its values: when a cell database refuses one, the
server is recorded in cell0 in ERROR with what can be stored, never left scheduling."""

from __future__ import annotations

from datetime import datetime, timedelta
import uuid

import pytest
import sqlalchemy as sa

from nova_lite import context, exception, rpc
from nova_lite.conductor import tasks
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.quota import QuotaEngine
from nova_lite.db import cells as cells_db
from nova_lite.db import instances as inst_db
from nova_lite.db import api_models
from nova_lite.db import engine as db_engine
from nova_lite.db import main_models
from nova_lite.db import placement as placement_db
from nova_lite.objects.request_spec import RequestSpec, Selection
from tests.db.test_cells_instances import create_instance, new_instance

# Valid IPv6 as written (41 characters), longer than the 39-character column.
LONG_IPV6 = "0000:0000:0000:0000:0000:babe:220.12.22.2"


class _Scheduler:
    def __init__(self, cell_uuid: str, zone: str | None = None) -> None:
        self.cell_uuid = cell_uuid
        self.zone = zone  # None: as a scheduler before Selection 1.1

    def select_destinations(self, ctx, spec, uuids, build_lease=None):
        sels = [Selection(instance_uuid=u, host="h1", nodename="h1",
                          provider_uuid=str(uuid.uuid4()), cell_uuid=self.cell_uuid)
                for u in uuids]
        if self.zone is not None:
            for sel in sels:
                sel.availability_zone = self.zone
        return sels


class _Compute:
    def __init__(self) -> None:
        self.built: list[str] = []

    def build_and_run_instance(self, ctx, host, inst, block_device_mapping=None):
        self.built.append(inst.uuid)
        self.bdms = block_device_mapping


class _Tasks(tasks.TaskMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)
        tasks.TaskMixin.__init__(self)


@pytest.fixture
def cells(api_url: str, mapped_cells: dict) -> dict:
    return {"api": api_url, **mapped_cells}


def _record(api_url: str, **values) -> tuple:
    inst = new_instance(**values)
    spec = RequestSpec(instance_uuid=inst.uuid, project_id="p1", user_id="u1",
                       flavor=inst.flavor, image_id=None, availability_zone=None,
                       num_instances=1, ignore_hosts=[], force_hosts=[])
    cells_db.build_request_create(api_url, inst.uuid, "p1", "u1", inst.obj_to_primitive(),
                                  spec.obj_to_primitive())
    return inst


def _run_build(cells: dict, inst, zone: str | None = None) -> tuple[_Tasks, _Compute]:
    t = _Tasks(cells["api"])
    t._scheduler = _Scheduler(cells["cell1_uuid"], zone)
    t._compute = _Compute()
    t._schedule_and_build(context.get_admin_context(), [inst.uuid])
    return t, t._compute


@pytest.mark.parametrize("values", [
    {"access_ip_v6": LONG_IPV6},
    {"access_ip_v4": "x" * 100, "display_name": "n" * 300},
    {"hostname": "h" * 600, "availability_zone": "z" * 600},
], ids=["long-ipv6", "long-ipv4-and-name", "long-hostname-and-az"])
def test_values_a_cell_refuses_end_in_error(cells: dict, backend: str, values: dict) -> None:
    inst = _record(cells["api"], **values)
    _t, compute = _run_build(cells, inst)
    assert cells_db.build_request_list(cells["api"], instance_uuids=[inst.uuid]) == []
    mapping = cells_db.instance_mapping_get(cells["api"], inst.uuid)
    if backend == "sqlite":  # SQLite stores any length: the build goes on
        assert mapping["cell"]["uuid"] == cells["cell1_uuid"] and compute.built == [inst.uuid]
        return
    assert compute.built == []
    assert mapping["cell"]["uuid"] == cells_db.CELL0_UUID
    stored = inst_db.instance_get(cells["cell0"], inst.uuid)
    assert stored.vm_state == "error" and stored.task_state is None
    assert stored.fault.code == 500 and "Build failed" in stored.fault.message
    assert stored.access_ip_v6 is None and stored.flavor.flavorid == "42"
    assert placement_db.consumers_on_provider(cells["api"], "h1") == []
    # no live copy was left in cell1
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_get(cells["cell1"], inst.uuid)
    actions = inst_db.action_list(cells["cell0"], inst.uuid, with_events=True)
    assert [a.action for a in actions] == ["create"]
    assert actions[0].events[0].result == "Error"


def test_ordinary_build_reaches_the_host(cells: dict, monkeypatch) -> None:
    inst = _record(cells["api"], access_ip_v6="::babe:dc0c:1602")
    t, compute = _run_build(cells, inst)
    # The conductor that handed the server over knows its cell: the host's updates
    # that reach it read no mapping.
    monkeypatch.setattr(cells_db, "instance_mapping_get", None)
    assert t.cells.instance_cell(inst.uuid)["uuid"] == cells["cell1_uuid"]
    monkeypatch.undo()
    assert compute.built == [inst.uuid]
    stored = inst_db.instance_get(cells["cell1"], inst.uuid)
    assert stored.access_ip_v6 == "::babe:dc0c:1602"
    assert [a.action for a in inst_db.action_list(cells["cell1"], inst.uuid)] == ["create"]
    # The host learns with the build that the server has no mappings to read.
    assert compute.bdms == []
    mapping = cells_db.instance_mapping_get(cells["api"], inst.uuid)
    assert mapping["cell"]["uuid"] == cells["cell1_uuid"]


def test_the_server_records_the_zone_its_host_was_chosen_in(cells: dict) -> None:
    """The scheduler's selection names the host's zone; without one (an older
    scheduler) the conductor reads the aggregates: h1 is in none, so the default."""
    inst = _record(cells["api"])
    _run_build(cells, inst, zone="az-rack2")
    assert inst_db.instance_get(cells["cell1"], inst.uuid).availability_zone == "az-rack2"
    inst = _record(cells["api"])
    _run_build(cells, inst)
    assert inst_db.instance_get(cells["cell1"], inst.uuid).availability_zone == "nova"


def test_a_build_deleted_while_scheduled_leaves_no_copy(cells: dict) -> None:
    """The user deleted the build request while the scheduler chose: the hand-over
    finds it gone, changes nothing, and the copy made in the cell goes again."""
    inst = _record(cells["api"])
    t = _Tasks(cells["api"])
    t._compute = _Compute()

    class _DeletingScheduler(_Scheduler):
        def select_destinations(self, ctx, spec, uuids, build_lease=None):
            assert cells_db.build_request_delete(cells["api"], uuids[0])
            return super().select_destinations(ctx, spec, uuids, build_lease)

    t._scheduler = _DeletingScheduler(cells["cell1_uuid"])
    t._schedule_and_build(context.get_admin_context(), [inst.uuid])
    assert t._compute.built == []
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_get(cells["cell1"], inst.uuid)
    assert cells_db.instance_mapping_get(cells["api"], inst.uuid)["queued_for_delete"]


class _BuildingTasks(_Tasks):
    """Records build requests as the API's server_create has them recorded, and runs
    the build attempt that follows in the caller's thread."""

    def __init__(self, cells: dict) -> None:
        super().__init__(cells["api"])
        self.quota = QuotaEngine(cells["api"], self.cells)
        self.cells.all()  # read once, as a running conductor has them
        self._compute = _Compute()
        self._scheduler = _Scheduler(cells["cell1_uuid"])
        self.before_build = lambda uuids: None
        outer = self

        class _Now:
            def submit(self, fn, ctx, uuids, held):
                outer.before_build(uuids)
                fn(ctx, uuids, held)

        self._build_pool = _Now()  # type: ignore[assignment]


def _create(t: _BuildingTasks, count: int = 2) -> list:
    insts = [new_instance() for _ in range(count)]
    spec = RequestSpec(instance_uuid=insts[0].uuid, project_id="p1", user_id="u1",
                       flavor=insts[0].flavor, image_id=None, availability_zone=None,
                       num_instances=count, ignore_hosts=[], force_hosts=[])
    assert t.build_requests_create(context.get_admin_context(), insts, spec,
                                   schedule=True) == count
    return insts


def test_a_build_is_recorded_taken_by_the_attempt_that_follows(cells: dict) -> None:
    """The build requests are created under the attempt's lease: no retry or other
    conductor can take them meanwhile, and the attempt reads nothing back."""
    t = _BuildingTasks(cells)
    seen: list = []

    def before(uuids: list) -> None:
        stale = datetime.utcnow() - timedelta(seconds=3600)
        seen.append(cells_db.build_request_lease(cells["api"], uuids, stale))

    t.before_build = before
    insts = _create(t)
    assert seen == [[]]  # held by the recording attempt
    assert t._compute.built == [i.uuid for i in insts]
    for inst in insts:
        assert inst_db.instance_get(cells["cell1"], inst.uuid).host == "h1"
    assert cells_db.build_request_list(cells["api"], "p1") == []


def test_a_build_deleted_before_its_attempt_ran_leaves_nothing(cells: dict) -> None:
    """Deleted between the API's 202 and the build thread: the lease check in the
    claim refuses the attempt (no take leaves the server out any more)."""
    t = _BuildingTasks(cells)

    class _LeaseCheckingScheduler(_Scheduler):
        def select_destinations(self, ctx, spec, uuids, build_lease=None):
            for u in uuids:
                placement_db.claim(cells["api"], rp, u, {"VCPU": 1},
                                   build_lease=build_lease)
            return super().select_destinations(ctx, spec, uuids, build_lease)

    rp = placement_db.provider_ensure(
        cells["api"], "h1", "h1", cells["cell1_uuid"],
        {"VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}})
    t._scheduler = _LeaseCheckingScheduler(cells["cell1_uuid"])
    t.before_build = lambda uuids: [t.server_delete(context.get_admin_context(), u)
                                    for u in uuids]
    insts = _create(t)
    assert t._compute.built == []
    for inst in insts:
        with pytest.raises(exception.InstanceNotFound):
            inst_db.instance_get(cells["cell1"], inst.uuid)
        assert placement_db.consumer_allocations(cells["api"], inst.uuid) == {}
    assert cells_db.build_request_list(cells["api"], "p1") == []


def test_burial_twice_is_harmless(cells: dict) -> None:
    """A re-run after a crash between the cell0 record and the mapping finds the record."""
    inst = _record(cells["api"])
    t = _Tasks(cells["api"])
    ctx = context.get_admin_context()
    inst.vm_state, inst.task_state = "error", None
    inst_db.instance_create_with_action(cells["cell0"], inst, "cell0", ctx.request_id, None,
                                        "p1", failure=(500, "first", "e"))
    t._bury_in_cell0(ctx, inst, "second", 500)
    stored = inst_db.instance_get(cells["cell0"], inst.uuid)
    assert stored.vm_state == "error" and stored.fault.message == "first"
    assert cells_db.build_request_list(cells["api"], instance_uuids=[inst.uuid]) == []


def test_the_network_request_reaches_the_host_and_the_cache_is_kept(cells: dict) -> None:
    request = '{"networks": [{"port_id": "p"}], "security_groups": []}'
    inst = _record(cells["api"], network_request=request)
    _t, compute = _run_build(cells, inst)
    stored = inst_db.instance_get(cells["cell1"], inst.uuid)
    assert stored.network_request == request and stored.network_info is None
    inst_db.instance_update(cells["cell1"], inst.uuid, {"network_info": "[1]"})
    assert inst_db.instance_get(cells["cell1"], inst.uuid).network_info == "[1]"
    [listed] = inst_db.instance_list(cells["cell1"], "cell1", None, {"uuids": [inst.uuid]})
    assert (listed.network_info, listed.network_request) == ("[1]", request)


class _LateScheduler:
    """A scheduler whose claim reaches the database after a newer attempt took over."""

    def __init__(self, api_url: str) -> None:
        self.api_url, self.leases = api_url, []

    def select_destinations(self, ctx, spec, uuids, build_lease=None):
        self.leases.append(build_lease)
        rp = placement_db.provider_ensure(self.api_url, "h1", "h1", None, {
            "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}})
        later = datetime.fromisoformat(build_lease) + timedelta(seconds=60)
        cells_db.build_request_lease(self.api_url, uuids, later, later)  # the takeover
        placement_db.claim(self.api_url, rp, uuids[0], {"VCPU": 1}, build_lease=build_lease)


def test_a_superseded_attempt_leaves_the_build_to_its_successor(cells: dict) -> None:
    inst = _record(cells["api"])
    t = _Tasks(cells["api"])
    t._scheduler, t._compute = _LateScheduler(cells["api"]), _Compute()
    t._schedule_and_build(context.get_admin_context(), [inst.uuid])
    assert t._scheduler.leases and t._scheduler.leases[0] is not None
    # Nothing buried, nothing built, nothing claimed: the build request is the successor's.
    assert t._compute.built == []
    assert cells_db.instance_mapping_get(cells["api"], inst.uuid)["cell"] is None
    assert [b["instance_uuid"] for b in cells_db.build_request_list(
        cells["api"], instance_uuids=[inst.uuid])] == [inst.uuid]
    assert placement_db.consumers_on_provider(cells["api"], "h1") == []



class _TooLateScheduler:
    """A scheduler whose answer comes too late: the call times out. With ``takeover``,
    a newer attempt took the build over meanwhile and claimed for it; without, this
    attempt's own claim was made."""

    def __init__(self, api_url: str, takeover: bool) -> None:
        self.api_url, self.takeover = api_url, takeover

    def select_destinations(self, ctx, spec, uuids, build_lease=None):
        rp = placement_db.provider_ensure(self.api_url, "h1", "h1", None, {
            "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}})
        lease = build_lease
        if self.takeover:
            later = datetime.fromisoformat(build_lease) + timedelta(seconds=60)
            cells_db.build_request_lease(self.api_url, uuids, later, later)
            lease = later.isoformat()
        placement_db.claim(self.api_url, rp, uuids[0], {"VCPU": 1}, build_lease=lease)
        raise rpc.MessagingTimeout("no reply in time")


@pytest.mark.parametrize("takeover", [True, False])
def test_an_attempt_that_times_out_drops_only_its_own_claim(cells: dict,
                                                            takeover: bool) -> None:
    """The attempt gives up (to retry later) and drops its own claim; a claim of the
    attempt that took the build over meanwhile stays, with the build request."""
    inst = _record(cells["api"], created_at=datetime.utcnow())  # young: retried later
    t = _Tasks(cells["api"])
    t._scheduler, t._compute = _TooLateScheduler(cells["api"], takeover), _Compute()
    t._schedule_and_build(context.get_admin_context(), [inst.uuid])
    assert t._compute.built == []
    assert [b["instance_uuid"] for b in cells_db.build_request_list(
        cells["api"], instance_uuids=[inst.uuid])] == [inst.uuid]
    assert placement_db.consumers_on_provider(cells["api"], "h1") == (
        [inst.uuid] if takeover else [])


def test_a_record_left_by_an_interrupted_attempt_follows_the_new_choice(cells: dict) -> None:
    """The first attempt created the record on h0 and died before the hand-over; the
    retry chose h1 and claimed there: the record, the build and the claim agree on h1."""
    inst = _record(cells["api"])
    earlier = inst_db.instance_create_with_action(
        cells["cell1"], inst, "cell1",
        "req-earlier", "u1", "p1")
    inst_db.instance_update(cells["cell1"], inst.uuid, {"host": "h0", "node": "h0"})
    assert earlier.uuid == inst.uuid
    _t, compute = _run_build(cells, inst)
    stored = inst_db.instance_get(cells["cell1"], inst.uuid)
    assert (stored.host, stored.node) == ("h1", "h1")
    assert compute.built == [inst.uuid]
    assert cells_db.build_request_list(cells["api"], instance_uuids=[inst.uuid]) == []


def test_a_retry_sends_the_build_of_a_record_left_before_its_hand_over_once(
        cells: dict) -> None:
    """A build request and its cell record both left by a crash before the hand-over:
    the periodic pass re-schedules it and that attempt sends the build; the pass's
    re-send of records never handed to their host must not send it a second time."""
    inst = _record(cells["api"])
    create_instance(cells["cell1"], inst)
    inst_db.instance_update(cells["cell1"], inst.uuid, {"host": "h0", "node": "h0"})
    old = datetime.utcnow() - timedelta(hours=1)
    with db_engine.get_engine(cells["api"]).begin() as conn:
        conn.execute(sa.update(api_models.BuildRequest)
                     .where(api_models.BuildRequest.instance_uuid == inst.uuid)
                     .values(created_at=old, updated_at=None))
    with db_engine.get_engine(cells["cell1"]).begin() as conn:
        conn.execute(sa.update(main_models.Instance).where(
            main_models.Instance.uuid == inst.uuid).values(created_at=old))
    t = _Tasks(cells["api"])
    t._scheduler = _Scheduler(cells["cell1_uuid"])
    t._compute = _Compute()
    assert t.reconcile_build_requests() == 1
    assert t._compute.built == [inst.uuid]
    assert inst_db.instance_get(cells["cell1"], inst.uuid).host == "h1"
    assert cells_db.build_request_list(cells["api"], instance_uuids=[inst.uuid]) == []


class _OvertakenScheduler:
    """A scheduler that claims for this attempt and answers; meanwhile (after the claim)
    a later attempt took the build over. ``outcome``: "chosen" answers with h1,
    "no host" raises NoValidHost."""

    def __init__(self, api_url: str, cell_uuid: str, outcome: str) -> None:
        self.api_url, self.cell_uuid, self.outcome = api_url, cell_uuid, outcome
        self.successor = None

    def select_destinations(self, ctx, spec, uuids, build_lease=None):
        rp = placement_db.provider_ensure(self.api_url, "h1", "h1", None, {
            "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}})
        placement_db.claim(self.api_url, rp, uuids[0], {"VCPU": 1}, build_lease=build_lease)
        self.successor = datetime.fromisoformat(build_lease) + timedelta(seconds=60)
        cells_db.build_request_lease(self.api_url, uuids, self.successor, self.successor)
        if self.outcome == "no host":
            raise exception.NoValidHost(reason="none left")
        return _Scheduler(self.cell_uuid).select_destinations(ctx, spec, uuids)


@pytest.mark.parametrize("outcome", ["chosen", "no host"])
def test_a_late_attempt_neither_hands_over_nor_buries_a_build_taken_over(
        cells: dict, outcome: str) -> None:
    """The attempt's answer came after a later attempt took the build over: it builds
    nothing and buries nothing; the build request, its mapping and the claim are left to
    the later attempt (whose claim replaces this one's)."""
    inst = _record(cells["api"])
    t = _Tasks(cells["api"])
    t._scheduler = _OvertakenScheduler(cells["api"], cells["cell1_uuid"], outcome)
    t._compute = _Compute()
    t._schedule_and_build(context.get_admin_context(), [inst.uuid])
    assert t._compute.built == []
    assert cells_db.instance_mapping_get(cells["api"], inst.uuid)["cell"] is None
    assert [b["instance_uuid"] for b in cells_db.build_request_list(
        cells["api"], instance_uuids=[inst.uuid])] == [inst.uuid]
    assert placement_db.consumers_on_provider(cells["api"], "h1") == [inst.uuid]
    for cell in ("cell0", "cell1"):  # its own record in cell1 went: the later attempt
        with pytest.raises(exception.InstanceNotFound):  # may choose another cell
            inst_db.instance_get(cells[cell], inst.uuid)
    # The later attempt hands it over under its own lease.
    assert cells_db.hand_over(cells["api"], inst.uuid, cells["cell1_uuid"],
                              t._scheduler.successor) is True


class _SlowScheduler(_Scheduler):
    """A scheduler answering after most of the attempt's lease went (the clock of the
    lease stamps is moved back instead of waiting); ``takeover``: a later attempt took
    the build over meanwhile."""

    def __init__(self, api_url: str, cell_uuid: str, takeover: bool) -> None:
        super().__init__(cell_uuid)
        self.api_url, self.takeover = api_url, takeover

    def select_destinations(self, ctx, spec, uuids, build_lease=None):
        if self.takeover:
            now = datetime.utcnow().replace(microsecond=0)
            cells_db.build_request_lease(self.api_url, uuids, now, now)
        return super().select_destinations(ctx, spec, uuids, build_lease)


@pytest.mark.parametrize("takeover", [False, True])
def test_an_attempt_past_half_its_lease_renews_it_before_writing_to_a_cell(
        cells: dict, monkeypatch, takeover: bool) -> None:
    inst = _record(cells["api"])
    stamps = iter([datetime.utcnow().replace(microsecond=0) - timedelta(seconds=100)])
    real = tasks._lease_stamp
    monkeypatch.setattr(tasks, "_lease_stamp", lambda: next(stamps, None) or real())
    t = _Tasks(cells["api"])
    t._scheduler = _SlowScheduler(cells["api"], cells["cell1_uuid"], takeover)
    t._compute = _Compute()
    t._schedule_and_build(context.get_admin_context(), [inst.uuid])
    if takeover:  # left to the later attempt before any record was written
        assert t._compute.built == []
        with pytest.raises(exception.InstanceNotFound):
            inst_db.instance_get(cells["cell1"], inst.uuid)
        assert len(cells_db.build_request_list(cells["api"],
                                               instance_uuids=[inst.uuid])) == 1
    else:  # renewed, then handed over under the renewed lease
        assert t._compute.built == [inst.uuid]
        assert cells_db.build_request_list(cells["api"], instance_uuids=[inst.uuid]) == []
        assert cells_db.instance_mapping_get(
            cells["api"], inst.uuid)["cell"]["uuid"] == cells["cell1_uuid"]


def test_renewal_keeps_only_the_builds_still_held(cells: dict) -> None:
    mine, taken_over, deleted = (_record(cells["api"]) for _ in range(3))
    first = datetime.utcnow().replace(microsecond=0) - timedelta(seconds=100)
    uuids = [mine.uuid, taken_over.uuid, deleted.uuid]
    assert cells_db.build_request_lease(cells["api"], uuids, first, first) == uuids
    later = first + timedelta(seconds=50)
    assert cells_db.build_request_lease(cells["api"], [taken_over.uuid], later,
                                        later) == [taken_over.uuid]
    cells_db.build_request_delete(cells["api"], deleted.uuid)
    now = first + timedelta(seconds=100)
    assert cells_db.build_request_renew(cells["api"], uuids, first, now) == [mine.uuid]
    with pytest.raises(exception.ClaimSuperseded):
        cells_db.hand_over(cells["api"], mine.uuid, cells["cell1_uuid"], first)
    assert cells_db.hand_over(cells["api"], deleted.uuid, cells["cell1_uuid"], now) is False
    assert cells_db.hand_over(cells["api"], mine.uuid, cells["cell1_uuid"], now) is True


def test_a_late_attempt_never_moves_the_record_off_its_successors_host(
        cells: dict) -> None:
    """An attempt stalled past its renewed lease; a later attempt took the build over,
    wrote the record on its host h2 and claimed there. The late attempt, choosing h1,
    leaves the record on h2 and sends no build (the cell cannot check the API
    database's lease: the record's own scheduled_at decides)."""
    inst = _record(cells["api"])
    late = datetime.utcnow().replace(microsecond=0) - timedelta(seconds=300)
    successor = late + timedelta(seconds=200)
    assert cells_db.build_request_lease(cells["api"], [inst.uuid], successor,
                                        successor) == [inst.uuid]
    theirs = inst.obj_clone()
    theirs.host = theirs.node = "h2"
    inst_db.instance_create_with_action(cells["cell1"], theirs, "cell1", "req-successor",
                                        "u1", "p1", scheduled_at=successor)
    t = _Tasks(cells["api"])
    t._compute = _Compute()
    [sel] = _Scheduler(cells["cell1_uuid"], "nova").select_destinations(
        None, None, [inst.uuid])
    t._create_in_cell(context.get_admin_context(), inst, sel, late, [])
    stored = inst_db.instance_get(cells["cell1"], inst.uuid)
    assert (stored.host, stored.node) == ("h2", "h2")
    assert t._compute.built == []
    assert cells_db.instance_mapping_get(cells["api"], inst.uuid)["cell"] is None
    # The successor hands it over and builds it on h2 as it wrote it.
    assert cells_db.hand_over(cells["api"], inst.uuid, cells["cell1_uuid"],
                              successor) is True


@pytest.mark.parametrize("row_lease, task_state, moved", [
    (None, "scheduling", True),  # a record written before leases were kept
    (-60, "scheduling", True),  # an earlier attempt's
    (0, "scheduling", False),  # this attempt's own (a replayed write)
    (60, "scheduling", False),  # a later attempt's
    (-60, "spawning", False),  # handed over and at its host already
], ids=["no-lease", "earlier", "same", "later", "at-its-host"])
def test_only_an_earlier_attempts_record_takes_a_new_host(
        cells: dict, row_lease, task_state: str, moved: bool) -> None:
    now = datetime.utcnow().replace(microsecond=0)
    inst = new_instance(host="h0", node="h0", task_state=task_state, availability_zone="az0")
    inst_db.instance_create_with_action(
        cells["cell1"], inst, "cell1", "req-0", "u1", "p1",
        scheduled_at=None if row_lease is None else now + timedelta(seconds=row_lease))
    mine = inst.obj_clone()
    mine.host = mine.node = "h1"
    mine.availability_zone = "az1"
    got = inst_db.instance_create_with_action(cells["cell1"], mine, "cell1", "req-1", "u1",
                                              "p1", scheduled_at=now)
    stored = inst_db.instance_get(cells["cell1"], inst.uuid)
    expected = ("h1", "h1", "az1") if moved else ("h0", "h0", "az0")
    assert (got.host, got.node, got.availability_zone) == expected
    assert (stored.host, stored.node, stored.availability_zone) == expected


class _UnreachableCompute(_Compute):
    def build_and_run_instance(self, ctx, host, inst, block_device_mapping=None):
        raise rpc.MessageDeliveryFailure("the message bus went away")


def test_a_build_whose_cast_fails_after_its_hand_over_is_sent_again_not_buried(
        cells: dict) -> None:
    """The message bus went away between the hand-over and the cast: the server stays
    in its cell with its claim and mapping, and the periodic pass sends its build."""
    inst = _record(cells["api"])
    t = _Tasks(cells["api"])
    t._scheduler = _OvertakenScheduler(cells["api"], cells["cell1_uuid"], "chosen")
    t._scheduler.select_destinations = _claiming(t._scheduler)
    t._compute = _UnreachableCompute()
    t._schedule_and_build(context.get_admin_context(), [inst.uuid])
    assert inst_db.instance_get(cells["cell1"], inst.uuid).task_state == "scheduling"
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_get(cells["cell0"], inst.uuid)
    mapping = cells_db.instance_mapping_get(cells["api"], inst.uuid)
    assert mapping["cell"]["uuid"] == cells["cell1_uuid"]
    assert not mapping["queued_for_delete"]
    assert placement_db.consumers_on_provider(cells["api"], "h1") == [inst.uuid]
    # The next pass, once the build is older than the retry period, sends it.
    with db_engine.get_engine(cells["cell1"]).begin() as conn:
        conn.execute(sa.update(main_models.Instance).where(
            main_models.Instance.uuid == inst.uuid).values(
            created_at=datetime.utcnow() - timedelta(hours=1)))
    t._compute = _Compute()
    t.reconcile_build_requests()
    assert t._compute.built == [inst.uuid]


def _claiming(scheduler: _OvertakenScheduler):
    """select_destinations that claims on h1 under the attempt's lease, without a
    takeover."""

    def select(ctx, spec, uuids, build_lease=None):
        rp = placement_db.provider_ensure(scheduler.api_url, "h1", "h1", None, {
            "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}})
        placement_db.claim(scheduler.api_url, rp, uuids[0], {"VCPU": 1},
                           build_lease=build_lease)
        return _Scheduler(scheduler.cell_uuid).select_destinations(ctx, spec, uuids)

    return select
