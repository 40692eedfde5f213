"""os-services and os-hypervisors."""

from __future__ import annotations

import uuid

import pytest

from tests.unit.api.conftest import ALICE


@pytest.fixture
def cloud(conductor):
    conductor.add_compute("c1")
    conductor.add_compute("c2", up=False, disabled=True)
    conductor.add_service("ctl", "nova-scheduler")
    conductor.add_service("ctl", "nova-conductor")
    conductor.add_service("ctl", "nova-api")
    return conductor


def test_services_21(client, cloud):
    services = client.get("/v2.1/os-services").json["services"]
    assert [s["binary"] for s in services] == ["nova-compute", "nova-compute",
                                               "nova-scheduler", "nova-conductor"]
    s = services[0]
    assert set(s) == {"id", "binary", "host", "zone", "status", "state", "updated_at",
                      "disabled_reason"}
    assert isinstance(s["id"], int) and s["zone"] == "nova"
    assert (s["status"], s["state"]) == ("enabled", "up")
    assert (services[1]["status"], services[1]["state"]) == ("disabled", "down")
    assert services[1]["disabled_reason"] == "maintenance"
    assert services[2]["zone"] == "internal"


def test_services_253_and_filters(client, cloud):
    services = client.get("/v2.1/os-services?binary=nova-compute&host=c1",
                          version="2.53").json["services"]
    (s,) = services
    uuid.UUID(s["id"])
    assert s["forced_down"] is False
    assert client.get("/v2.1/os-services?foo=1", version="2.75").status_int == 400


def test_services_admin_only(client, cloud):
    assert client.get("/v2.1/os-services", token=ALICE).status_int == 403


STATS = {"vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
         "running_vms", "free_ram_mb", "free_disk_gb", "current_workload",
         "disk_available_least", "cpu_info"}


def test_hypervisors_21(client, cloud):
    hvs = client.get("/v2.1/os-hypervisors").json["hypervisors"]
    assert hvs[0] == {"id": 1, "hypervisor_hostname": "c1.node", "state": "up",
                      "status": "enabled"}
    assert hvs[1]["state"] == "down" and hvs[1]["status"] == "disabled"
    (d, _) = client.get("/v2.1/os-hypervisors/detail").json["hypervisors"]
    assert STATS <= set(d)
    assert d["cpu_info"] == '{"arch": "x86_64"}' and d["free_ram_mb"] == 15360
    assert d["service"] == {"host": "c1", "id": 101, "disabled_reason": None}
    shown = client.get("/v2.1/os-hypervisors/1").json["hypervisor"]
    assert shown == d
    assert client.get("/v2.1/os-hypervisors/99").status_int == 404


def test_hypervisors_253(client, cloud):
    hvs = client.get("/v2.1/os-hypervisors/detail", version="2.53").json["hypervisors"]
    uuid.UUID(hvs[0]["id"])
    uuid.UUID(hvs[0]["service"]["id"])
    assert hvs[0]["cpu_info"] == {"arch": "x86_64"}
    assert client.get(f"/v2.1/os-hypervisors/{hvs[0]['id']}",
                      version="2.53").status_int == 200
    assert client.get("/v2.1/os-hypervisors/1", version="2.53").status_int == 400
    found = client.get("/v2.1/os-hypervisors?hypervisor_hostname_pattern=c2",
                       version="2.53").json["hypervisors"]
    assert [h["hypervisor_hostname"] for h in found] == ["c2.node"]
    assert client.get("/v2.1/os-hypervisors?hypervisor_hostname_pattern=zz",
                      version="2.53").status_int == 404
    page = client.get("/v2.1/os-hypervisors?limit=1", version="2.53").json
    assert len(page["hypervisors"]) == 1 and "hypervisors_links" in page


def test_hypervisors_288(client, cloud):
    (d, _) = client.get("/v2.1/os-hypervisors/detail", version="2.88").json["hypervisors"]
    assert not STATS & set(d)
    assert {"id", "hypervisor_hostname", "state", "status", "host_ip", "hypervisor_type",
            "hypervisor_version", "service", "uptime"} == set(d)


def test_hypervisors_with_servers(client, cloud):
    cloud.add_server(host="c1")
    hvs = client.get("/v2.1/os-hypervisors?with_servers=true",
                     version="2.53").json["hypervisors"]
    assert len(hvs[0]["servers"]) == 1 and "servers" not in hvs[1]


def test_hypervisors_admin_only(client, cloud):
    assert client.get("/v2.1/os-hypervisors", token=ALICE).status_int == 403


def test_hypervisor_uptime(client, cloud):
    got = client.get("/v2.1/os-hypervisors/1/uptime").json["hypervisor"]
    assert got == {"id": 1, "hypervisor_hostname": "c1.node", "state": "up",
                   "status": "enabled", "uptime": " 08:32:11 up 93 days, 18:25, 12 users,  "
                                                  "load average: 0.20, 0.12, 0.14"}
    # c2's compute service is down: Nova answers 400 with the reason.
    resp = client.get("/v2.1/os-hypervisors/2/uptime")
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "Compute service of c2 is unavailable at this time.")
    resp = client.get("/v2.1/os-hypervisors/x/uptime")
    assert resp.json["itemNotFound"]["message"] == "Hypervisor with ID 'x' could not be found."
    hv = client.get("/v2.1/os-hypervisors", version="2.53").json["hypervisors"][0]
    got = client.get(f"/v2.1/os-hypervisors/{hv['id']}/uptime", version="2.53").json
    assert got["hypervisor"]["id"] == hv["id"] and "up 93 days" in got["hypervisor"]["uptime"]
    assert client.get("/v2.1/os-hypervisors/1/uptime", version="2.53").status_int == 400
    assert client.get(f"/v2.1/os-hypervisors/{hv['id']}/uptime",
                      version="2.88").status_int == 404
    assert client.get("/v2.1/os-hypervisors/1/uptime", token=ALICE).status_int == 403


def test_hypervisor_show_288_carries_uptime(client, cloud):
    hvs = client.get("/v2.1/os-hypervisors", version="2.88").json["hypervisors"]
    up = client.get(f"/v2.1/os-hypervisors/{hvs[0]['id']}", version="2.88").json
    assert "load average" in up["hypervisor"]["uptime"]
    down = client.get(f"/v2.1/os-hypervisors/{hvs[1]['id']}", version="2.88").json
    assert down["hypervisor"]["uptime"] is None


def test_hypervisor_search_and_servers_below_253(client, cloud):
    cloud.add_server(host="c1")
    found = client.get("/v2.1/os-hypervisors/C1/search").json["hypervisors"]
    assert found == [{"id": 1, "hypervisor_hostname": "c1.node", "state": "up",
                      "status": "enabled"}]
    both = client.get("/v2.1/os-hypervisors/node/servers").json["hypervisors"]
    assert [len(h.get("servers", [])) for h in both] == [1, 0]
    assert "servers" not in both[1]  # listed only when there are some
    assert set(both[0]["servers"][0]) == {"name", "uuid"}
    for path in ("/v2.1/os-hypervisors/zz/search", "/v2.1/os-hypervisors/zz/servers"):
        resp = client.get(path)
        assert resp.json["itemNotFound"]["message"] == (
            "No hypervisor matching 'zz' could be found.")
        assert client.get(path.replace("zz", "c1"), version="2.53").status_int == 404
        assert client.get(path.replace("zz", "c1"), token=ALICE).status_int == 403


def test_hypervisor_service_shows_disabled_reason(client, cloud):
    (_, d2) = client.get("/v2.1/os-hypervisors/detail").json["hypervisors"]
    assert d2["service"]["disabled_reason"] == "maintenance"
    assert d2["status"] == "disabled"
