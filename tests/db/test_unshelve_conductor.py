"""Unshelve in the conductor on real databases: the caller's choices checked at once, an
offloaded server scheduled and handed to its new host, no host -> still offloaded with a
fault and no claim, and a conductor restart sending an interrupted unshelve again."""

from __future__ import annotations

import datetime
import uuid

import pytest

from nova_lite import context, exception
from nova_lite.compute import states
from nova_lite.conductor import tasks
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.shelve import ShelveTaskMixin
from nova_lite.db import cells as cells_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import services as svc_db
from nova_lite.objects.request_spec import RequestSpec, Selection
from tests.db.test_cells_instances import create_instance, map_to_cell, new_instance


class _Scheduler:
    def __init__(self, cell_uuid: str, api_url: str) -> None:
        self.cell_uuid, self.api_url = cell_uuid, api_url
        self.specs: list[RequestSpec] = []
        self.full = False

    def select_destinations(self, ctx, spec, uuids, build_lease=None):
        self.specs.append(spec)
        if self.full:
            raise exception.NoValidHost(reason="1 host(s) considered, 1 rejected.")
        host = spec.force_hosts[0] if spec.force_hosts else "h1"
        rp = placement_db.provider_ensure(self.api_url, host, host, self.cell_uuid, {
            "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}})
        placement_db.claim(self.api_url, rp, uuids[0], {"VCPU": 1})
        return [Selection(instance_uuid=uuids[0], host=host, nodename=host,
                          provider_uuid=rp, cell_uuid=self.cell_uuid)]


class _Compute:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def run_action(self, ctx, host, inst, action, params=None):
        self.sent.append((host, inst.uuid, action))


class _Conductor(tasks.TaskMixin, ShelveTaskMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)
        tasks.TaskMixin.__init__(self)

    def finish_background(self) -> None:
        self._build_pool.shutdown(wait=True)


@pytest.fixture
def env(api_url: str, mapped_cells: dict) -> dict:
    cell1 = mapped_cells["cell1"]
    for host in ("h1", "h2"):
        svc_db.service_heartbeat(cell1, host, "nova-compute", "compute")
    cond = _Conductor(api_url)
    cond._scheduler = _Scheduler(mapped_cells["cell1_uuid"], api_url)
    cond._compute = _Compute()
    return {"api": api_url, "cell1": cell1, "cell1_uuid": mapped_cells["cell1_uuid"], "cond": cond}


def _server(env: dict, vm_state: str, host=None, task_state=None, **values):
    inst = new_instance(vm_state=vm_state, task_state=task_state, host=host, node=host,
                        system_metadata={"shelved_image_id": str(uuid.uuid4())}, **values)
    create_instance(env["cell1"], inst, "cell1")
    spec = RequestSpec(instance_uuid=inst.uuid, project_id="p1", user_id="u1",
                       flavor=inst.flavor, image_id=None, availability_zone=None,
                       num_instances=1, ignore_hosts=[], force_hosts=[])
    cells_db.build_request_create(env["api"], inst.uuid, "p1", "u1", inst.obj_to_primitive(),
                                  spec.obj_to_primitive())
    cells_db.build_request_delete(env["api"], inst.uuid)  # the spec stays, as after a build
    map_to_cell(env["api"], inst.uuid, env["cell1_uuid"])
    return inst


def _get(env: dict, uuid_: str):
    return inst_db.instance_get(env["cell1"], uuid_, "cell1")


def _ctx():
    return context.RequestContext(user_id="u1", project_id="p1")


def test_offloaded_server_is_scheduled_and_sent_to_its_host(env, backend):
    cond = env["cond"]
    inst = _server(env, states.SHELVED_OFFLOADED)
    cond.server_unshelve(_ctx(), inst.uuid, {"host": "h2", "availability_zone": None})
    cond.finish_background()
    got = _get(env, inst.uuid)
    assert (got.host, got.node, got.task_state) == ("h2", "h2", states.UNSHELVING)
    assert cond._compute.sent == [("h2", inst.uuid, "unshelve")]
    spec = cond._scheduler.specs[0]
    assert spec.force_hosts == ["h2"] and spec.availability_zone is None
    saved = RequestSpec.obj_from_primitive(cells_db.request_spec_get(env["api"], inst.uuid))
    assert saved.availability_zone is None
    assert placement_db.consumers_on_provider(env["api"], "h2") == [inst.uuid]


def test_shelved_server_is_started_where_it_is(env, backend):
    cond = env["cond"]
    inst = _server(env, states.SHELVED, host="h1")
    cond.server_unshelve(_ctx(), inst.uuid, {})
    assert cond._compute.sent == [("h1", inst.uuid, "unshelve")]
    assert cond._scheduler.specs == []


@pytest.mark.parametrize("vm_state, params, error", [
    (states.SHELVED, {"availability_zone": "nova"}, exception.UnshelveInstanceInvalidState),
    (states.SHELVED, {"host": "h2"}, exception.UnshelveInstanceInvalidState),
    (states.SHELVED_OFFLOADED, {"host": "nowhere"}, exception.ComputeHostNotFound),
    (states.SHELVED_OFFLOADED, {"availability_zone": "mars"}, exception.Invalid),
    (states.ACTIVE, {}, exception.InstanceInvalidState),
])
def test_bad_choices_are_refused_at_once(env, backend, vm_state, params, error):
    cond = env["cond"]
    inst = _server(env, vm_state, host="h1" if vm_state != states.SHELVED_OFFLOADED else None)
    with pytest.raises(error):
        cond.server_unshelve(_ctx(), inst.uuid, params)
    assert _get(env, inst.uuid).task_state is None
    assert cond._compute.sent == []


def test_locked_server_refuses_its_owner(env, backend):
    cond = env["cond"]
    inst = _server(env, states.SHELVED_OFFLOADED, locked=True)
    with pytest.raises(exception.InstanceIsLocked):
        cond.server_unshelve(_ctx(), inst.uuid, {})
    cond.server_unshelve(context.get_admin_context(), inst.uuid, {})
    cond.finish_background()
    assert _get(env, inst.uuid).host == "h1"


def test_no_host_leaves_it_offloaded_with_a_fault_and_no_claim(env, backend):
    cond = env["cond"]
    cond._scheduler.full = True
    inst = _server(env, states.SHELVED_OFFLOADED)
    cond.server_unshelve(_ctx(), inst.uuid, {})
    cond.finish_background()
    got = _get(env, inst.uuid)
    assert (got.vm_state, got.task_state, got.host) == (states.SHELVED_OFFLOADED, None, None)
    assert cond._compute.sent == []
    assert inst.uuid not in placement_db.consumers_on_provider(env["api"], "h1")


def test_conductor_restart_sends_an_interrupted_unshelve_again(env, backend):
    cond = env["cond"]
    stale = _server(env, states.SHELVED_OFFLOADED, task_state=states.UNSHELVING)
    claimed = _server(env, states.SHELVED_OFFLOADED, task_state=states.UNSHELVING,
                      host="h2")
    fresh = _server(env, states.SHELVED_OFFLOADED, task_state=states.UNSHELVING)
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    for inst in (stale, claimed):
        _backdate(env, inst.uuid, old)
    assert cond.reconcile_unshelves() == 2
    assert sorted(cond._compute.sent) == sorted([("h2", claimed.uuid, "unshelve"),
                                                 ("h1", stale.uuid, "unshelve")])
    assert _get(env, stale.uuid).host == "h1"
    assert _get(env, fresh.uuid).host is None  # in progress elsewhere: left alone


def _backdate(env: dict, uuid_: str, when: datetime.datetime) -> None:
    import sqlalchemy as sa

    from nova_lite.db import engine as db_engine
    from nova_lite.db import main_models as m

    with db_engine.get_engine(env["cell1"]).begin() as conn:
        conn.execute(sa.update(m.Instance).where(m.Instance.uuid == uuid_)
                     .values(updated_at=when, created_at=when))
