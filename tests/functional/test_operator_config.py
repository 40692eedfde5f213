"""A deployment configured as operators configure Nova: every daemon on a non-default
[DEFAULT] control_exchange, logging through oslo.log into [DEFAULT] log_dir (one
<program>.log each, lines carrying request ids and [instance: uuid]), /healthcheck, the
Guru Meditation Report on SIGUSR2, nova-lite-status; and inputs at the edge of what the
API accepts still ending ACTIVE (never stuck in BUILD)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import time
from typing import Iterator

import json

import pytest
import requests

from tests.functional import harness
from tests.functional.conftest import require_services

EXCHANGE = "nova-lite-ops-test"


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    require_services()
    workdir = tmp_path_factory.mktemp("opsconf")
    d = harness.Deployment(str(workdir), {"oc1": {}}, api_workers=2,
                           extra_conf=f"[DEFAULT]\ncontrol_exchange = {EXCHANGE}\n"
                                      f"log_dir = {workdir / 'logs'}\n")
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


def _log(dep: harness.Deployment, program: str) -> str:
    with open(os.path.join(dep.workdir, "logs", f"{program}.log")) as f:
        return f.read()


def test_each_daemon_logs_to_its_own_file_with_request_ids(dep, image):
    gid = "req-0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    r = dep.request("POST", "/servers", body={"server": {"name": "logged", "imageRef": image,
                                                          "flavorRef": "1"}},
                    headers={"X-OpenStack-Request-ID": gid})
    assert r.status_code == 202, r.text
    rid, sid = r.headers["x-openstack-request-id"], r.json()["server"]["id"]
    assert r.headers["x-compute-request-id"] == rid
    dep.wait_for_servers([sid], timeout=60)
    for program in ("nova-lite-api", "nova-lite-conductor", "nova-lite-scheduler",
                    "nova-lite-compute"):
        assert "starting nova-" in _log(dep, program), program
    # Nova's context format: [global_request_id request_id user project ...]
    assert f"[{gid} {rid} admin admin" in _log(dep, "nova-lite-api")
    compute = _log(dep, "nova-lite-compute")
    assert f"[{gid} {rid} admin admin" in compute
    assert f"[instance: {sid}]" in compute
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid])


def test_healthcheck_over_http(dep):
    plain = requests.get(dep.url + "/healthcheck", timeout=10)
    assert plain.status_code == 200 and plain.text == "OK"
    detailed = requests.get(dep.url + "/healthcheck", timeout=10,
                            headers={"X-Auth-Token": "admin:admin",
                                     "Accept": "application/json"}).json()
    assert detailed["detailed"] is True
    assert "conductor answered" in detailed["reasons"][0]["details"]
    member = requests.get(dep.url + "/healthcheck", timeout=10,
                          headers={"X-Auth-Token": "u:p", "Accept": "application/json"})
    assert member.json() == {"detailed": False, "reasons": ["OK"]}


def test_guru_meditation_report_on_sigusr2(dep):
    def stdout() -> str:  # the report goes to the daemon's standard error
        with open(os.path.join(dep.workdir, "scheduler.log")) as f:
            return f.read()

    os.kill(dep.procs["scheduler"].pid, signal.SIGUSR2)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "Configuration" not in stdout():
        time.sleep(0.2)
    out = stdout()
    assert "Guru Meditation" in out and "Threads" in out and "Configuration" in out
    assert dep.procs["scheduler"].poll() is None  # the report does not stop the service


def test_status_upgrade_check_as_json(dep):
    res = subprocess.run([os.path.join(harness.BIN, "nova-lite-status"), "--config-file",
                          dep.common_conf, "--config-file", dep.db_conf, "upgrade", "check",
                          "--json"], capture_output=True, text=True, timeout=120)
    out = json.loads(res.stdout)
    assert res.returncode == 0, res.stdout
    assert {c["check"] for c in out["checks"]} == {"Database schema", "Cells v2",
                                                    "Compute hosts"}


def test_api_runs_in_its_workers(dep):
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(dep.procs["api"].pid)],
                              capture_output=True, text=True, timeout=30).stdout.split()
    assert len(children) == 2
    assert _log(dep, "nova-lite-api").count("Compute API listening on") >= 2
    for _ in range(20):  # whichever process the kernel hands each connection to answers
        r = requests.get(dep.url + "/v2.1/flavors", timeout=10,
                         headers={"X-Auth-Token": "admin:admin"})
        assert r.status_code == 200


def test_api_under_gunicorn(dep, image, tmp_path):
    port = harness.free_port()
    env = dict(os.environ, OS_NOVA_LITE_CONFIG_DIR=os.path.dirname(dep.common_conf),
               OS_NOVA_LITE_CONFIG_FILES=os.path.basename(dep.common_conf))
    out = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([os.path.join(harness.BIN, "gunicorn"), "-w", "2", "--threads",
                             "4", "-b", f"127.0.0.1:{port}",
                             "nova_lite.wsgi.osapi_compute:application"],
                            env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/v2.1", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        assert requests.get(url + "/healthcheck", timeout=10).text == "OK"
        h = {"X-Auth-Token": "admin:admin"}
        r = requests.post(url + "/v2.1/servers", headers=h, timeout=30, json={
            "server": {"name": "via-gunicorn", "imageRef": image, "flavorRef": "1"}})
        assert r.status_code == 202, r.text
        sid = r.json()["server"]["id"]
        assert r.headers["x-openstack-request-id"].startswith("req-")
        assert dep.wait_for_servers([sid], timeout=60)[sid]["status"] == "ACTIVE"
        assert requests.delete(f"{url}/v2.1/servers/{sid}", headers=h,
                               timeout=30).status_code == 204
        dep.wait_gone([sid])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        out.close()


def test_placement_api_under_gunicorn(dep, tmp_path):
    """nova_lite.wsgi.placement_api:application reaches the conductor's placement
    namespace on the deployment's non-default exchange."""
    port = harness.free_port()
    env = dict(os.environ, OS_NOVA_LITE_CONFIG_DIR=os.path.dirname(dep.common_conf),
               OS_NOVA_LITE_CONFIG_FILES=os.path.basename(dep.common_conf))
    out = open(tmp_path / "gunicorn-placement.log", "wb")
    proc = subprocess.Popen([os.path.join(harness.BIN, "gunicorn"), "-w", "1", "--threads",
                             "2", "-b", f"127.0.0.1:{port}",
                             "nova_lite.wsgi.placement_api:application"],
                            env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gunicorn-placement.log"
                                                 ).read_text()
            time.sleep(0.3)
        h = {"X-Auth-Token": "admin:admin", "OpenStack-API-Version": "placement 1.39"}
        r = requests.get(url + "/resource_providers", headers=h, timeout=30)
        assert r.status_code == 200, r.text
        assert [p["name"] for p in r.json()["resource_providers"]] == ["oc1"]
        assert r.headers["OpenStack-API-Version"] == "placement 1.39"
        assert r.headers["x-openstack-request-id"].startswith("req-")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        out.close()
