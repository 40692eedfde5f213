"""Networking through the API, over an in-memory Neutron: create with networks and
security groups, addresses, ips, os-interface, security groups, external events."""

from __future__ import annotations

import json

import pytest

from nova_lite.api import app as api_app
from nova_lite.network import api as net_api
from tests.unit.api.conftest import ADMIN, ALICE, BOB, Client
from tests.unit.network.fake_neutron import FakeNeutron

MAX = "2.100"


@pytest.fixture
def neutron() -> FakeNeutron:
    return FakeNeutron(chassis=("c1",))


@pytest.fixture
def net_client(conf, conductor, images, neutron) -> Client:
    network = net_api.NeutronAPI(neutron.client())
    conductor.compute_network = network
    return Client(api_app.build_app(conf, conductor_api=conductor, image_api=images,
                                    network_api=network))


def _create(client, image_id, networks, token=ALICE, version=MAX, **server):
    body = {"server": dict(name="vm", imageRef=image_id, flavorRef="1", **server)}
    if networks is not None:
        body["server"]["networks"] = networks
    return client.post("/v2.1/servers", body, token=token, version=version)


def _fault(resp) -> str:
    return next(iter(resp.json.values()))["message"]


def test_create_records_the_request_and_checks_networks(net_client, conductor, neutron,
                                                        image_id):
    mine = neutron.add_network("mine", "proj-a")
    theirs = neutron.add_network("theirs", "proj-b")
    neutron.add_security_group("web", "proj-a")
    resp = _create(net_client, image_id, [{"uuid": mine["id"], "tag": "nic"}],
                   security_groups=[{"name": "web"}])
    assert resp.status_int == 202, resp.text
    assert resp.json["server"]["security_groups"] == [{"name": "web"}]
    inst = conductor.servers[resp.json["server"]["id"]]
    assert json.loads(inst.network_request) == {
        "networks": [{"network_id": mine["id"], "port_id": None, "fixed_ip": None,
                      "tag": "nic"}], "security_groups": ["web"]}

    resp = _create(net_client, image_id, [{"uuid": theirs["id"]}])
    assert resp.status_int == 400 and "could not be found" in _fault(resp)
    resp = _create(net_client, image_id, [{"uuid": mine["id"]}],
                   security_groups=[{"name": "nosuch"}])
    assert resp.status_int == 400
    assert _fault(resp) == "Security group nosuch not found."
    used = neutron.add_port(mine["id"], "proj-a", device_id="someone")
    resp = _create(net_client, image_id, [{"port": used["id"]}])
    assert resp.status_int == 409 and "still in use" in _fault(resp)
    neutron.add_network("second", "proj-a")
    resp = _create(net_client, image_id, "auto")
    assert resp.status_int == 409 and "Multiple possible networks" in _fault(resp)
    assert _create(net_client, image_id, "none").status_int == 202


def test_without_neutron_only_none_and_auto(client, image_id):
    assert _create(client, image_id, "auto").status_int == 202
    assert _create(client, image_id, "none").status_int == 202
    assert _create(client, image_id, None, version="2.1").status_int == 202
    resp = _create(client, image_id, [{"uuid": "3f1c8f2e-9a55-4b8e-8a55-1b2c3d4e5f60"}])
    assert resp.status_int == 400 and "no Neutron is configured" in _fault(resp)
    resp = _create(client, image_id, "none", security_groups=[{"name": "web"}])
    assert resp.status_int == 400


def _server_with_port(conductor, neutron):
    net = neutron.add_network("private", "proj-a")
    network = conductor.compute_network
    inst = conductor.add_server()
    vif = network.allocate_port(inst.uuid, "proj-a", "c1", "nova", net["id"], None, None)
    inst.network_info = json.dumps([vif])
    return inst, net, vif


def test_addresses_ips_and_ip_filters(net_client, conductor, neutron):
    inst, net, vif = _server_with_port(conductor, neutron)
    conductor.add_server(name="other")
    resp = net_client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE, version=MAX)
    assert resp.json["server"]["addresses"] == {"private": [{
        "version": 4, "addr": "10.0.0.10", "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": vif["address"]}]}
    resp = net_client.get(f"/v2.1/servers/{inst.uuid}/ips", token=ALICE)
    assert resp.json == {"addresses": {"private": [{"version": 4, "addr": "10.0.0.10"}]}}
    resp = net_client.get(f"/v2.1/servers/{inst.uuid}/ips/private", token=ALICE)
    assert resp.json == {"private": [{"version": 4, "addr": "10.0.0.10"}]}
    assert net_client.get(f"/v2.1/servers/{inst.uuid}/ips/nope",
                          token=ALICE).status_int == 404
    assert net_client.get(f"/v2.1/servers/{inst.uuid}/ips", token=BOB).status_int == 404
    for query, found in (("ip=10.0.0.1", [inst.uuid]), ("ip=10.0.0.10", [inst.uuid]),
                         ("ip=10.0.0.2", []), ("ip6=10.0", [])):
        resp = net_client.get(f"/v2.1/servers?{query}", token=ALICE)
        assert [s["id"] for s in resp.json["servers"]] == found, query


def test_os_interface_list_show_attach_detach(net_client, conductor, neutron):
    inst, net, vif = _server_with_port(conductor, neutron)
    base = f"/v2.1/servers/{inst.uuid}/os-interface"
    resp = net_client.get(base, token=ALICE, version=MAX)
    [att] = resp.json["interfaceAttachments"]
    assert att["port_id"] == vif["id"] and att["net_id"] == net["id"]
    assert att["mac_addr"] == vif["address"] and att["tag"] is None
    assert att["fixed_ips"][0]["ip_address"] == "10.0.0.10"
    assert net_client.get(f"{base}/{vif['id']}", token=ALICE).json[
        "interfaceAttachment"]["port_id"] == vif["id"]
    assert net_client.get(f"{base}/nope", token=ALICE).status_int == 404

    mine = neutron.add_port(net["id"], "proj-a")
    resp = net_client.post(base, {"interfaceAttachment": {"port_id": mine["id"]}},
                           token=ALICE, version=MAX)
    assert resp.status_int == 200, resp.text
    assert resp.json["interfaceAttachment"]["port_id"] == mine["id"]
    assert neutron.ports[mine["id"]]["device_id"] == inst.uuid
    resp = net_client.post(base, {"interfaceAttachment": {"net_id": net["id"],
                                                          "fixed_ips": [{"ip_address":
                                                                         "10.0.0.9"}]}},
                           token=ALICE, version=MAX)
    assert resp.status_int == 200, resp.text
    created = resp.json["interfaceAttachment"]["port_id"]
    assert len(net_client.get(base, token=ALICE).json["interfaceAttachments"]) == 3
    # errors: in use, both ids, unknown port, another project's network
    assert net_client.post(base, {"interfaceAttachment": {"port_id": mine["id"]}},
                           token=ALICE).status_int == 409
    assert net_client.post(base, {"interfaceAttachment": {"port_id": mine["id"],
                                                          "net_id": net["id"]}},
                           token=ALICE).status_int == 400
    assert net_client.post(base, {"interfaceAttachment": {
        "port_id": "3f1c8f2e-9a55-4b8e-8a55-1b2c3d4e5f60"}}, token=ALICE).status_int == 404
    theirs = neutron.add_network("theirs", "proj-b")
    assert net_client.post(base, {"interfaceAttachment": {"net_id": theirs["id"]}},
                           token=ALICE).status_int == 404

    assert net_client.delete(f"{base}/{mine['id']}", token=ALICE).status_int == 202
    assert neutron.ports[mine["id"]]["device_id"] == ""  # the user's port: only unbound
    assert net_client.delete(f"{base}/{created}", token=ALICE).status_int == 202
    assert created not in neutron.ports  # ours: deleted
    assert net_client.delete(f"{base}/{created}", token=ALICE).status_int == 404


def test_security_groups_of_a_server(net_client, conductor, neutron):
    inst, net, vif = _server_with_port(conductor, neutron)
    web = neutron.add_security_group("web", "proj-a")
    action = f"/v2.1/servers/{inst.uuid}/action"
    assert net_client.post(action, {"addSecurityGroup": {"name": "web"}},
                           token=ALICE).status_int == 202
    resp = net_client.get(f"/v2.1/servers/{inst.uuid}/os-security-groups", token=ALICE)
    groups = {g["name"]: g for g in resp.json["security_groups"]}
    assert set(groups) == {"default", "web"}
    assert groups["web"]["id"] == web["id"] and groups["web"]["tenant_id"] == "proj-a"
    assert groups["web"]["rules"][0]["ip_protocol"] == "icmp"
    assert groups["web"]["rules"][0]["ip_range"] == {"cidr": "0.0.0.0/0"}
    assert net_client.post(action, {"removeSecurityGroup": {"name": "web"}},
                           token=ALICE).status_int == 202
    resp = net_client.post(action, {"removeSecurityGroup": {"name": "web"}}, token=ALICE)
    assert resp.status_int == 400 and "not associated" in _fault(resp)
    resp = net_client.post(action, {"addSecurityGroup": {"name": "nosuch"}}, token=ALICE)
    assert resp.status_int == 404
    assert net_client.post(action, {"addSecurityGroup": {}}, token=ALICE).status_int == 400


def test_external_events(net_client, conductor):
    on_host = conductor.add_server()
    building = conductor.add_server(host=None, vm_state="building")
    url = "/v2.1/os-server-external-events"
    ev = {"name": "network-vif-plugged", "server_uuid": on_host.uuid, "tag": "p1",
          "status": "completed"}
    assert net_client.post(url, {"events": [ev]}, token=ALICE).status_int == 403
    resp = net_client.post(url, {"events": [ev]}, token=ADMIN)
    assert resp.status_int == 200 and resp.json["events"][0]["code"] == 200
    assert conductor.events == [ev]
    resp = net_client.post(url, {"events": [ev, dict(ev, server_uuid=building.uuid),
                                            dict(ev, server_uuid="3f1c8f2e-9a55-4b8e-8a55-"
                                                                 "1b2c3d4e5f60")]},
                           token=ADMIN)
    assert resp.status_int == 207
    assert [e["code"] for e in resp.json["events"]] == [200, 422, 404]
    assert resp.json["events"][1]["status"] == "failed"
    resp = net_client.post(url, {"events": [dict(ev, server_uuid="3f1c8f2e-9a55-4b8e-8a55-"
                                                                 "1b2c3d4e5f60")]},
                           token=ADMIN)
    assert resp.status_int == 404
    # names by microversion; no status defaults to completed (Neutron's vif-deleted)
    power = dict(ev, name="power-update")
    assert net_client.post(url, {"events": [power]}, token=ADMIN,
                           version="2.75").status_int == 400
    assert net_client.post(url, {"events": [power]}, token=ADMIN,
                           version="2.76").status_int == 200
    deleted = {"name": "network-vif-deleted", "server_uuid": on_host.uuid, "tag": "p1"}
    resp = net_client.post(url, {"events": [deleted]}, token=ADMIN)
    assert resp.json["events"][0]["status"] == "completed"
    assert net_client.post(url, {"events": []}, token=ADMIN).status_int == 400


def test_volume_extended_needs_the_volume_id_as_its_tag(net_client, conductor):
    server = conductor.add_server()
    url = "/v2.1/os-server-external-events"
    ev = {"name": "volume-extended", "server_uuid": server.uuid}
    assert net_client.post(url, {"events": [ev]}, token=ADMIN,
                           version="2.50").status_int == 400  # not a name before 2.51
    resp = net_client.post(url, {"events": [ev, dict(ev, tag="vol-1")]}, token=ADMIN,
                           version="2.51")
    assert resp.status_int == 207
    assert [(e["code"], e["status"]) for e in resp.json["events"]] == [
        (400, "failed"), (200, "completed")]
    assert conductor.events == [dict(ev, tag="vol-1", status="completed")]


def test_volume_reimaged_from_2_93_with_the_volume_id_as_its_tag(net_client, conductor):
    """Cinder's event at the end of a re-image (it posts at 2.93)."""
    server = conductor.add_server()
    url = "/v2.1/os-server-external-events"
    ev = {"name": "volume-reimaged", "server_uuid": server.uuid, "status": "failed"}
    assert net_client.post(url, {"events": [dict(ev, tag="vol-1")]}, token=ADMIN,
                           version="2.92").status_int == 400  # not a name before 2.93
    resp = net_client.post(url, {"events": [ev, dict(ev, tag="vol-1")]}, token=ADMIN,
                           version="2.93")
    assert resp.status_int == 207
    assert [(e["code"], e["status"]) for e in resp.json["events"]] == [
        (400, "failed"), (200, "failed")]
    assert conductor.events == [dict(ev, tag="vol-1")]
