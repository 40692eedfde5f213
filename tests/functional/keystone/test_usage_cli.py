"""`usage list` / `usage show` through unmodified python-openstackclient (a deleted
server counts for the time it lived; another project's member sees none of it), and the
API differences from Nova pinned against the real daemons."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import time

import pytest
import requests

from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _json(proc: subprocess.CompletedProcess) -> object:
    return json.loads(_ok(proc))


def _cli_all(cloud: Cloud, commands: dict) -> dict:
    with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(cloud.cli, *cmd) for k, cmd in commands.items()}
        return {k: f.result() for k, f in futures.items()}


def test_usage_and_api_differences(cloud: Cloud):
    project_a = cloud.logins["member-a"].project_id
    project_b = cloud.logins["member-b"].project_id
    resp = cloud.create("member-a", "short-lived")
    assert resp.status_code == 202, resp.text
    gone = resp.json()["server"]["id"]
    cloud.wait_status(gone, "ACTIVE")
    time.sleep(1)
    assert cloud.call("member-a", "DELETE", f"/servers/{gone}").status_code == 204
    deadline = time.monotonic() + 60
    while cloud.call("member-a", "GET", f"/servers/{gone}").status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.2)

    out = _cli_all(cloud, {
        "list": ("admin", "usage", "list", "-f", "json"),
        "show_a": ("member-a", "usage", "show", "-f", "json"),
        "show_b": ("member-b", "usage", "show", "-f", "json"),
        "b_on_a": ("member-b", "usage", "show", "--project", project_a, "-f", "json"),
        "member_list": ("member-a", "usage", "list", "-f", "json"),
        "stats": ("admin", "hypervisor", "stats", "show", "-f", "json"),
    })
    projects = {row["Project"] for row in _json(out["list"])}
    assert {project_a, project_b} <= projects or {"project-a", "project-b"} <= projects
    show_a = _json(out["show_a"])

    def count(value: object) -> int:  # a number, or the list of servers (newer clients)
        return len(value) if isinstance(value, list) else int(value)

    assert count(show_a["Servers"]) >= 2, show_a  # a1 and the deleted one (at least)
    assert float(show_a["RAM MB-Hours"]) > 0, show_a
    assert count(_json(out["show_b"])["Servers"]) >= 1
    assert out["b_on_a"].returncode != 0 and "403" in out["b_on_a"].stderr
    assert out["member_list"].returncode != 0 and "403" in out["member_list"].stderr
    stats = _json(out["stats"])
    assert stats["count"] == len(cloud.dep.computes) and stats["vcpus"] > 0

    # the deleted server's usage is counted for the time it lived
    resp = cloud.call("member-a", "GET", f"/os-simple-tenant-usage/{project_a}"
                                         "?start=2020-01-01T00:00:00")
    usages = {s["instance_id"]: s for s in resp.json()["tenant_usage"]["server_usages"]}
    assert usages[gone]["state"] == "terminated" and usages[gone]["hours"] > 0
    assert usages[gone]["ended_at"] is not None

    # 2.21: a deleted server's actions stay readable; 2.20: 404
    path = f"/servers/{gone}/os-instance-actions"
    new = cloud.call("member-a", "GET", path, **{"OpenStack-API-Version": "compute 2.21"})
    assert new.status_code == 200, new.text
    assert {a["action"] for a in new.json()["instanceActions"]} >= {"create", "delete"}
    old = cloud.call("member-a", "GET", path, **{"OpenStack-API-Version": "compute 2.20"})
    assert old.status_code == 404
    assert cloud.call("member-b", "GET", path,
                      **{"OpenStack-API-Version": "compute 2.21"}).status_code == 404

    # limit=0 lists nothing; tenant_id without all_tenants is ignored
    assert cloud.call("member-a", "GET", "/servers?limit=0").json()["servers"] == []
    mine = cloud.call("admin", "GET", f"/servers?tenant_id={project_b}").json()["servers"]
    assert cloud.servers["b1"] not in {s["id"] for s in mine}
    # Nova answers GET / with 200
    assert requests.get(cloud.dep.url + "/", timeout=10).status_code == 200
