"""Console URLs: remote-consoles (2.6+), the legacy os-getVNCConsole action (to 2.5) and
the admin's view of a token at /os-console-auth-tokens/{token}."""

from __future__ import annotations

import pytest

from nova_lite.compute import states

ALICE = "alice:proj-a"
VNC = {"remote_console": {"protocol": "vnc", "type": "novnc"}}


@pytest.fixture
def server(conductor):
    return conductor.add_server(project_id="proj-a")


def test_remote_console_url(client, server, conductor):
    r = client.post(f"/v2.1/servers/{server.uuid}/remote-consoles", VNC, token=ALICE,
                    version="2.6")
    assert r.status_int == 200, r.text
    rc = r.json["remote_console"]
    assert rc["protocol"] == "vnc" and rc["type"] == "novnc"
    assert rc["url"].startswith("http://proxy:6080/vnc_lite.html?path=%3Ftoken%3Dtok-")


@pytest.mark.parametrize("body,ver", [
    ({"remote_console": {"protocol": "spice", "type": "spice-html5"}}, "2.6"),
    ({"remote_console": {"protocol": "vnc", "type": "xvpvnc"}}, "2.6"),
    ({"remote_console": {"protocol": "mks", "type": "webmks"}}, "2.8"),
    ({"remote_console": {"protocol": "vnc", "type": "spice-html5"}}, "2.6"),
])
def test_other_console_types_are_unavailable(client, server, body, ver):
    r = client.post(f"/v2.1/servers/{server.uuid}/remote-consoles", body, token=ALICE,
                    version=ver)
    assert r.status_int == 400, r.text
    assert "Unavailable console type" in r.json["badRequest"]["message"]


@pytest.mark.parametrize("body,ver", [
    ({"remote_console": {"protocol": "vnc"}}, "2.6"),
    ({"remote_console": {"protocol": "mks", "type": "webmks"}}, "2.6"),  # 2.8+
    ({"remote_console": {"protocol": "vnc", "type": "novnc", "x": 1}}, "2.6"),
    ({"console": {}}, "2.6"),
])
def test_bad_bodies_are_400(client, server, body, ver):
    r = client.post(f"/v2.1/servers/{server.uuid}/remote-consoles", body, token=ALICE,
                    version=ver)
    assert r.status_int == 400, r.text


def test_remote_consoles_needs_2_6(client, server):
    r = client.post(f"/v2.1/servers/{server.uuid}/remote-consoles", VNC, version="2.5")
    assert r.status_int == 404


def test_not_running_is_409_and_other_projects_404(client, conductor):
    stopped = conductor.add_server(project_id="proj-a", vm_state=states.STOPPED)
    r = client.post(f"/v2.1/servers/{stopped.uuid}/remote-consoles", VNC, token=ALICE,
                    version="2.6")
    assert r.status_int == 409
    assert r.json["conflictingRequest"]["message"] == f"Instance {stopped.uuid} is not ready"
    mine = conductor.add_server(project_id="proj-a")
    r = client.post(f"/v2.1/servers/{mine.uuid}/remote-consoles", VNC, token="bob:proj-b",
                    version="2.6")
    assert r.status_int == 404


def test_legacy_get_vnc_console(client, server):
    r = client.post(f"/v2.1/servers/{server.uuid}/action",
                    {"os-getVNCConsole": {"type": "novnc"}}, token=ALICE, version="2.5")
    assert r.status_int == 200, r.text
    assert r.json["console"]["type"] == "novnc"
    assert "token%3Dtok-" in r.json["console"]["url"]
    r = client.post(f"/v2.1/servers/{server.uuid}/action",
                    {"os-getVNCConsole": {"type": "novnc"}}, token=ALICE, version="2.6")
    assert r.status_int == 404
    r = client.post(f"/v2.1/servers/{server.uuid}/action",
                    {"os-getVNCConsole": {"type": "bogus"}}, token=ALICE)
    assert r.status_int == 400


def test_console_auth_token_show(client, server, conductor):
    url = client.post(f"/v2.1/servers/{server.uuid}/remote-consoles", VNC, token=ALICE,
                      version="2.6").json["remote_console"]["url"]
    token = url.rsplit("%3D", 1)[1]
    r = client.get(f"/v2.1/os-console-auth-tokens/{token}", version="2.31")
    assert r.status_int == 200, r.text
    assert r.json == {"console": {"instance_uuid": server.uuid, "host": "192.0.2.10",
                                  "port": 5900, "internal_access_path": None}}
    r = client.get(f"/v2.1/os-console-auth-tokens/{token}", version="2.99")
    assert r.json["console"]["tls_port"] is None
    # before 2.31 only rdp-html5 consoles could be looked up
    assert client.get(f"/v2.1/os-console-auth-tokens/{token}").status_int == 400
    assert client.get("/v2.1/os-console-auth-tokens/nope", version="2.31").status_int == 404
    assert client.get(f"/v2.1/os-console-auth-tokens/{token}", token=ALICE,
                      version="2.31").status_int == 403
