"""API of the migrate action (cold migration): bodies by microversion (2.56 host),
admin policy, Nova's 400s (unknown host, the server's own host, no valid host), 404
and 409, and what the conductor is asked to do."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.compute import states
from tests.unit.api.conftest import ALICE


@pytest.fixture
def inst(conductor):
    conductor.add_compute("c1")
    conductor.add_compute("c2")
    return conductor.add_server(host="c1")


def migrate(client, inst, body, version="2.56", token="admin:admin"):
    return client.post(f"/v2.1/servers/{inst.uuid}/action", body, version=version,
                       token=token)


@pytest.mark.parametrize("version,body,host", [
    ("2.1", {"migrate": None}, None), ("2.55", {"migrate": None}, None),
    ("2.56", {"migrate": None}, None), ("2.56", {"migrate": {}}, None),
    ("2.56", {"migrate": {"host": None}}, None), ("2.56", {"migrate": {"host": "c2"}}, "c2"),
])
def test_migrate_accepted(client, conductor, inst, version, body, host):
    resp = migrate(client, inst, body, version)
    assert resp.status_int == 202 and resp.body == b""
    assert conductor.action_params[-1] == ("migrate", {"host": host})
    assert inst.task_state == states.RESIZE_PREP
    assert inst.old_flavor.flavorid == inst.new_flavor.flavorid == inst.flavor.flavorid
    server = client.get(f"/v2.1/servers/{inst.uuid}").json["server"]
    assert server["status"] == "RESIZE"
    mig = conductor.migrations[-1]
    assert (mig.migration_type, mig.source_compute) == ("migration", "c1")


@pytest.mark.parametrize("version,body", [
    ("2.55", {"migrate": {"host": "c2"}}), ("2.55", {"migrate": {}}),
    ("2.56", {"migrate": {"host": ""}}), ("2.56", {"migrate": {"host": "bad host!"}}),
    ("2.56", {"migrate": {"host": 3}}), ("2.56", {"migrate": {"hots": "c2"}}),
    ("2.56", {"migrate": "c2"}), ("2.56", {"migrate": {"host": "h" * 256}}),
])
def test_bad_bodies_are_400(client, conductor, inst, version, body):
    resp = migrate(client, inst, body, version)
    assert resp.status_int == 400, resp.text
    assert "badRequest" in resp.json and inst.task_state is None


@pytest.mark.parametrize("host,message", [
    ("nope", "Compute host nope could not be found."),
    ("c1", "Cannot migrate to the same host."),
])
def test_named_host_must_exist_and_differ(client, inst, host, message):
    resp = migrate(client, inst, {"migrate": {"host": host}})
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == message
    assert inst.task_state is None


def test_no_valid_host_is_400_with_the_reason(client, conductor, inst, monkeypatch):
    def full(ctx, inst, params):
        raise exception.NoValidHost(reason="2 host(s) considered, 2 rejected.")

    monkeypatch.setattr(conductor, "_start_migrate", full)
    resp = migrate(client, inst, {"migrate": None})
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "No valid host was found. 2 host(s) considered, 2 rejected.")


def test_admin_only(client, inst):
    resp = migrate(client, inst, {"migrate": None}, token=ALICE)
    assert resp.status_int == 403
    assert "os_compute_api:os-migrate-server:migrate" in resp.json["forbidden"]["message"]
    assert inst.task_state is None


def test_named_host_has_its_own_rule(client, inst, monkeypatch):
    from nova_lite import policy

    real = policy.authorize

    def deny_host(ctx, rule, target=None, *a, **kw):
        if rule.endswith("migrate:host"):
            raise exception.PolicyNotAuthorized(action=rule)
        return real(ctx, rule, target, *a, **kw)

    monkeypatch.setattr(policy, "authorize", deny_host)
    assert migrate(client, inst, {"migrate": {"host": "c2"}}).status_int == 403
    assert migrate(client, inst, {"migrate": {}}).status_int == 202


@pytest.mark.parametrize("vm_state,task_state", [
    (states.PAUSED, None), (states.RESIZED, None), (states.ERROR, None),
    (states.SHELVED_OFFLOADED, None), (states.ACTIVE, states.REBOOTING),
])
def test_wrong_state_is_409(client, conductor, vm_state, task_state):
    inst = conductor.add_server(vm_state=vm_state, task_state=task_state)
    resp = migrate(client, inst, {"migrate": None})
    assert resp.status_int == 409
    assert "Cannot 'migrate' instance" in resp.json["conflictingRequest"]["message"]


def test_stopped_server_may_migrate_and_missing_is_404(client, conductor):
    inst = conductor.add_server(vm_state=states.STOPPED)
    assert migrate(client, inst, {"migrate": None}).status_int == 202
    missing = conductor.add_server()
    del conductor.servers[missing.uuid]
    assert migrate(client, missing, {"migrate": None}).status_int == 404


def test_locked_server_refuses_nobody_who_may_migrate(client, conductor):
    # migrate is admin-only and an admin passes a lock, as in Nova
    inst = conductor.add_server(locked=True, locked_by="owner")
    assert migrate(client, inst, {"migrate": None}).status_int == 202


def test_source_host_down_is_409(client, conductor):
    conductor.add_compute("dead", up=False)
    inst = conductor.add_server(host="dead")
    resp = migrate(client, inst, {"migrate": None})
    assert resp.status_int == 409
    assert resp.json["conflictingRequest"]["message"] == "Service is unavailable at this time."
    assert inst.task_state is None
