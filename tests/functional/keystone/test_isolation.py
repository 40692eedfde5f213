"""Role-based policy and project isolation through the real API with real Keystone tokens.

Accounts: admin (admin project), member-a and reader-a (project-a), member-b
(project-b). Another project's server is 404 (its existence is not revealed), a reader
may look but not touch (403), and an admin may do anything anywhere.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.functional.keystone.conftest import Cloud, login

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

ACTIONS = {
    "reboot": {"reboot": {"type": "SOFT"}},
    "os-stop": {"os-stop": None},
    "os-start": {"os-start": None},
    "pause": {"pause": None},
    "unpause": {"unpause": None},
    "suspend": {"suspend": None},
    "resume": {"resume": None},
    "os-getConsoleOutput": {"os-getConsoleOutput": {"length": 10}},
}
# The owner's walk through every lifecycle action: (action, status afterwards).
WALK = [("os-stop", "SHUTOFF"), ("os-start", "ACTIVE"), ("pause", "PAUSED"),
        ("unpause", "ACTIVE"), ("suspend", "SUSPENDED"), ("resume", "ACTIVE"),
        ("reboot", "ACTIVE")]


class Matrix:
    """Collects every unexpected status so one run reports the whole matrix."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.wrong: list[str] = []

    def expect(self, status: int, who: str, method: str, path: str, body: object = None
               ) -> requests.Response:
        resp = self.cloud.call(who, method, path, body)
        if resp.status_code != status:
            self.wrong.append(f"{who} {method} {path}: {resp.status_code} (want {status}) "
                              f"{resp.text[:200]}")
        return resp

    def check(self) -> None:
        assert not self.wrong, "\n".join(self.wrong)


def _ids(resp: requests.Response) -> set[str]:
    return {s["id"] for s in resp.json()["servers"]} if resp.status_code == 200 else set()


def _wait_gone(cloud: Cloud, server_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while cloud.call("admin", "GET", f"/servers/{server_id}").status_code != 404:
        assert time.monotonic() < deadline, f"{server_id} was not deleted"
        time.sleep(0.2)


def test_server_lists_show_only_the_callers_project(cloud: Cloud):
    m = Matrix(cloud)
    a1, b1 = cloud.servers["a1"], cloud.servers["b1"]
    for path in ("/servers", "/servers/detail"):
        for who in ("member-a", "reader-a"):
            ids = _ids(m.expect(200, who, "GET", path))
            assert a1 in ids and b1 not in ids, (who, path)
            m.expect(403, who, "GET", f"{path}?all_tenants=1")
        ids = _ids(m.expect(200, "member-b", "GET", path))
        assert b1 in ids and a1 not in ids, path
        m.expect(403, "member-b", "GET", f"{path}?all_tenants=1")
        assert not {a1, b1} & _ids(m.expect(200, "admin", "GET", path))
        assert {a1, b1} <= _ids(m.expect(200, "admin", "GET", f"{path}?all_tenants=1"))
    m.check()


def test_every_server_operation_is_isolated(cloud: Cloud):
    m = Matrix(cloud)
    a1 = cloud.servers["a1"]
    base = f"/servers/{a1}"
    rename = {"server": {"name": "a1-renamed"}}
    for who in ("admin", "member-a", "reader-a"):
        m.expect(200, who, "GET", base)
    m.expect(404, "member-b", "GET", base)
    m.expect(200, "member-a", "PUT", base, rename)
    m.expect(200, "admin", "PUT", base, {"server": {"name": "a1"}})
    m.expect(403, "reader-a", "PUT", base, rename)
    m.expect(404, "member-b", "PUT", base, rename)

    for body in ACTIONS.values():
        m.expect(403, "reader-a", "POST", f"{base}/action", body)
        m.expect(404, "member-b", "POST", f"{base}/action", body)
    for name, status in WALK:
        m.expect(202, "member-a", "POST", f"{base}/action", ACTIONS[name])
        cloud.wait_status(a1, status)
    m.expect(202, "admin", "POST", f"{base}/action", {"reboot": {"type": "HARD"}})
    cloud.wait_status(a1, "ACTIVE")
    for who in ("admin", "member-a"):
        resp = m.expect(200, who, "POST", f"{base}/action", ACTIONS["os-getConsoleOutput"])
        assert "output" in resp.json()

    actions = m.expect(200, "member-a", "GET", f"{base}/os-instance-actions").json()
    done = [a["action"] for a in actions["instanceActions"]]
    assert {"create", "stop", "start", "pause", "unpause", "suspend", "resume",
            "reboot"} <= set(done), done
    for who in ("admin", "reader-a"):
        m.expect(200, who, "GET", f"{base}/os-instance-actions")
    m.expect(404, "member-b", "GET", f"{base}/os-instance-actions")
    one = f"{base}/os-instance-actions/{cloud.create_request_id}"
    for who in ("admin", "member-a", "reader-a"):
        resp = m.expect(200, who, "GET", one)
        assert resp.json()["instanceAction"]["action"] == "create"
    m.expect(404, "member-b", "GET", one)

    # create and delete: readers may not, other projects cannot even see the server
    m.expect(403, "reader-a", "POST", "/servers", {"server": {
        "name": "nope", "imageRef": cloud.image_id, "flavorRef": "42"}})
    a2 = cloud.create("member-a", "a2")
    assert a2.status_code == 202, a2.text
    a2_id = a2.json()["server"]["id"]
    cloud.wait_status(a2_id, "ACTIVE")
    m.expect(403, "reader-a", "DELETE", f"/servers/{a2_id}")
    m.expect(404, "member-b", "DELETE", f"/servers/{a2_id}")
    m.expect(204, "member-a", "DELETE", f"/servers/{a2_id}")
    _wait_gone(cloud, a2_id)
    m.check()


def test_admin_only_apis(cloud: Cloud):
    m = Matrix(cloud)
    flavor = {"flavor": {"name": f"kt-{uuid.uuid4().hex[:8]}", "ram": 64, "vcpus": 1,
                         "disk": 1}}
    for who in ("member-a", "reader-a", "member-b"):
        m.expect(403, who, "POST", "/flavors", flavor)
        for path in ("/os-services", "/os-hypervisors", "/os-hypervisors/detail"):
            m.expect(403, who, "GET", path)
    made = m.expect(200, "admin", "POST", "/flavors", flavor).json()["flavor"]
    for who in ("member-a", "reader-a", "member-b"):
        m.expect(403, who, "DELETE", f"/flavors/{made['id']}")
        m.expect(200, who, "GET", f"/flavors/{made['id']}")
    m.expect(202, "admin", "DELETE", f"/flavors/{made['id']}")
    binaries = {s["binary"] for s in m.expect(200, "admin", "GET", "/os-services")
                .json()["services"]}
    assert {"nova-compute", "nova-conductor", "nova-scheduler"} <= binaries
    hypervisors = m.expect(200, "admin", "GET", "/os-hypervisors").json()["hypervisors"]
    assert sorted(h["hypervisor_hostname"] for h in hypervisors) == ["kc1", "kc2", "kc3"]
    for hv in hypervisors:
        m.expect(200, "admin", "GET", f"/os-hypervisors/{hv['id']}")
        for who in ("member-a", "reader-a"):
            m.expect(403, who, "GET", f"/os-hypervisors/{hv['id']}")
    m.check()


def test_bad_tokens_are_401_with_www_authenticate(cloud: Cloud):
    revoked = login(cloud.keystone, "member-a").token
    resp = requests.delete(f"{cloud.keystone.auth_url}/auth/tokens", timeout=30, headers={
        "X-Auth-Token": cloud.logins["admin"].token, "X-Subject-Token": revoked})
    assert resp.status_code == 204
    for label, token in (("none", None), ("garbage", "gAAAAAB-not-a-token"),
                         ("revoked", revoked)):
        for method, path in (("GET", "/servers"), ("DELETE", f"/servers/{cloud.servers['a1']}")):
            resp = cloud.call(None, method, path, token=token)
            assert resp.status_code == 401, (label, method, resp.status_code, resp.text)
            assert resp.headers["WWW-Authenticate"] == (
                f'Keystone uri="{cloud.keystone.www_authenticate_uri}"'), label
            assert resp.json()["unauthorized"]["code"] == 401
    # the version documents stay open: clients discover the API before authenticating
    assert requests.get(f"{cloud.dep.url}/v2.1", timeout=30).status_code == 200


def test_policy_file_changes_apply_without_restart(cloud: Cloud):
    """[oslo_policy] policy_file is re-read when it changes: let readers create servers
    and forbid listing servers, then restore the defaults."""
    body = {"server": {"name": "by-reader", "imageRef": cloud.image_id, "flavorRef": "42"}}
    assert cloud.call("reader-a", "POST", "/servers", body).status_code == 403
    cloud.policy_file.write_text(
        '"os_compute_api:servers:create": "rule:project_reader_or_admin"\n'
        '"os_compute_api:servers:index": "!"\n')
    try:
        resp = _until(lambda: cloud.call("reader-a", "POST", "/servers", body), 202)
        made = resp.json()["server"]["id"]
        assert cloud.call("member-a", "GET", "/servers").status_code == 403
        assert cloud.call("admin", "GET", "/servers").status_code == 403
        assert cloud.call("member-a", "GET", "/servers/detail").status_code == 200
    finally:
        cloud.policy_file.write_text("{}\n")
    _until(lambda: cloud.call("member-a", "GET", "/servers"), 200)
    assert cloud.call("reader-a", "POST", "/servers", body).status_code == 403
    cloud.wait_status(made, "ACTIVE")
    assert cloud.call("member-a", "DELETE", f"/servers/{made}").status_code == 204
    _wait_gone(cloud, made)


def _until(request, status: int, timeout: float = 10) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        resp = request()
        if resp.status_code == status or time.monotonic() > deadline:
            assert resp.status_code == status, resp.text
            return resp
        time.sleep(0.2)
