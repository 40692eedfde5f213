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
