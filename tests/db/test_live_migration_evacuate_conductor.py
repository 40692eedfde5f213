"""Live migration and evacuation in the conductor on real databases: the source claim
passes to the migration and the destination claim to the server before the source (or
destination) host is told; a named host is checked first; no valid host leaves the
server where it was with its claim; abort of a queued migration and force complete's
checks; evacuation only from a host whose compute is down; a deleted server's 'done'
evacuation frees the dead host's claim; a conductor restart settles unscheduled moves."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor import tasks
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.evacuate import EvacuateMixin
from nova_lite.conductor.live_migration import LiveMigrationMixin
from nova_lite.conductor.migrations import MigrationsMixin
from nova_lite.conf import CONF
from nova_lite.db import engine as db_engine
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import main_models as m
from nova_lite.db import services as svc_db
from tests.db.test_cells_instances import node_values
from tests.db.test_cold_migrate_conductor import (HOSTS, _ctx, _holders, _Scheduler,
                                                  _server)


class _Compute:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def live_migration(self, ctx, host, inst, mig, block_migration):
        self.sent.append(("live_migration", host, mig.uuid, block_migration))

    def live_migration_abort(self, ctx, host, inst, mig):
        self.sent.append(("live_migration_abort", host, mig.uuid))

    def live_migration_force_complete(self, ctx, host, inst, mig):
        self.sent.append(("live_migration_force_complete", host, mig.uuid))

    def evacuate_instance(self, ctx, host, inst, mig, target_state, admin_password=None):
        self.sent.append(("evacuate_instance", host, mig.uuid, target_state))


class _Conductor(tasks.TaskMixin, MigrationsMixin, LiveMigrationMixin, EvacuateMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)
        tasks.TaskMixin.__init__(self)

    def finish_background(self) -> None:
        self._build_pool.shutdown(wait=True)


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


def _get(env: dict, uuid_: str):
    return inst_db.instance_get(env["cell1"], uuid_, "cell1")


def _move(env: dict, uuid_: str):
    (mig,) = mig_db.migration_list(env["cell1"], instance_uuid=uuid_)
    return mig


def _force_down(env: dict, host: str) -> None:
    (svc,) = svc_db.service_list(env["cell1"], CONF.service_down_time, "cell1",
                                 "nova-compute", host)
    svc_db.service_update(env["cell1"], CONF.service_down_time, "cell1", svc.id,
                          {"forced_down": True})


# -- live migration ----------------------------------------------------------------------

def test_live_migration_claims_the_destination_then_tells_the_source(env, backend):
    cond = env["cond"]
    inst = _server(env)
    got = cond.server_action(_ctx(), inst.uuid, "live_migration",
                             {"host": None, "block_migration": "auto"})
    assert got.task_state == states.MIGRATING
    cond.finish_background()
    spec = cond._scheduler.specs[-1]
    assert spec.ignore_hosts == ["h1"] and spec.force_hosts == []
    mig = _move(env, inst.uuid)
    assert (mig.migration_type, mig.status, mig.source_compute, mig.dest_compute) == (
        "live-migration", "queued", "h1", "h2")
    assert _holders(env, "h1") == [mig.uuid] and _holders(env, "h2") == [inst.uuid]
    assert cond._compute.sent == [("live_migration", "h1", mig.uuid, True)]
    action, created = inst_db.action_list(env["cell1"], inst.uuid, with_events=True)
    assert created.action == "create"  # newest first
    assert action.action == "live-migration"
    assert [(e.event, e.result) for e in action.events] == [
        ("conductor_live_migrate_instance", "Success")]


@pytest.mark.parametrize("host,error", [("h1", exception.Invalid),
                                        ("h9", exception.ComputeHostNotFound)])
def test_a_named_host_is_checked_before_anything_changes(env, backend, host, error):
    inst = _server(env)
    with pytest.raises(error):
        env["cond"].server_action(_ctx(), inst.uuid, "live_migration",
                                  {"host": host, "block_migration": False})
    assert mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid) == []
    assert _get(env, inst.uuid).task_state is None


def test_a_named_host_that_is_down_is_refused(env, backend):
    _force_down(env, "h3")
    inst = _server(env)
    with pytest.raises(exception.Invalid, match="h3 is unavailable"):
        env["cond"].server_action(_ctx(), inst.uuid, "live_migration", {"host": "h3"})


def test_no_valid_host_leaves_the_server_where_it_was(env, backend):
    cond = env["cond"]
    cond._scheduler.full = True
    inst = _server(env)
    cond.server_action(_ctx(), inst.uuid, "live_migration", {"host": "h2"})
    cond.finish_background()
    got = _get(env, inst.uuid)
    assert (got.vm_state, got.task_state, got.host) == (states.ACTIVE, None, "h1")
    action, created = inst_db.action_list(env["cell1"], inst.uuid, with_events=True)
    assert created.action == "create"  # newest first
    assert [(e.event, e.result) for e in action.events] == [
        ("conductor_live_migrate_instance", "Error")]
    assert "No valid host" in action.events[0].traceback
    assert _move(env, inst.uuid).status == "error"
    assert _holders(env, "h1") == [inst.uuid] and cond._compute.sent == []


def _queued(env: dict):
    cond = env["cond"]
    inst = _server(env)
    cond.server_action(_ctx(), inst.uuid, "live_migration", {"host": None})
    cond.finish_background()
    return inst, _move(env, inst.uuid)


def test_abort_of_a_queued_live_migration_returns_the_claim_at_once(env, backend):
    cond = env["cond"]
    inst, mig = _queued(env)
    with pytest.raises(exception.InvalidMigrationState):  # before 2.65: running only
        cond.live_migration_abort(_ctx(), inst.uuid, mig.id)
    cond.live_migration_abort(_ctx(), inst.uuid, mig.id, queued_too=True)
    got = _get(env, inst.uuid)
    assert (got.task_state, got.host, _move(env, inst.uuid).status) == (
        None, "h1", "cancelled")
    assert _holders(env, "h1") == [inst.uuid] and _holders(env, "h2") == []


def test_abort_and_force_complete_of_a_running_one_go_to_the_source(env, backend):
    cond = env["cond"]
    inst, mig = _queued(env)
    mig_db.migration_update(env["cell1"], mig.uuid, {"status": "running"})
    cond.live_migration_force_complete(_ctx(), inst.uuid, mig.id)
    cond.live_migration_abort(_ctx(), inst.uuid, mig.id)
    assert cond._compute.sent[-2:] == [("live_migration_force_complete", "h1", mig.uuid),
                                       ("live_migration_abort", "h1", mig.uuid)]
    with pytest.raises(exception.MigrationNotFoundForInstance):
        cond.live_migration_abort(_ctx(), inst.uuid, mig.id + 100)
    # 2.65: a preparing one too, through its source
    mig_db.migration_update(env["cell1"], mig.uuid, {"status": "preparing"})
    with pytest.raises(exception.InvalidMigrationState):
        cond.live_migration_abort(_ctx(), inst.uuid, mig.id)
    cond.live_migration_abort(_ctx(), inst.uuid, mig.id, queued_too=True)
    assert cond._compute.sent[-1] == ("live_migration_abort", "h1", mig.uuid)


def test_force_complete_needs_a_running_live_migration_of_a_migrating_server(env, backend):
    cond = env["cond"]
    inst, mig = _queued(env)
    with pytest.raises(exception.InvalidMigrationState):
        cond.live_migration_force_complete(_ctx(), inst.uuid, mig.id)
    inst_db.instance_update(env["cell1"], inst.uuid, {"task_state": None})
    with pytest.raises(exception.InstanceInvalidState):
        cond.live_migration_force_complete(_ctx(), inst.uuid, mig.id)


@pytest.mark.parametrize("status", ["accepted", "queued"])
def test_a_conductor_restart_aborts_an_unstarted_live_migration(env, backend, status):
    cond = env["cond"]
    inst = _server(env)
    mig = mig_db.migration_create(env["cell1"], {
        "instance_uuid": inst.uuid, "migration_type": "live-migration",
        "status": status, "source_compute": "h1", "source_node": "h1"})
    inst_db.instance_update(env["cell1"], inst.uuid, {"task_state": states.MIGRATING})
    assert cond.reconcile_moves() == 0  # too recent: maybe still being scheduled
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    with db_engine.get_engine(env["cell1"]).begin() as conn:
        conn.execute(sa.update(m.Migration).where(m.Migration.uuid == mig.uuid)
                     .values(updated_at=old, created_at=old))
    assert cond.reconcile_moves() == 1
    got = _get(env, inst.uuid)
    assert (got.task_state, _move(env, inst.uuid).status) == (None, "error")
    assert _holders(env, "h1") == [inst.uuid]


# -- evacuate -----------------------------------------------------------------------------

def test_evacuate_is_refused_while_the_source_compute_is_up(env, backend):
    inst = _server(env)
    with pytest.raises(exception.ComputeServiceInUse):
        env["cond"].server_action(_ctx(), inst.uuid, "evacuate", {})
    assert mig_db.migration_list(env["cell1"], instance_uuid=inst.uuid) == []


def test_evacuate_claims_the_destination_and_keeps_the_dead_hosts_claim(env, backend):
    cond = env["cond"]
    _force_down(env, "h1")
    inst = _server(env, vm_state=states.STOPPED)
    got = cond.server_action(_ctx(), inst.uuid, "evacuate", {"host": "h3"})
    assert got.task_state == states.REBUILDING
    cond.finish_background()
    mig = _move(env, inst.uuid)
    assert (mig.migration_type, mig.status, mig.dest_compute) == (
        "evacuation", "pre-migrating", "h3")
    assert _holders(env, "h1") == [mig.uuid] and _holders(env, "h3") == [inst.uuid]
    # a stopped server stays stopped (before 2.95 too)
    assert cond._compute.sent == [("evacuate_instance", "h3", mig.uuid, states.STOPPED)]
    # deleted before the dead host came back: its claim goes with the server
    mig_db.migration_update(env["cell1"], mig.uuid, {"status": "done"})
    cond._destroy(env["cell1"], inst.uuid)
    assert _holders(env, "h1") == [] and _holders(env, "h3") == []
    assert mig_db.migration_get(env["cell1"], mig.uuid).status == "error"
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_get(env["cell1"], inst.uuid)


def test_evacuate_with_no_valid_host_leaves_the_server_on_its_dead_host(env, backend):
    cond = env["cond"]
    _force_down(env, "h1")
    cond._scheduler.full = True
    inst = _server(env)
    cond.server_action(_ctx(), inst.uuid, "evacuate", {"target_state": states.STOPPED})
    cond.finish_background()
    got = _get(env, inst.uuid)
    assert (got.vm_state, got.task_state, got.host) == (states.ACTIVE, None, "h1")
    assert _move(env, inst.uuid).status == "error"
    assert _holders(env, "h1") == [inst.uuid]
