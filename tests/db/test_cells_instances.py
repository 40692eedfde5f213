"""Cell mappings, build requests, instances, actions, services and host discovery."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest
import sqlalchemy as sa

from nova_lite import exception
from nova_lite.db import api_models, bootstrap, discovery
from nova_lite.db import cells as cells_db
from nova_lite.db import engine as db_engine
from nova_lite.db import instances as inst_db
from nova_lite.db import main_models
from nova_lite.db import services as svc_db
from nova_lite.objects.flavor import Flavor
from nova_lite.objects.instance import Instance

FLAVOR = dict(id=1, flavorid="42", name="m1.nano", memory_mb=128, vcpus=1, root_gb=1,
              ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True, disabled=False,
              description=None, extra_specs={})


def new_instance(project: str = "p1", **values: object) -> Instance:
    inst = Instance(uuid=str(uuid.uuid4()), project_id=project, user_id="u1",
                    display_name="vm", flavor=Flavor(**FLAVOR), vcpus=1, memory_mb=128,
                    root_gb=1, vm_state="building", task_state="scheduling", power_state=0,
                    metadata={"k": "v"})
    for k, v in values.items():
        setattr(inst, k, v)
    return inst



def create_instance(cell_url: str, inst: Instance, cell_name: Optional[str] = "cell1",
                    request_id: str = "req-test") -> Instance:
    """``inst`` written in its cell as the conductor writes a new server, with its
    create action."""
    return inst_db.instance_create_with_action(cell_url, inst, cell_name, request_id,
                                               inst.user_id, inst.project_id)


def map_to_cell(api_url: str, instance_uuid: str, cell_uuid: str) -> None:
    """Point a server's mapping at a cell, whatever its build request (a test's
    shortcut past the build)."""
    with db_engine.get_engine(api_url).begin() as conn:
        conn.execute(sa.update(api_models.InstanceMapping).where(
            api_models.InstanceMapping.instance_uuid == instance_uuid).values(
            cell_id=sa.select(api_models.CellMapping.id).where(
                api_models.CellMapping.uuid == cell_uuid).scalar_subquery()))


def node_values(hypervisor_hostname: str, **over: object) -> dict:
    values = dict(hypervisor_hostname=hypervisor_hostname, hypervisor_type="fake",
                  hypervisor_version=1, cpu_info="{}", host_ip="192.0.2.1", vcpus=8,
                  memory_mb=16384, local_gb=200, vcpus_used=0, memory_mb_used=0,
                  local_gb_used=0, running_vms=0)
    values.update(over)
    return values


# -- cells and mappings (API database) -----------------------------------------------------

def test_cell_create_list_and_map_cell0(api_url: str, cell_url: str) -> None:
    assert cells_db.cell_list(api_url) == []
    assert bootstrap.map_cell0(api_url, "sqlite:///cell0.db") is True
    assert bootstrap.map_cell0(api_url, "sqlite:///other.db") is False
    cell1 = cells_db.cell_create(api_url, "cell1", "rabbit://h/", cell_url)
    cells = cells_db.cell_list(api_url)
    assert [c["name"] for c in cells] == ["cell0", "cell1"]
    assert cells[0]["uuid"] == cells_db.CELL0_UUID
    assert cells[0]["database_connection"] == "sqlite:///cell0.db"
    assert cells[1] == cell1 and cell1["disabled"] is False
    assert bootstrap.find_cell(api_url, "rabbit://h/", cell_url) == cell1
    assert bootstrap.find_cell(api_url, "rabbit://other/", cell_url) is None


def test_build_request_lifecycle(api_url: str) -> None:
    a, b = new_instance("p1"), new_instance("p2")
    for inst in (a, b):
        cells_db.build_request_create(api_url, inst.uuid, inst.project_id, inst.user_id,
                                      inst.obj_to_primitive(),
                                      {"instance_uuid": inst.uuid, "num_instances": 1})
    all_brs = cells_db.build_request_list(api_url)
    assert {br["instance_uuid"] for br in all_brs} == {a.uuid, b.uuid}
    [br] = cells_db.build_request_list(api_url, project_id="p2")
    assert br["instance_uuid"] == b.uuid
    assert Instance.obj_from_primitive(br["instance"]).display_name == "vm"
    assert [r["instance_uuid"] for r in
            cells_db.build_request_list(api_url, instance_uuids=[a.uuid])] == [a.uuid]
    assert cells_db.build_request_list(api_url, instance_uuids=[]) == []
    assert cells_db.request_spec_get(api_url, a.uuid)["instance_uuid"] == a.uuid

    mapping = cells_db.instance_mapping_get(api_url, a.uuid)
    assert mapping.pop("created_at") is not None
    assert mapping == {"instance_uuid": a.uuid, "project_id": "p1", "user_id": "u1",
                       "queued_for_delete": False, "cell": None}

    future = datetime.utcnow() + timedelta(minutes=5)
    assert set(cells_db.build_request_older_than(api_url, future)) == {a.uuid, b.uuid}
    assert cells_db.build_request_older_than(api_url, future - timedelta(hours=1)) == []

    assert cells_db.build_request_delete(api_url, a.uuid) is True
    assert cells_db.build_request_delete(api_url, a.uuid) is False  # already gone
    cells_db.instance_mapping_destroy(api_url, a.uuid)
    with pytest.raises(exception.InstanceNotFound):
        cells_db.instance_mapping_get(api_url, a.uuid)
    with pytest.raises(exception.InstanceNotFound):
        cells_db.request_spec_get(api_url, a.uuid)
    assert [r["instance_uuid"] for r in cells_db.build_request_list(api_url)] == [b.uuid]


def test_instance_mapping_names_its_cell_and_is_queued_for_delete(api_url: str,
                                                                  cell_url: str) -> None:
    cell = cells_db.cell_create(api_url, "cell1", "rabbit://h/", cell_url)
    inst = new_instance()
    cells_db.build_request_create(api_url, inst.uuid, "p1", "u1", inst.obj_to_primitive(), {})
    map_to_cell(api_url, inst.uuid, cell["uuid"])
    mapping = cells_db.instance_mapping_get(api_url, inst.uuid)
    assert mapping["cell"] == cell and mapping["queued_for_delete"] is False
    cells_db.instance_mapping_queue_delete(api_url, inst.uuid)
    assert cells_db.instance_mapping_get(api_url, inst.uuid)["queued_for_delete"] is True
    with pytest.raises(exception.InstanceNotFound):
        cells_db.instance_mapping_get(api_url, str(uuid.uuid4()))



def test_whereabouts_of_a_server_building_then_in_its_cell(api_url: str,
                                                           cell_url: str) -> None:
    """One read says where a server is: its build request's instance while it has no
    cell, its cell once handed over, 404 once deleted or never mapped."""
    from nova_lite.conductor.cells import CellDirectory

    cell = cells_db.cell_create(api_url, "cell1", "rabbit://h/", cell_url)
    inst = new_instance(display_name="building")
    cells_db.build_request_create(api_url, inst.uuid, "p1", "u1", inst.obj_to_primitive(), {})
    queued, where, building = cells_db.instance_whereabouts(api_url, inst.uuid)
    assert (queued, where) == (False, None)
    assert Instance.obj_from_primitive(building).display_name == "building"
    cells = CellDirectory(api_url, None)
    got_cell, got = cells.instance_cell_or_request(inst.uuid)
    assert got_cell is None and (got.uuid, got.display_name) == (inst.uuid, "building")

    assert cells_db.hand_over(api_url, inst.uuid, cell["uuid"]) is True
    assert cells_db.instance_whereabouts(api_url, inst.uuid) == (False, cell, None)
    assert cells.instance_cell_or_request(inst.uuid) == (cell, None)
    assert CellDirectory(api_url, None).instance_cell_or_request(inst.uuid) == (cell, None)

    cells_db.instance_mapping_queue_delete(api_url, inst.uuid)
    assert cells_db.instance_whereabouts(api_url, inst.uuid)[0] is True
    with pytest.raises(exception.InstanceNotFound):
        CellDirectory(api_url, None).instance_cell_or_request(inst.uuid)
    # A build request deleted with its server, its mapping not yet: gone as well.
    other = new_instance()
    cells_db.build_request_create(api_url, other.uuid, "p1", "u1", other.obj_to_primitive(),
                                  {})
    assert cells_db.build_request_delete(api_url, other.uuid) is True
    with pytest.raises(exception.InstanceNotFound):
        cells.instance_cell_or_request(other.uuid)
    with pytest.raises(exception.InstanceNotFound):
        cells_db.instance_whereabouts(api_url, str(uuid.uuid4()))


def test_host_mapping_create_is_idempotent(api_url: str, cell_url: str) -> None:
    cell = cells_db.cell_create(api_url, "cell1", "rabbit://h/", cell_url)
    assert cells_db.host_mapping_create(api_url, "c1", cell["uuid"]) is True
    assert cells_db.host_mapping_create(api_url, "c1", cell["uuid"]) is False
    assert cells_db.host_mapping_list(api_url) == [
        {"host": "c1", "cell_uuid": cell["uuid"], "cell_name": "cell1"}]


# -- instances (cell database) -------------------------------------------------------------

def test_instance_create_get_roundtrip(cell_url: str) -> None:
    inst = new_instance(display_description="d", hostname="vm-1", image_ref="img")
    created = create_instance(cell_url, inst, "cell1")
    assert created.id and created.cell_name == "cell1"
    got = inst_db.instance_get(cell_url, inst.uuid, "cell1")
    assert (got.uuid, got.project_id, got.vm_state, got.task_state) == (
        inst.uuid, "p1", "building", "scheduling")
    assert got.flavor.name == "m1.nano" and got.flavor.vcpus == 1
    assert got.metadata == {"k": "v"}
    assert got.deleted is False and got.fault is None and got.locked is False
    assert got.created_at is not None and got.created_at.tzinfo is not None
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_get(cell_url, str(uuid.uuid4()))


def test_build_keeps_the_system_metadata_recorded_at_boot(cell_url: str) -> None:
    inst = new_instance(system_metadata={"image_os_distro": "debian",
                                         "image_base_image_ref": "img"})
    inst_db.instance_create_with_action(cell_url, inst, "cell1", "req-1", "u1", "p1")
    got = inst_db.instance_get(cell_url, inst.uuid, "cell1")
    assert got.system_metadata == {"image_os_distro": "debian",
                                   "image_base_image_ref": "img"}


def test_instance_create_accepts_aware_datetimes(cell_url: str) -> None:
    """Instance objects carry timezone-aware datetimes; both backends must store them."""
    launched = datetime(2024, 5, 1, 12, 30, 15, tzinfo=timezone.utc)
    inst = new_instance(vm_state="active", task_state=None, launched_at=launched,
                        created_at=launched)
    create_instance(cell_url, inst, None)
    got = inst_db.instance_get(cell_url, inst.uuid)
    assert got.launched_at == launched and got.created_at == launched


def test_instance_update_with_expected_task_state(cell_url: str) -> None:
    inst = new_instance()
    create_instance(cell_url, inst, None)
    out = inst_db.instance_update(cell_url, inst.uuid, {"task_state": "spawning"},
                                  expected_task_state=["scheduling", None])
    assert out.task_state == "spawning"
    with pytest.raises(exception.InstanceInvalidState) as err:
        inst_db.instance_update(cell_url, inst.uuid, {"task_state": "spawning"},
                                expected_task_state="scheduling")
    assert err.value.code == 409
    assert "task_state spawning" in err.value.format_message()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    out = inst_db.instance_update(
        cell_url, inst.uuid, {"vm_state": "active", "task_state": None, "power_state": 1,
                              "launched_at": now, "metadata": {"a": "b"},
                              "not_a_column": 1},
        expected_task_state="spawning", cell_name="cell1")
    assert (out.vm_state, out.task_state, out.power_state) == ("active", None, 1)
    assert out.cell_name == "cell1" and out.metadata == {"a": "b"}
    assert out.launched_at == now
    out = inst_db.instance_update(cell_url, inst.uuid, {"task_state": "powering-off"},
                                  expected_task_state=None)
    assert out.task_state == "powering-off"
    # No guard: any task_state is overwritten.
    assert inst_db.instance_update(cell_url, inst.uuid, {"task_state": None}).task_state is None
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_update(cell_url, str(uuid.uuid4()), {"task_state": None})


def test_soft_delete_hides_instance(cell_url: str) -> None:
    keep, gone = new_instance(), new_instance()
    for inst in (keep, gone):
        create_instance(cell_url, inst, None)
    assert inst_db.instance_destroy(cell_url, gone.uuid) is True
    assert inst_db.instance_destroy(cell_url, gone.uuid) is False
    assert [i.uuid for i in inst_db.instance_list(cell_url, None)] == [keep.uuid]
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_get(cell_url, gone.uuid)
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_update(cell_url, gone.uuid, {"task_state": None})
    dead = inst_db.instance_get(cell_url, gone.uuid, read_deleted=True)
    assert dead.deleted is True and dead.vm_state == "deleted" and dead.task_state is None
    assert dead.deleted_at is not None and dead.terminated_at is not None
    listed = inst_db.instance_list(cell_url, None, filters={"deleted": True})
    assert {i.uuid for i in listed} == {keep.uuid, gone.uuid}


def test_instance_list_filters_and_order(cell_url: str) -> None:
    base = datetime(2024, 1, 1)
    a = new_instance("p1", host="h1", vm_state="active", task_state=None, image_ref="i1",
                     created_at=base)
    b = new_instance("p1", host="h2", vm_state="error", task_state=None, image_ref="i2",
                     created_at=base + timedelta(minutes=1))
    c = new_instance("p2", host="h1", vm_state="active", task_state=None, image_ref="i1",
                     created_at=base + timedelta(minutes=2))
    for inst in (a, b, c):
        create_instance(cell_url, inst, None)

    def uuids(project: str | None = None, **filters: object) -> list[str]:
        return [i.uuid for i in inst_db.instance_list(cell_url, None, project, filters)]

    assert uuids() == [c.uuid, b.uuid, a.uuid]  # newest first
    assert uuids("p1") == [b.uuid, a.uuid]
    assert uuids(host="h1") == [c.uuid, a.uuid]
    assert uuids(vm_state=["error"]) == [b.uuid]
    assert uuids(uuids=[a.uuid, c.uuid]) == [c.uuid, a.uuid]
    assert uuids(uuids=[]) == []
    assert uuids(image="i2") == [b.uuid]
    assert uuids(flavor_id="42") == [c.uuid, b.uuid, a.uuid]
    assert uuids(flavor_id="1") == []
    assert uuids(limit=2) == [c.uuid, b.uuid]


def test_latest_fault_is_attached(cell_url: str) -> None:
    bad, fine = new_instance(vm_state="error", task_state=None), new_instance()
    for inst in (bad, fine):
        create_instance(cell_url, inst, None)
    inst_db.fault_create(cell_url, bad.uuid, 500, "first", None, None)
    inst_db.fault_create(cell_url, bad.uuid, 500, "No valid host was found. " + "x" * 2000,
                         "trace", "c1")
    inst_db.fault_create(cell_url, fine.uuid, 409, "old trouble", None, None)
    fault = inst_db.instance_get(cell_url, bad.uuid).fault
    assert fault.code == 500 and fault.host == "c1" and fault.details == "trace"
    assert fault.message.startswith("No valid host") and len(fault.message) == 1024
    listed = {i.uuid: i for i in inst_db.instance_list(cell_url, None)}
    assert listed[bad.uuid].fault.message == fault.message
    assert listed[fine.uuid].fault is None  # faults only for servers in ERROR (or DELETED),
    assert inst_db.instance_get(cell_url, fine.uuid).fault is None  # as the API shows them


def test_instance_actions_and_events(cell_url: str) -> None:
    inst = new_instance()
    create_instance(cell_url, inst, None, request_id="req-1")
    inst_db.action_event(cell_url, inst.uuid, "req-1", "build", "start", "c1")
    inst_db.action_event(cell_url, inst.uuid, "req-1", "build", "finish", "c1", "Success")
    inst_db.action_finish(cell_url, inst.uuid, "req-1")
    inst_db.action_start(cell_url, inst.uuid, "stop", "req-2", "u1", "p1")
    # A finish with no start still records the event, and an error marks the action.
    inst_db.action_event(cell_url, inst.uuid, "req-2", "stop", "finish", "c1", "Error", "tb")
    inst_db.action_event(cell_url, inst.uuid, "req-none", "x", "start", "c1")  # ignored

    actions = inst_db.action_list(cell_url, inst.uuid)
    assert [a.action for a in actions] == ["stop", "create"]  # newest first
    assert actions[0].message == "Error" and actions[1].message is None
    assert actions[1].finish_time is not None and actions[0].finish_time is None
    assert actions[0].events == []  # not asked for

    [create] = inst_db.action_list(cell_url, inst.uuid, with_events=True,
                                   request_id="req-1")
    [ev] = create.events
    assert (ev.event, ev.result, ev.host) == ("build", "Success", "c1")
    assert ev.start_time is not None and ev.finish_time is not None
    [stop] = inst_db.action_list(cell_url, inst.uuid, with_events=True, request_id="req-2")
    assert [(e.event, e.result, e.traceback) for e in stop.events] == [("stop", "Error", "tb")]
    assert inst_db.action_list(cell_url, str(uuid.uuid4())) == []


# -- services and compute nodes ------------------------------------------------------------

def _age_service(url: str, service_id: int, seconds: int) -> None:
    with db_engine.session_scope(url) as s:
        s.execute(sa.update(main_models.Service).where(main_models.Service.id == service_id)
                  .values(last_seen_up=datetime.utcnow() - timedelta(seconds=seconds)))


def test_service_heartbeat_and_up_down_by_age(cell_url: str) -> None:
    sid = svc_db.service_heartbeat(cell_url, "c1", "nova-compute", "compute")
    assert svc_db.service_heartbeat(cell_url, "c1", "nova-compute", "compute") == sid
    other = svc_db.service_heartbeat(cell_url, "c1", "nova-conductor", "conductor")
    assert other != sid
    [svc] = svc_db.service_list(cell_url, 60, "cell1", binary="nova-compute")
    assert (svc.id, svc.host, svc.report_count, svc.is_up, svc.cell_name) == (
        sid, "c1", 2, True, "cell1")
    assert len(svc_db.service_list(cell_url, 60, None, host="c1")) == 2
    assert svc_db.service_list(cell_url, 60, None, host="c2") == []

    _age_service(cell_url, sid, 120)
    assert svc_db.service_list(cell_url, 60, None, binary="nova-compute")[0].is_up is False
    assert svc_db.service_list(cell_url, 300, None, binary="nova-compute")[0].is_up is True
    svc_db.service_heartbeat(cell_url, "c1", "nova-compute", "compute")
    assert svc_db.service_list(cell_url, 60, None, binary="nova-compute")[0].is_up is True
    assert svc_db.service_get(cell_url, sid).host == "c1"
    with pytest.raises(exception.ServiceNotFound):
        svc_db.service_get(cell_url, sid + 1000)


def test_is_up() -> None:
    now = datetime.utcnow()
    assert svc_db.is_up(now - timedelta(seconds=10), False, 60) is True
    assert svc_db.is_up(now - timedelta(seconds=61), False, 60) is False
    assert svc_db.is_up(now, True, 60) is False  # forced down
    assert svc_db.is_up(None, False, 60) is False


def test_compute_node_upsert(cell_url: str) -> None:
    sid = svc_db.service_heartbeat(cell_url, "c1", "nova-compute", "compute")
    first = svc_db.compute_node_update(cell_url, "c1", sid, node_values("c1.example"))
    assert first["mapped"] == 0
    again = svc_db.compute_node_update(cell_url, "c1", sid,
                                       node_values("c1.example", vcpus_used=2, running_vms=1))
    assert again["uuid"] == first["uuid"] and again["id"] == first["id"]
    svc_db.compute_node_update(cell_url, "c2", None, node_values("c2.example"))
    nodes = {n.hypervisor_hostname: n for n in svc_db.compute_node_list(cell_url, 60, "cell1")}
    assert set(nodes) == {"c1.example", "c2.example"}
    c1 = nodes["c1.example"]
    assert (c1.uuid, c1.vcpus_used, c1.running_vms, c1.service_id) == (
        first["uuid"], 2, 1, sid)
    assert c1.service_up is True and c1.service_disabled is False and c1.cell_name == "cell1"
    assert nodes["c2.example"].service_up is False  # no service record
    assert sorted(svc_db.unmapped_compute_hosts(cell_url)) == ["c1", "c2"]
    svc_db.mark_compute_hosts_mapped(cell_url, ["c1"])
    assert svc_db.unmapped_compute_hosts(cell_url) == ["c2"]
    assert svc_db.compute_node_update(cell_url, "c1", sid, node_values("c1.example"))["mapped"]


def test_discover_hosts_maps_each_cell_once(api_url: str, migrated_db) -> None:
    cell1_url, cell2_url, cell0_url = migrated_db("main"), migrated_db("main"), migrated_db(
        "main")
    bootstrap.map_cell0(api_url, cell0_url)
    cell1 = cells_db.cell_create(api_url, "cell1", "rabbit://h/", cell1_url)
    cell2 = cells_db.cell_create(api_url, None, "rabbit://h/", cell2_url)
    for host, url in (("c1", cell1_url), ("c2", cell1_url), ("c3", cell2_url)):
        svc_db.compute_node_update(url, host, None, node_values(f"{host}.example"))
    # A compute node in cell0's database is never looked at.
    svc_db.compute_node_update(cell0_url, "ghost", None, node_values("ghost"))

    found = discovery.discover_hosts(api_url)
    assert sorted(found) == [("c1", "cell1"), ("c2", "cell1"), ("c3", cell2["uuid"])]
    mappings = {m["host"]: m["cell_uuid"] for m in cells_db.host_mapping_list(api_url)}
    assert mappings == {"c1": cell1["uuid"], "c2": cell1["uuid"], "c3": cell2["uuid"]}
    assert svc_db.unmapped_compute_hosts(cell1_url) == []
    assert discovery.discover_hosts(api_url) == []  # idempotent

    svc_db.compute_node_update(cell1_url, "c4", None, node_values("c4.example"))
    assert discovery.discover_hosts(api_url) == [("c4", "cell1")]


# -- bootstrap helpers ---------------------------------------------------------------------

@pytest.mark.parametrize("main,cell0", [
    ("mysql+pymysql://nova:s3cret@db/nova?charset=utf8mb4",
     "mysql+pymysql://nova:s3cret@db/nova_cell0?charset=utf8mb4"),
    ("sqlite:////var/lib/nova-lite/nova.db", "sqlite:////var/lib/nova-lite/nova_cell0.db"),
    ("sqlite:////srv/nova.d/nova", "sqlite:////srv/nova.d/nova_cell0"),
    ("sqlite:////srv/nova.d/nova.sqlite", "sqlite:////srv/nova.d/nova_cell0.sqlite"),
])
def test_cell0_url_from(main: str, cell0: str) -> None:
    assert bootstrap.cell0_url_from(main) == cell0


def test_expected_task_state_guard_lets_one_racer_win(cell_url: str, monkeypatch) -> None:
    """Requests racing to start an action: exactly one may set its task_state."""
    import threading
    import time

    get_row = inst_db._get_row

    def slow_get_row(*args: object, **kwargs: object) -> object:
        row = get_row(*args, **kwargs)
        time.sleep(0.02)  # widen the window between the guard's read and the write
        return row

    monkeypatch.setattr(inst_db, "_get_row", slow_get_row)
    inst = new_instance(vm_state="active", task_state=None)
    create_instance(cell_url, inst, None)
    barrier = threading.Barrier(12)
    won: list[str] = []
    lost: list[Exception] = []

    def race(i: int) -> None:
        barrier.wait()
        try:
            inst_db.instance_update(cell_url, inst.uuid, {"task_state": f"task-{i}"},
                                    expected_task_state=[None])
            won.append(f"task-{i}")
        except Exception as err:  # checked below
            lost.append(err)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1, won
    assert all(isinstance(e, exception.InstanceInvalidState) for e in lost), lost
    assert inst_db.instance_get(cell_url, inst.uuid).task_state == won[0]
