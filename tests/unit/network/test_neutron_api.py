"""The Neutron client and network API against an in-memory Neutron (fake transport)."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.network import api as net_api
from nova_lite.network import model
from nova_lite.network.neutron_client import NeutronError
from tests.unit.network.fake_neutron import FakeNeutron

INST = "6c1f0e2a-4b3d-4e5f-8a9b-0c1d2e3f4a5b"
INST2 = "7d2f0e2a-4b3d-4e5f-8a9b-0c1d2e3f4a5c"


@pytest.fixture
def neutron() -> FakeNeutron:
    return FakeNeutron(chassis=("host1",))


@pytest.fixture
def api(neutron: FakeNeutron) -> net_api.NeutronAPI:
    return net_api.NeutronAPI(neutron.client())


def test_client_maps_errors_and_paths(neutron):
    client = neutron.client()
    with pytest.raises(NeutronError) as err:
        client.show_network("nope")
    assert err.value.status == 404 and err.value.neutron_type == "NetworkNotFound"
    net = neutron.add_network("n1", "p1")
    assert client.show_network(net["id"])["name"] == "n1"
    assert [n["id"] for n in client.list_networks(project_id="p1")] == [net["id"]]
    assert client.list_networks(project_id="p2") == []
    assert ("GET", f"/v2.0/networks/{net['id']}") in neutron.requests


def test_allocate_creates_bound_ports_and_the_cache(api, neutron):
    net = neutron.add_network("private", "p1")
    sg = neutron.add_security_group("web", "p1")
    request = {"networks": [{"network_id": net["id"], "port_id": None, "fixed_ip": None,
                             "tag": "nic1"}], "security_groups": ["web"]}
    nw_info = api.allocate_for_instance(INST, "p1", "host1", "nova", request)
    assert len(nw_info) == 1
    vif = nw_info[0]
    port = neutron.ports[vif["id"]]
    assert port["device_id"] == INST and port["device_owner"] == "compute:nova"
    assert port["binding:host_id"] == "host1" and port["security_groups"] == [sg["id"]]
    assert vif["type"] == "ovs" and vif["details"]["bridge_name"] == "br-int"
    assert vif["devname"] == ("tap" + vif["id"])[:14] and vif["tag"] == "nic1"
    assert vif["network"]["label"] == "private" and vif["network"]["mtu"] == 1442
    assert vif["preserve_on_delete"] is False
    assert model.addresses(nw_info) == {"private": [{
        "version": 4, "addr": "10.0.0.10", "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}]}
    # round trip through the cache's JSON text
    assert model.loads(model.dumps(nw_info)) == nw_info


def test_user_port_is_bound_then_only_unbound_on_delete(api, neutron):
    net = neutron.add_network("private", "p1")
    mine = neutron.add_port(net["id"], "p1")
    request = {"networks": [{"network_id": None, "port_id": mine["id"], "fixed_ip": None,
                             "tag": None}, {"network_id": net["id"], "port_id": None,
                                            "fixed_ip": "10.0.0.7", "tag": None}]}
    nw_info = api.allocate_for_instance(INST, "p1", "host1", "az1", request)
    assert [v["preserve_on_delete"] for v in nw_info] == [True, False]
    assert neutron.ports[mine["id"]]["device_owner"] == "compute:az1"
    created = nw_info[1]["id"]
    assert neutron.ports[created]["fixed_ips"][0]["ip_address"] == "10.0.0.7"
    api.deallocate_for_instance(INST, nw_info)
    assert created not in neutron.ports
    kept = neutron.ports[mine["id"]]
    assert kept["device_id"] == "" and kept["binding:host_id"] is None


def test_failed_binding_rolls_everything_back(api, neutron):
    net = neutron.add_network("private", "p1")
    mine = neutron.add_port(net["id"], "p1")
    request = {"networks": [{"network_id": None, "port_id": mine["id"], "fixed_ip": None},
                            {"network_id": net["id"], "port_id": None, "fixed_ip": None}]}
    with pytest.raises(exception.PortBindingFailed):
        api.allocate_for_instance(INST, "p1", "no-such-chassis", "nova", request)
    assert list(neutron.ports) == [mine["id"]]
    assert neutron.ports[mine["id"]]["device_id"] == ""


def test_auto_picks_the_only_network_and_refuses_ambiguity(api, neutron):
    assert api.allocate_for_instance(INST, "p1", "host1", "nova", {"networks": "auto"}) == []
    with pytest.raises(exception.UnableToAutoAllocateNetwork):
        api.validate_request("p1", False, "auto", [], 1)
    api.validate_request("p1", False, "auto", [], 1, explicit_auto=False)  # < 2.37
    shared = neutron.add_network("public-ish", "admin", shared=True)
    neutron.add_network("ext", "admin", shared=True, external=True)
    neutron.add_network("other", "p2")
    nw_info = api.allocate_for_instance(INST, "p1", "host1", "nova", {"networks": "auto"})
    assert [v["network"]["id"] for v in nw_info] == [shared["id"]]
    neutron.add_network("mine", "p1")
    with pytest.raises(exception.NetworkAmbiguous):
        api.validate_request("p1", False, "auto", [], 1)
    assert api.allocate_for_instance(INST2, "p1", "host1", "nova", {"networks": "none"}) == []


def test_validation_errors_are_nova_codes(api, neutron):
    other = neutron.add_network("theirs", "p2")
    mine = neutron.add_network("mine", "p1")
    bare = neutron.add_network("bare", "p1", subnet=False)

    def check(networks, code, text, **kw):
        with pytest.raises(exception.NovaLiteException) as err:
            api.validate_request("p1", False, networks, kw.get("sgs", []),
                                 kw.get("count", 1))
        assert err.value.code == code and text in err.value.format_message()

    check([{"network_id": other["id"]}], 400, f"Network {other['id']} could not be found")
    api.validate_request("p1", True, [{"network_id": other["id"]}], [], 1)  # admin may
    check([{"network_id": bare["id"]}], 400, "requires a subnet")
    used = neutron.add_port(mine["id"], "p1", device_id=INST2)
    check([{"port_id": used["id"]}], 409, f"Port {used['id']} is still in use")
    check([{"port_id": "nope"}], 400, "Port id nope could not be found")
    free = neutron.add_port(mine["id"], "p1")
    check([{"port_id": free["id"]}], 400, "single configured port", count=2)
    check([{"network_id": mine["id"], "fixed_ip": used["fixed_ips"][0]["ip_address"]}],
          400, "already in use")
    check("none", 400, "Security group nosuch not found", sgs=["nosuch"])
    api.validate_request("p1", False, [{"network_id": mine["id"]}], ["default"], 1)


def test_parse_networks():
    assert net_api.parse_networks(None, False) == "auto"
    assert net_api.parse_networks("none", True) == "none"
    net = "3f1c8f2e-9a55-4b8e-8a55-1b2c3d4e5f60"
    assert net_api.parse_networks([{"uuid": net, "fixed_ip": "10.0.0.5", "tag": "t"}], True) \
        == [{"network_id": net, "port_id": None, "fixed_ip": "10.0.0.5", "tag": "t"}]
    for bad in ([{"uuid": "not-a-uuid"}], [{"fixed_ip": "10.0.0.5"}],
                [{"uuid": net, "fixed_ip": "10.0.0.500"}]):
        with pytest.raises(exception.Invalid):
            net_api.parse_networks(bad, True)


def test_security_groups_through_ports(api, neutron):
    net = neutron.add_network("private", "p1")
    web = neutron.add_security_group("web", "p1")
    nw_info = api.allocate_for_instance(INST, "p1", "host1", "nova",
                                        {"networks": [{"network_id": net["id"]}]})
    port = neutron.ports[nw_info[0]["id"]]
    default = port["security_groups"][0]
    api.add_security_group(INST, "p1", "web")
    api.add_security_group(INST, "p1", "web")  # twice: still once
    assert port["security_groups"] == [default, web["id"]]
    assert [g["name"] for g in api.instance_security_groups(INST)] == ["default", "web"]
    api.remove_security_group(INST, "p1", "web")
    assert port["security_groups"] == [default]
    with pytest.raises(exception.SecurityGroupNotExistsForInstance):
        api.remove_security_group(INST, "p1", "web")
    with pytest.raises(exception.SecurityGroupNotFound):
        api.add_security_group(INST, "p1", "nosuch")
    with pytest.raises(exception.SecurityGroupCannotBeApplied):
        api.add_security_group(INST2, "p1", "web")  # no ports


def test_refresh_keeps_order_flags_and_picks_up_new_ports(api, neutron):
    net = neutron.add_network("private", "p1")
    mine = neutron.add_port(net["id"], "p1")
    nw_info = api.allocate_for_instance(INST, "p1", "host1", "nova", {"networks": [
        {"network_id": net["id"], "tag": "a"}, {"port_id": mine["id"]}]})
    neutron.add_port(net["id"], "p1", device_id=INST)
    fresh = api.refresh_network_info(INST, nw_info)
    assert [v["id"] for v in fresh[:2]] == [v["id"] for v in nw_info]
    assert [v["preserve_on_delete"] for v in fresh] == [False, True, False]
    assert fresh[0]["tag"] == "a" and len(fresh) == 3


def test_no_network_backend():
    api = net_api.NoNetworkAPI()
    api.validate_request("p1", False, "auto", ["default"], 1)
    api.validate_request("p1", False, "none", [], 1)
    with pytest.raises(exception.NetworkingUnavailable) as err:
        api.validate_request("p1", False, [{"network_id": "x"}], [], 1)
    assert err.value.code == 400
    with pytest.raises(exception.Invalid):
        api.validate_request("p1", False, "auto", ["web"], 1)
    assert api.allocate_for_instance(INST, "p1", "h", "nova", {"networks": "auto"}) == []
    assert api.bind_host(INST, "h2", []) == [] and api.unbind_host(INST) is None


def test_port_quota_is_checked_before_anything_is_recorded(api, neutron):
    net = neutron.add_network("private", "p1")
    neutron.add_port(net["id"], "p1")
    neutron.port_quota = 3
    nets = [{"network_id": net["id"]}]
    api.validate_request("p1", False, nets, [], 2)
    with pytest.raises(exception.QuotaError) as err:
        api.validate_request("p1", False, nets, [], 3)
    assert err.value.code == 403 and "Maximum number of ports exceeded" in str(err.value)
    api.validate_request("p1", False, "none", [], 30)


def test_ports_follow_the_instance_to_another_host(neutron):
    neutron.chassis.add("host2")
    api = net_api.NeutronAPI(neutron.client())
    net = neutron.add_network("private", "p1")
    nw_info = api.allocate_for_instance(INST, "p1", "host1", "nova",
                                        {"networks": [{"network_id": net["id"]}]})
    port = neutron.ports[nw_info[0]["id"]]
    api.unbind_host(INST)
    assert port["binding:host_id"] is None and port["device_id"] == INST
    moved = api.bind_host(INST, "host2", nw_info)
    assert port["binding:host_id"] == "host2" and moved[0]["type"] == "ovs"
    assert [v["id"] for v in moved] == [v["id"] for v in nw_info]
    with pytest.raises(exception.PortBindingFailed):
        api.bind_host(INST, "nowhere", moved)
