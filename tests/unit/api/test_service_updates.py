"""PUT and DELETE /os-services: the pre-2.53 actions by host and binary, the 2.53
update by uuid, deletes, and their error answers in Nova's fault format."""

from __future__ import annotations

import uuid

import pytest

from tests.unit.api.conftest import ALICE


@pytest.fixture
def cloud(conductor):
    conductor.add_compute("c1")
    conductor.add_compute("c2")
    conductor.add_service("ctl", "nova-scheduler")
    return conductor


def _svc(cloud, host, binary="nova-compute"):
    return next(s for s in cloud.services if s.host == host and s.binary == binary)


def _fault(resp, code):
    assert resp.status_int == code, resp.body
    (kind,) = resp.json
    assert resp.json[kind]["code"] == code
    return resp.json[kind]["message"]


def test_disable_enable_by_host(client, cloud):
    body = {"host": "c1", "binary": "nova-compute"}
    resp = client.put("/v2.1/os-services/disable", body)
    assert resp.status_int == 200
    assert resp.json == {"service": {"host": "c1", "binary": "nova-compute",
                                     "status": "disabled"}}
    assert _svc(cloud, "c1").disabled is True
    resp = client.put("/v2.1/os-services/disable-log-reason",
                      dict(body, disabled_reason="maintenance"))
    assert resp.json["service"] == {"host": "c1", "binary": "nova-compute",
                                    "status": "disabled", "disabled_reason": "maintenance"}
    listed = client.get("/v2.1/os-services?host=c1").json["services"][0]
    assert (listed["status"], listed["disabled_reason"]) == ("disabled", "maintenance")
    resp = client.put("/v2.1/os-services/enable", body)
    assert resp.json["service"]["status"] == "enabled"
    assert (_svc(cloud, "c1").disabled, _svc(cloud, "c1").disabled_reason) == (False, None)


def test_force_down_by_host(client, cloud):
    body = {"host": "c2", "binary": "nova-compute", "forced_down": True}
    # force-down exists from 2.11 only; forced_down is not in the older schema.
    assert client.put("/v2.1/os-services/force-down", body).status_int == 400
    resp = client.put("/v2.1/os-services/force-down", body, version="2.11")
    assert resp.json == {"service": {"host": "c2", "binary": "nova-compute",
                                     "forced_down": True}}
    listed = client.get("/v2.1/os-services?host=c2", version="2.11").json["services"][0]
    assert (listed["forced_down"], listed["state"]) == (True, "down")
    hv = client.get("/v2.1/os-hypervisors").json["hypervisors"][1]
    assert hv["state"] == "down"
    resp = client.put("/v2.1/os-services/force-down", dict(body, forced_down="false"),
                      version="2.11")
    assert resp.json["service"]["forced_down"] is False
    no_flag = {"host": "c2", "binary": "nova-compute"}
    assert _fault(client.put("/v2.1/os-services/force-down", no_flag, version="2.11"),
                  400) == "Missing forced_down field"


@pytest.mark.parametrize("path,body,code,message", [
    ("/v2.1/os-services/disable", {"host": "zz", "binary": "nova-compute"}, 404,
     "Could not find binary nova-compute on host zz."),
    ("/v2.1/os-services/disable", {"host": "ctl", "binary": "nova-scheduler"}, 400,
     "Updating a nova-scheduler service is not supported. Only nova-compute services "
     "can be updated."),
    ("/v2.1/os-services/reboot", {"host": "c1", "binary": "nova-compute"}, 404,
     "Unknown action"),
    ("/v2.1/os-services/disable-log-reason", {"host": "c1", "binary": "nova-compute"},
     400, "Missing disabled reason field"),
    ("/v2.1/os-services/disable", {"host": "c1"}, 400, None),
    ("/v2.1/os-services/disable", {"host": "c 1", "binary": "nova-compute"}, 400, None),
    ("/v2.1/os-services/disable", {"host": "c1", "binary": "nova-compute", "x": 1}, 400,
     None),
    ("/v2.1/os-services/disable-log-reason",
     {"host": "c1", "binary": "nova-compute", "disabled_reason": ""}, 400, None),
])
def test_update_by_host_errors(client, cloud, path, body, code, message):
    got = _fault(client.put(path, body, version="2.52"), code)
    if message:
        assert got == message
    assert _svc(cloud, "c1").disabled is False


def test_update_253(client, cloud):
    sid = _svc(cloud, "c1").uuid
    resp = client.put(f"/v2.1/os-services/{sid}",
                      {"status": "disabled", "disabled_reason": "disk swap"}, version="2.53")
    assert resp.status_int == 200
    s = resp.json["service"]
    assert set(s) == {"id", "binary", "host", "zone", "status", "state", "updated_at",
                      "disabled_reason", "forced_down"}
    assert (s["id"], s["status"], s["disabled_reason"]) == (sid, "disabled", "disk swap")
    s = client.put(f"/v2.1/os-services/{sid}", {"forced_down": True},
                   version="2.53").json["service"]
    assert (s["forced_down"], s["state"], s["status"]) == (True, "down", "disabled")
    s = client.put(f"/v2.1/os-services/{sid}", {"status": "enabled", "forced_down": "no"},
                   version="2.53").json["service"]
    assert (s["status"], s["disabled_reason"], s["forced_down"]) == ("enabled", None, False)
    # A uuid without dashes names the same service.
    s = client.put(f"/v2.1/os-services/{sid.replace('-', '')}", {"status": "disabled"},
                   version="2.53").json["service"]
    assert (s["id"], s["status"], s["disabled_reason"]) == (sid, "disabled", None)


@pytest.mark.parametrize("body,message", [
    ({}, "No updates were requested. Fields 'status' or 'forced_down' should be "
         "specified."),
    ({"disabled_reason": "x"}, "No updates were requested. Fields 'status' or "
                               "'forced_down' should be specified."),
    ({"status": "enabled", "disabled_reason": "x"},
     "Specifying 'disabled_reason' with status 'enabled' is invalid."),
    ({"status": "off"}, None),
    ({"forced_down": "maybe"}, None),
    ({"status": "disabled", "host": "c1"}, None),
    ({"status": "disabled", "disabled_reason": "r" * 256}, None),
])
def test_update_253_bad_bodies(client, cloud, body, message):
    sid = _svc(cloud, "c1").uuid
    got = _fault(client.put(f"/v2.1/os-services/{sid}", body, version="2.53"), 400)
    if message:
        assert got == message
    assert _svc(cloud, "c1").disabled is False


def test_update_253_errors(client, cloud):
    assert _fault(client.put("/v2.1/os-services/disable", {"status": "disabled"},
                             version="2.53"), 400) == "Invalid uuid disable"
    missing = str(uuid.uuid4())
    assert _fault(client.put(f"/v2.1/os-services/{missing}", {"status": "disabled"},
                             version="2.53"), 404) == f"Service {missing} could not be found."
    sched = _svc(cloud, "ctl", "nova-scheduler").uuid
    assert "Only nova-compute services can be updated" in _fault(
        client.put(f"/v2.1/os-services/{sched}", {"status": "disabled"}, version="2.53"), 400)
    resp = client.put(f"/v2.1/os-services/{sched}", "not json", version="2.53")
    assert resp.status_int == 400


def test_delete(client, cloud):
    c1, c2 = _svc(cloud, "c1"), _svc(cloud, "c2")
    cloud.add_server(host="c1")
    assert _fault(client.delete(f"/v2.1/os-services/{c1.id}"), 409) == (
        "Unable to delete compute service that is hosting instances. Migrate or delete "
        "the instances first.")
    assert client.delete(f"/v2.1/os-services/{c2.id}").status_int == 204
    assert [s["host"] for s in client.get("/v2.1/os-services?binary=nova-compute")
            .json["services"]] == ["c1"]
    assert [h["hypervisor_hostname"] for h in
            client.get("/v2.1/os-hypervisors").json["hypervisors"]] == ["c1.node"]
    assert _fault(client.delete(f"/v2.1/os-services/{c2.id}"), 404) == (
        f"Service {c2.id} not found.")
    sched = _svc(cloud, "ctl", "nova-scheduler")
    assert client.delete(f"/v2.1/os-services/{sched.uuid}", version="2.53").status_int == 204


def test_delete_bad_ids(client, cloud):
    assert _fault(client.delete("/v2.1/os-services/abc"), 400) == (
        "Invalid input received: id must be an integer")
    assert _fault(client.delete("/v2.1/os-services/101", version="2.53"), 400) == (
        "Invalid uuid 101")
    assert _fault(client.delete(f"/v2.1/os-services/{uuid.uuid4()}", version="2.53"),
                  404).startswith("Service ")


@pytest.mark.parametrize("method,path,body", [
    ("put", "/v2.1/os-services/disable", {"host": "c1", "binary": "nova-compute"}),
    ("delete", "/v2.1/os-services/101", None),
])
def test_admin_only(client, cloud, method, path, body):
    kw = {"token": ALICE}
    resp = getattr(client, method)(path, body, **kw) if body else \
        getattr(client, method)(path, **kw)
    assert _fault(resp, 403).startswith("Policy doesn't allow")
    assert _svc(cloud, "c1").disabled is False and len(cloud.services) == 3
