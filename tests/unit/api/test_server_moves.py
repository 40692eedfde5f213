"""API of os-migrateLive, evacuate, force_complete and abort: bodies by microversion,
admin-only policies, Nova's codes and fault bodies."""

from __future__ import annotations

import pytest

from nova_lite.compute import states
from tests.unit.api.conftest import ADMIN, ALICE


def act(client, inst, body, token=ADMIN, version=None):
    return client.post(f"/v2.1/servers/{inst.uuid}/action", body, token=token,
                       version=version)


@pytest.fixture
def hosts(conductor):
    conductor.add_compute("c1")
    conductor.add_compute("c2")
    return conductor


def params_of(conductor, action):
    return [p for a, p in conductor.action_params if a == action][-1]


# -- os-migrateLive ----------------------------------------------------------------------

@pytest.mark.parametrize("version,body,expected", [
    ("2.1", {"host": "c2", "block_migration": False, "disk_over_commit": False},
     {"host": "c2", "block_migration": False, "force": False}),
    ("2.25", {"host": None, "block_migration": "auto"},
     {"host": None, "block_migration": "auto", "force": False}),
    ("2.30", {"host": "c2", "block_migration": "True", "force": True},
     {"host": "c2", "block_migration": True, "force": True}),
    ("2.68", {"host": None, "block_migration": "auto"},
     {"host": None, "block_migration": "auto", "force": False}),
])
def test_live_migrate_bodies_by_microversion(client, hosts, version, body, expected):
    inst = hosts.add_server()
    resp = act(client, inst, {"os-migrateLive": body}, version=version)
    assert resp.status_int == 202, resp.text
    assert params_of(hosts, "live_migration") == expected
    assert inst.task_state == states.MIGRATING
    server = client.get(f"/v2.1/servers/{inst.uuid}", token=ADMIN).json["server"]
    assert server["status"] == "MIGRATING"


@pytest.mark.parametrize("version,body", [
    ("2.1", {"host": "c2", "block_migration": False}),  # disk_over_commit required
    ("2.1", {"host": "c2", "block_migration": "auto", "disk_over_commit": False}),
    ("2.25", {"host": "c2", "block_migration": "auto", "disk_over_commit": False}),
    ("2.25", {"block_migration": "auto"}),  # host required (may be null)
    ("2.25", {"host": "c2", "block_migration": "auto", "force": True}),  # force from 2.30
    ("2.68", {"host": "c2", "block_migration": "auto", "force": True}),  # gone in 2.68
    ("2.30", {"host": "c2", "block_migration": "maybe"}),
    ("2.30", {"host": "", "block_migration": "auto"}),
])
def test_bad_live_migrate_bodies_400(client, hosts, version, body):
    inst = hosts.add_server()
    resp = act(client, inst, {"os-migrateLive": body}, version=version)
    assert resp.status_int == 400, resp.text
    assert resp.json["badRequest"]["code"] == 400
    assert inst.task_state is None


def test_live_migrate_unknown_or_own_host_400(client, hosts):
    inst = hosts.add_server()
    resp = act(client, inst, {"os-migrateLive": {"host": "nope", "block_migration": "auto"}},
               version="2.68")
    assert resp.status_int == 400 and "nope" in resp.json["badRequest"]["message"]
    resp = act(client, inst, {"os-migrateLive": {"host": "c1", "block_migration": "auto"}},
               version="2.68")
    assert resp.status_int == 400
    assert inst.task_state is None


def test_live_migrate_is_admin_only(client, hosts):
    inst = hosts.add_server()
    resp = act(client, inst, {"os-migrateLive": {"host": None, "block_migration": "auto"}},
               token=ALICE, version="2.68")
    assert resp.status_int == 403 and "forbidden" in resp.json


@pytest.mark.parametrize("vm_state,task_state", [(states.STOPPED, None),
                                                 (states.ACTIVE, states.REBOOTING),
                                                 (states.SUSPENDED, None)])
def test_live_migrate_wrong_state_409(client, hosts, vm_state, task_state):
    inst = hosts.add_server(vm_state=vm_state, task_state=task_state)
    resp = act(client, inst, {"os-migrateLive": {"host": None, "block_migration": "auto"}},
               version="2.68")
    assert resp.status_int == 409
    assert "os-migrateLive" in resp.json["conflictingRequest"]["message"]


def test_a_paused_server_may_move(client, hosts):
    inst = hosts.add_server(vm_state=states.PAUSED)
    resp = act(client, inst, {"os-migrateLive": {"host": None, "block_migration": "auto"}},
               version="2.68")
    assert resp.status_int == 202


# -- force_complete and abort -------------------------------------------------------------

def migrations_url(inst, mig_id):
    return f"/v2.1/servers/{inst.uuid}/migrations/{mig_id}"


def test_force_complete_and_abort_a_running_live_migration(client, hosts):
    inst = hosts.add_server(task_state=states.MIGRATING)
    mig = hosts.add_move(inst, "live-migration", "running", "c2")
    resp = client.post(migrations_url(inst, mig.id) + "/action", {"force_complete": None},
                       token=ADMIN, version="2.22")
    assert resp.status_int == 202, resp.text
    resp = client.delete(migrations_url(inst, mig.id), token=ADMIN, version="2.24")
    assert resp.status_int == 202, resp.text
    assert "live_migration_abort:False" in hosts.calls and mig.status == "cancelled"


def test_force_complete_and_abort_need_their_microversions(client, hosts):
    inst = hosts.add_server(task_state=states.MIGRATING)
    mig = hosts.add_move(inst, "live-migration", "running", "c2")
    assert client.post(migrations_url(inst, mig.id) + "/action", {"force_complete": None},
                       token=ADMIN, version="2.21").status_int == 404
    assert client.delete(migrations_url(inst, mig.id), token=ADMIN,
                         version="2.23").status_int == 404


def test_abort_of_a_queued_or_preparing_one_from_2_65(client, hosts):
    inst = hosts.add_server(task_state=states.MIGRATING)
    mig = hosts.add_move(inst, "live-migration", "queued", "c2")
    resp = client.delete(migrations_url(inst, mig.id), token=ADMIN, version="2.64")
    assert resp.status_int == 400 and "queued" in resp.json["badRequest"]["message"]
    resp = client.delete(migrations_url(inst, mig.id), token=ADMIN, version="2.65")
    assert resp.status_int == 202
    preparing = hosts.add_move(inst, "live-migration", "preparing", "c2")
    assert client.delete(migrations_url(inst, preparing.id), token=ADMIN,
                         version="2.64").status_int == 400
    assert client.delete(migrations_url(inst, preparing.id), token=ADMIN,
                         version="2.65").status_int == 202


def test_force_complete_and_abort_errors(client, hosts):
    inst = hosts.add_server(task_state=states.MIGRATING)
    mig = hosts.add_move(inst, "live-migration", "preparing", "c2")
    url = migrations_url(inst, mig.id)
    # not running yet: 400
    resp = client.post(url + "/action", {"force_complete": None}, token=ADMIN, version="2.22")
    assert resp.status_int == 400 and "preparing" in resp.json["badRequest"]["message"]
    # bad bodies: 400
    for body in ({"force_complete": {}}, {"force": None}, {}):
        assert client.post(url + "/action", body, token=ADMIN,
                           version="2.22").status_int == 400
    # an unknown migration or a non-number: 404 / 400
    assert client.delete(migrations_url(inst, 999), token=ADMIN,
                         version="2.24").status_int == 404
    assert client.delete(migrations_url(inst, "abc"), token=ADMIN,
                         version="2.24").status_int == 400
    # members may not: 403
    assert client.delete(url, token=ALICE, version="2.24").status_int == 403
    assert client.post(url + "/action", {"force_complete": None}, token=ALICE,
                       version="2.22").status_int == 403
    # not migrating any more: 409
    inst.task_state = None
    resp = client.delete(url, token=ADMIN, version="2.24")
    assert resp.status_int == 409 and "conflictingRequest" in resp.json


def test_abort_of_another_kind_of_move_400(client, hosts):
    inst = hosts.add_server(task_state=states.MIGRATING)
    mig = hosts.add_move(inst, "evacuation", "running", "c2")
    assert client.delete(migrations_url(inst, mig.id), token=ADMIN,
                         version="2.24").status_int == 400


# -- evacuate ----------------------------------------------------------------------------

@pytest.fixture
def dead_host(conductor):
    conductor.add_compute("c1", up=False)
    conductor.add_compute("c2")
    return conductor


def test_evacuate_before_2_14_answers_the_password(client, dead_host):
    inst = dead_host.add_server()
    resp = act(client, inst, {"evacuate": {"host": "c2", "onSharedStorage": False,
                                           "adminPass": "s3cret"}}, version="2.1")
    assert resp.status_int == 200, resp.text
    assert resp.json == {"adminPass": "s3cret"}
    assert inst.task_state == states.REBUILDING
    p = params_of(dead_host, "evacuate")
    assert p["host"] == "c2" and p["target_state"] is None


def test_evacuate_on_shared_storage_refuses_a_password(client, dead_host):
    inst = dead_host.add_server()
    resp = act(client, inst, {"evacuate": {"onSharedStorage": True, "adminPass": "x"}},
               version="2.1")
    assert resp.status_int == 400


@pytest.mark.parametrize("version,body,target", [
    ("2.14", {}, None), ("2.29", {"host": "c2", "force": True}, None),
    ("2.68", {"host": "c2"}, None), ("2.95", {}, states.STOPPED),
])
def test_evacuate_from_2_14_answers_no_body(client, dead_host, version, body, target):
    inst = dead_host.add_server()
    resp = act(client, inst, {"evacuate": body}, version=version)
    assert resp.status_int == 200, resp.text
    assert not resp.body
    assert params_of(dead_host, "evacuate")["target_state"] == target


@pytest.mark.parametrize("version,body", [
    ("2.1", {"host": "c2"}),  # onSharedStorage required
    ("2.14", {"onSharedStorage": False}),
    ("2.14", {"force": True}),
    ("2.68", {"force": True}),
    ("2.29", {"host": ""}),
    ("2.29", {"bogus": 1}),
])
def test_bad_evacuate_bodies_400(client, dead_host, version, body):
    inst = dead_host.add_server()
    resp = act(client, inst, {"evacuate": body}, version=version)
    assert resp.status_int == 400, resp.text
    assert inst.task_state is None


def test_evacuate_refusals(client, conductor):
    conductor.add_compute("c1")
    conductor.add_compute("c2")
    inst = conductor.add_server()
    # the source compute is up: 400 as Nova's (ComputeServiceInUse)
    resp = act(client, inst, {"evacuate": {}}, version="2.68")
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Compute service of c1 is still in use."
    # the server's own host: 400
    resp = act(client, inst, {"evacuate": {"host": "c1"}}, version="2.68")
    assert resp.status_int == 400
    # members may not: 403
    resp = act(client, inst, {"evacuate": {}}, token=ALICE, version="2.68")
    assert resp.status_int == 403


def test_evacuate_to_an_unknown_host_404(client, dead_host):
    inst = dead_host.add_server()
    resp = act(client, inst, {"evacuate": {"host": "nope"}}, version="2.68")
    assert resp.status_int == 404 and "itemNotFound" in resp.json


def test_evacuate_wrong_state_409(client, dead_host):
    inst = dead_host.add_server(vm_state=states.PAUSED)
    resp = act(client, inst, {"evacuate": {}}, version="2.68")
    assert resp.status_int == 409
    assert "evacuate" in resp.json["conflictingRequest"]["message"]
