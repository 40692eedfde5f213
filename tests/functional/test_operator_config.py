"""A deployment configured as operators configure Nova: every daemon on a non-default
[DEFAULT] control_exchange, and inputs at the edge of what the API accepts still ending
ACTIVE (never stuck in BUILD)."""

from __future__ import annotations

import base64
import subprocess
from typing import Iterator

import pytest

from tests.functional import harness
from tests.functional.conftest import require_services

EXCHANGE = "nova-lite-ops-test"


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    require_services()
    d = harness.Deployment(str(tmp_path_factory.mktemp("opsconf")), {"oc1": {}},
                           extra_conf=f"[DEFAULT]\ncontrol_exchange = {EXCHANGE}\n")
    try:
        d.setup()
        yield d
    finally:
        d.teardown()


@pytest.fixture(scope="module")
def image(dep: harness.Deployment, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("img") / "disk.raw"
    path.write_bytes(b"\0" * 4096)
    return dep.manage("image", "import", "--name", "ops", str(path)).stdout.split()[-1]


def test_every_daemon_talks_on_the_configured_exchange(dep, image):
    exchanges = subprocess.run(["rabbitmqctl", "-q", "list_exchanges", "-p", dep.vhost, "name"],
                               capture_output=True, text=True, timeout=60, check=True).stdout
    assert EXCHANGE in exchanges.split()
    r = dep.post("/servers", {"server": {"name": "on-exchange", "imageRef": image,
                                         "flavorRef": "1"}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    assert dep.wait_for_servers([sid], timeout=60)[sid]["status"] == "ACTIVE"
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid])


def test_values_at_the_edge_still_build(dep, image):
    """Each accepted by Nova's API; each once left a server in BUILD or answered 500."""
    big_user_data = base64.b64encode(b"u" * 49149).decode()  # 65532 characters
    cases = {
        "long-ipv6": {"accessIPv6": "0000:0000:0000:0000:0000:babe:220.12.22.2"},
        "ipv4": {"accessIPv4": "192.0.2.7"},
        "user-data": {"user_data": big_user_data},
        "metadata": {"metadata": {f"k{i:03d}" + "." * 251: "ü" * 255 for i in range(40)}},
        "unicode-name": {"name": "\U0001f600" * 255},
    }
    ids = {}
    for label, extra in cases.items():
        body = {"server": {"name": label, "imageRef": image, "flavorRef": "1", **extra}}
        r = dep.post("/servers", body)
        assert r.status_code == 202, (label, r.status_code, r.text[:500])
        ids[label] = r.json()["server"]["id"]
    servers = dep.wait_for_servers(list(ids.values()), timeout=90)
    for label, sid in ids.items():
        assert servers[sid]["status"] == "ACTIVE", (label, servers[sid].get("fault"))
    assert servers[ids["long-ipv6"]]["accessIPv6"] == "::babe:dc0c:1602"
    assert servers[ids["ipv4"]]["accessIPv4"] == "192.0.2.7"
    assert len(servers[ids["metadata"]]["metadata"]) == 40
    r = dep.request("PUT", f"/servers/{ids['ipv4']}",
                    body={"server": {"accessIPv6": "0:0:0:0:0:0:0:1"}})
    assert r.status_code == 200 and r.json()["server"]["accessIPv6"] == "::1"
    for sid in ids.values():
        assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone(list(ids.values()))
