"""Cold migration in the conductor on real databases: the source claim passes to the
migration and the destination claim (never the source host) to the server before the
source host is told; a named host is checked first; no valid host answers at once and
leaves the server as it was with its claim; a conductor that dies while scheduling
leaves a move its restart settles; operator searches over the records."""

from __future__ import annotations

import uuid

import pytest

from nova_lite import context, exception
from nova_lite.compute import states
from nova_lite.conductor import tasks
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.cold_migrate import ColdMigrateMixin
from nova_lite.conductor.migrations import MigrationsMixin
from nova_lite.conductor.resize import ResizeMixin
from nova_lite.db import cells as cells_db
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import services as svc_db
from nova_lite.objects.request_spec import RequestSpec, Selection
from tests.db.test_cells_instances import create_instance, map_to_cell, new_instance, node_values

HOSTS = ("h1", "h2", "h3")


class _Scheduler:
    def __init__(self, cell_uuid: str, api_url: str) -> None:
        self.cell_uuid, self.api_url = cell_uuid, api_url
        self.specs: list[RequestSpec] = []
        self.full = False

    def select_destinations(self, ctx, spec, uuids):
        self.specs.append(spec)
        hosts = [h for h in (spec.force_hosts or HOSTS) if h not in spec.ignore_hosts]
        if self.full or not hosts:
            raise exception.NoValidHost(reason="3 host(s) considered, 3 rejected.")
        rp = _provider(self.api_url, self.cell_uuid, hosts[0])
        placement_db.claim(self.api_url, rp, uuids[0], {"VCPU": spec.flavor.vcpus})
        return [Selection(instance_uuid=uuids[0], host=hosts[0], nodename=hosts[0],
                          provider_uuid=rp, cell_uuid=self.cell_uuid)]


class _Compute:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def resize_instance(self, ctx, host, inst, mig):
        self.sent.append((host, inst.uuid, mig.uuid))


class _Conductor(tasks.TaskMixin, MigrationsMixin, ResizeMixin, ColdMigrateMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)
        tasks.TaskMixin.__init__(self)


def _provider(api_url: str, cell_uuid: str, host: str) -> str:
    return placement_db.provider_ensure(api_url, host, host, cell_uuid, {
        "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}})


@pytest.fixture
def env(api_url: str, mapped_cells: dict) -> dict:
    cell1 = mapped_cells["cell1"]
    for host in HOSTS:
        sid = svc_db.service_heartbeat(cell1, host, "nova-compute", "compute")
        svc_db.compute_node_update(cell1, host, sid, node_values(host))
    cond = _Conductor(api_url)
    cond._scheduler = _Scheduler(mapped_cells["cell1_uuid"], api_url)
    cond._compute = _Compute()
    return {"api": api_url, "cell1": cell1, "cell1_uuid": mapped_cells["cell1_uuid"], "cond": cond}


def _server(env: dict, vm_state: str = states.ACTIVE, host: str = "h1"):
    inst = new_instance(vm_state=vm_state, task_state=None, host=host, node=host)
    create_instance(env["cell1"], inst, "cell1")
    spec = RequestSpec(instance_uuid=inst.uuid, project_id="p1", user_id="u1",
                       flavor=inst.flavor, image_id=None, availability_zone=None,
                       num_instances=1, ignore_hosts=[], force_hosts=[host])
    cells_db.build_request_create(env["api"], inst.uuid, "p1", "u1", inst.obj_to_primitive(),
                                  spec.obj_to_primitive())
    cells_db.build_request_delete(env["api"], inst.uuid)
    map_to_cell(env["api"], inst.uuid, env["cell1_uuid"])
    placement_db.claim(env["api"], _provider(env["api"], env["cell1_uuid"], host),
                       inst.uuid, {"VCPU": 1})
    return inst


def _ctx():
    return context.RequestContext(user_id="admin", project_id="admin", is_admin=True)


def _holders(env: dict, host: str) -> list[str]:
    return sorted(placement_db.consumers_on_provider(env["api"], host))


def test_migrate_moves_claims_then_tells_the_source(env, backend):
    cond = env["cond"]
    inst = _server(env)
    got = cond.server_action(_ctx(), inst.uuid, "migrate", {"host": None})
    assert got.task_state == states.RESIZE_PREP and got.host == "h1"
    assert got.old_flavor.flavorid == got.new_flavor.flavorid == inst.flavor.flavorid
    spec = cond._scheduler.specs[-1]
    assert spec.ignore_hosts == ["h1"] and spec.force_hosts == []  # not the create's
    (mig,) = mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid)
    assert (mig.migration_type, mig.status, mig.source_compute, mig.dest_compute) == (
        "migration", "pre-migrating", "h1", "h2")
    assert mig.old_instance_type_id == mig.new_instance_type_id == inst.flavor.id
    assert mig.dest_host == "192.0.2.1"
    assert _holders(env, "h1") == [mig.uuid] and _holders(env, "h2") == [inst.uuid]
    assert cond._compute.sent == [("h1", inst.uuid, mig.uuid)]
    action, created = inst_db.action_list(env["cell1"], inst.uuid, with_events=True)
    assert created.action == "create"  # newest first
    assert action.action == "migrate"
    assert [(e.event, e.result) for e in action.events] == [
        ("conductor_migrate_server", "Success")]


def test_named_host_is_the_only_candidate(env, backend):
    cond = env["cond"]
    inst = _server(env)
    cond.server_action(_ctx(), inst.uuid, "migrate", {"host": "h3"})
    assert cond._scheduler.specs[-1].force_hosts == ["h3"]
    assert _holders(env, "h3") == [inst.uuid]


@pytest.mark.parametrize("host,error", [("h1", exception.CannotMigrateToSameHost),
                                        ("h9", exception.ComputeHostNotFound)])
def test_named_host_checked_before_anything_changes(env, backend, host, error):
    cond = env["cond"]
    inst = _server(env)
    with pytest.raises(error):
        cond.server_action(_ctx(), inst.uuid, "migrate", {"host": host})
    assert mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid) == []
    assert inst_db.instance_get(env["cell1"], inst.uuid, "cell1").task_state is None
    assert cond._scheduler.specs == [] and _holders(env, "h1") == [inst.uuid]


def test_no_valid_host_leaves_the_server_as_it_was(env, backend):
    cond = env["cond"]
    inst = _server(env, vm_state=states.STOPPED)
    cond._scheduler.full = True
    with pytest.raises(exception.NoValidHost):
        cond.server_action(_ctx(), inst.uuid, "migrate", {"host": None})
    got = inst_db.instance_get(env["cell1"], inst.uuid, "cell1")
    assert (got.vm_state, got.task_state, got.host) == (states.STOPPED, None, "h1")
    assert got.get("old_flavor") is None
    assert "old_vm_state" not in (got.get("system_metadata") or {})
    (mig,) = mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid)
    assert mig.status == "error"
    assert _holders(env, "h1") == [inst.uuid] and cond._compute.sent == []
    action, created = inst_db.action_list(env["cell1"], inst.uuid, with_events=True)
    assert created.action == "create"  # newest first
    assert [(e.event, e.result) for e in action.events] == [
        ("conductor_migrate_server", "Error")]
    assert "No valid host" in action.events[0].traceback


def test_source_host_down_is_refused_before_anything_changes(env, backend):
    inst = _server(env, host="h4")  # no nova-compute service reports from h4
    with pytest.raises(exception.SourceHostUnavailable) as err:
        env["cond"].server_action(_ctx(), inst.uuid, "migrate", {"host": None})
    assert err.value.code == 409
    assert err.value.format_message() == "Service is unavailable at this time."
    assert mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid) == []
    assert inst_db.instance_get(env["cell1"], inst.uuid, "cell1").task_state is None
    assert _holders(env, "h4") == [inst.uuid]


@pytest.mark.parametrize("vm_state", [states.PAUSED, states.RESIZED, states.ERROR])
def test_wrong_state_refused(env, backend, vm_state):
    inst = _server(env, vm_state=vm_state)
    with pytest.raises(exception.InstanceInvalidState):
        env["cond"].server_action(_ctx(), inst.uuid, "migrate", {"host": None})
    assert mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid) == []


def test_operator_search_filters_and_pages(env, backend):
    cond = env["cond"]
    a, b = _server(env), _server(env, host="h2")
    cond.server_action(_ctx(), a.uuid, "migrate", {"host": "h3"})
    cond.server_action(_ctx(), b.uuid, "migrate", {"host": "h1"})
    found = cond.migration_search(_ctx(), {})
    assert [m.instance_uuid for m in found] == [b.uuid, a.uuid]
    assert [m.instance_uuid for m in cond.migration_search(
        _ctx(), {"source_compute": "h1"})] == [a.uuid]
    assert [m.instance_uuid for m in cond.migration_search(
        _ctx(), {"host": "h1", "status": ["pre-migrating"]})] == [b.uuid, a.uuid]
    assert cond.migration_search(_ctx(), {"migration_type": "resize"}) == []
    page = cond.migration_search(_ctx(), {}, limit=1, marker=found[0].uuid)
    assert [m.uuid for m in page] == [found[1].uuid]
    assert cond.migration_search(_ctx(), {"changes_since": "2999-01-01T00:00:00+00:00"}) == []
    assert len(cond.migration_search(_ctx(), {"changes_before": "2999-01-01T00:00:00Z"})) == 2
    with pytest.raises(exception.MarkerNotFound):
        cond.migration_search(_ctx(), {}, marker=str(uuid.uuid4()))
    with pytest.raises(exception.Invalid):
        cond.migration_search(_ctx(), {"flavor": "x"})


def test_a_refused_request_leaves_no_visible_record(env, backend):
    """Two migrate requests race: the second finds the server busy (409) and its
    record, made first, is hidden from operators."""
    cond = env["cond"]
    inst = _server(env)
    stale = inst_db.instance_get(env["cell1"], inst.uuid, "cell1")
    cond.server_action(_ctx(), inst.uuid, "migrate", {"host": None})
    t = states.get("migrate")
    with pytest.raises(exception.InstanceInvalidState):
        cond._start_migrate(_ctx(), cond.cells.instance_cell(inst.uuid), stale, t,
                            {"host": None})
    assert len(mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid)) == 2
    [shown] = cond.migration_search(_ctx(), {"instance_uuid": inst.uuid})
    assert shown.status == "pre-migrating" and shown.dest_compute == "h2"


class _Crash(BaseException):
    """The conductor process dying mid-call (nothing of it catches this)."""


def test_conductor_crash_while_scheduling_is_settled_at_restart(env, backend):
    import datetime

    import sqlalchemy as sa

    from nova_lite.db import engine as db_engine
    from nova_lite.db import main_models as m

    cond = env["cond"]
    inst = _server(env, vm_state=states.STOPPED)

    def crash(ctx, spec, uuids):
        raise _Crash()

    cond._scheduler.select_destinations = crash
    with pytest.raises(_Crash):
        cond.server_action(_ctx(), inst.uuid, "migrate", {"host": None})
    (mig,) = mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid)
    assert mig.status == "pre-migrating" and _holders(env, "h1") == [mig.uuid]
    assert cond.reconcile_moves() == 0  # too recent: maybe still being scheduled
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    with db_engine.get_engine(env["cell1"]).begin() as conn:
        conn.execute(sa.update(m.Migration).where(m.Migration.uuid == mig.uuid)
                     .values(updated_at=old, created_at=old))
    assert cond.reconcile_moves() == 1
    got = inst_db.instance_get(env["cell1"], inst.uuid, "cell1")
    assert (got.vm_state, got.task_state, got.host) == (states.STOPPED, None, "h1")
    assert mig_db.migration_get(env["cell1"], mig.uuid).status == "error"
    assert _holders(env, "h1") == [inst.uuid] and cond._compute.sent == []
