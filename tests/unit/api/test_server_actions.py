"""POST /servers/{id}/action and the instance action history."""

from __future__ import annotations

import pytest

from nova_lite.api import microversion
from nova_lite.compute import states
from tests.unit.api.conftest import ALICE

MAX = microversion.MAX_STR


@pytest.mark.parametrize("body, action, vm_state", [
    ({"reboot": {"type": "SOFT"}}, "reboot", states.ACTIVE),
    ({"reboot": {"type": "hard"}}, "reboot_hard", states.ACTIVE),
    ({"os-stop": None}, "stop", states.ACTIVE),
    ({"os-start": None}, "start", states.STOPPED),
    ({"pause": None}, "pause", states.ACTIVE),
    ({"unpause": None}, "unpause", states.PAUSED),
    ({"suspend": None}, "suspend", states.ACTIVE),
    ({"resume": {}}, "resume", states.SUSPENDED),
])
def test_lifecycle_actions(client, conductor, body, action, vm_state):
    inst = conductor.add_server(vm_state=vm_state)
    resp = client.post(f"/v2.1/servers/{inst.uuid}/action", body, token=ALICE)
    assert resp.status_int == 202, resp.text
    assert resp.body == b""
    assert f"server_action:{action}" in conductor.calls


def test_action_in_wrong_state_is_409(client, conductor):
    inst = conductor.add_server(vm_state=states.STOPPED)
    resp = client.post(f"/v2.1/servers/{inst.uuid}/action", {"pause": None}, token=ALICE)
    assert resp.status_int == 409
    assert "conflictingRequest" in resp.json


@pytest.mark.parametrize("body", [
    {"reboot": {}}, {"reboot": {"type": "MEDIUM"}}, {"reboot": None},
    {"reboot": {"type": "SOFT", "x": 1}}, {"os-stop": {"x": 1}}, {"fly": None}, {},
    {"pause": None, "unpause": None}, [], "reboot",
    {"os-getConsoleOutput": {"length": "abc"}}, {"os-getConsoleOutput": {"length": -2}},
    {"os-getConsoleOutput": {"foo": 1}},
])
def test_bad_action_bodies(client, conductor, body):
    inst = conductor.add_server()
    resp = client.post(f"/v2.1/servers/{inst.uuid}/action", body, token=ALICE)
    assert resp.status_int == 400, resp.text
    assert "badRequest" in resp.json


def test_action_on_other_project_is_404(client, conductor):
    inst = conductor.add_server(project_id="proj-b")
    resp = client.post(f"/v2.1/servers/{inst.uuid}/action", {"pause": None}, token=ALICE)
    assert resp.status_int == 404


@pytest.mark.parametrize("length, expected", [
    (None, "line1\nline2\nline3\n"), (2, "line2\nline3\n"), ("1", "line3\n"),
    (-1, "line1\nline2\nline3\n"),
])
def test_console_output(client, conductor, length, expected):
    inst = conductor.add_server()
    body = {"os-getConsoleOutput": {"length": length}}
    resp = client.post(f"/v2.1/servers/{inst.uuid}/action", body, token=ALICE)
    assert resp.status_int == 200
    assert resp.json == {"output": expected}


def _do_action(client, conductor):
    inst = conductor.add_server()
    resp = client.post(f"/v2.1/servers/{inst.uuid}/action", {"os-stop": None}, token=ALICE)
    return inst, resp.headers["x-openstack-request-id"]


def test_instance_action_list(client, conductor):
    inst, rid = _do_action(client, conductor)
    resp = client.get(f"/v2.1/servers/{inst.uuid}/os-instance-actions", token=ALICE)
    assert resp.status_int == 200
    (action,) = resp.json["instanceActions"]
    assert set(action) == {"action", "instance_uuid", "message", "project_id", "request_id",
                           "start_time", "user_id"}
    assert action["request_id"] == rid and action["action"] == "stop"
    resp = client.get(f"/v2.1/servers/{inst.uuid}/os-instance-actions", token=ALICE,
                      version=MAX)
    assert "updated_at" in resp.json["instanceActions"][0]


def test_instance_action_show(client, conductor):
    inst, rid = _do_action(client, conductor)
    url = f"/v2.1/servers/{inst.uuid}/os-instance-actions/{rid}"
    # 2.1 member: no events at all; admin: events with traceback
    assert "events" not in client.get(url, token=ALICE).json["instanceAction"]
    ev = client.get(url).json["instanceAction"]["events"][0]
    assert set(ev) == {"event", "start_time", "finish_time", "result", "traceback"}
    # 2.51+: events for everyone, traceback for admins; 2.62 hostId/host; 2.84 details
    ev = client.get(url, token=ALICE, version=MAX).json["instanceAction"]["events"][0]
    assert set(ev) == {"event", "start_time", "finish_time", "result", "hostId", "details"}
    ev = client.get(url, version=MAX).json["instanceAction"]["events"][0]
    assert {"traceback", "host", "hostId", "details"} <= set(ev)
    missing = client.get(f"/v2.1/servers/{inst.uuid}/os-instance-actions/req-nope")
    assert missing.status_int == 404
