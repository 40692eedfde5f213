"""Quotas and limits through unmodified python-openstackclient, real Keystone tokens and
real daemons: `quota show`, `quota set --instances 2` then a refused third server, and
`limits show --absolute`, as the project's member and as an admin."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import time

import pytest

from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _json(proc: subprocess.CompletedProcess) -> object:
    return json.loads(_ok(proc))


def _rows(out: object) -> dict:
    """`-f json` of a show command: a dict, or rows of Resource/Limit (quota show) or
    Name/Value (limits show)."""
    if isinstance(out, dict):
        return out
    assert isinstance(out, list), out
    if out and "Resource" in out[0]:
        return {r["Resource"]: r["Limit"] for r in out}
    return {r["Name"]: r["Value"] for r in out}


def _cli_all(cloud: Cloud, commands: dict) -> dict:
    with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(cloud.cli, *cmd) for k, cmd in commands.items()}
        return {k: f.result() for k, f in futures.items()}


def _servers(cloud: Cloud, who: str, timeout: float = 60) -> dict[str, int]:
    """``who``'s servers (id: flavor RAM) once none is being deleted: a server an earlier
    test deleted still counts against the quota until its delete ends."""
    deadline = time.monotonic() + timeout
    while True:
        resp = cloud.call(who, "GET", "/servers/detail",
                          **{"OpenStack-API-Version": "compute 2.47"})
        assert resp.status_code == 200, resp.text
        servers = resp.json()["servers"]
        if not any(s["OS-EXT-STS:task_state"] == "deleting" for s in servers):
            return {s["id"]: s["flavor"]["ram"] for s in servers}
        assert time.monotonic() < deadline, servers
        time.sleep(0.5)


def test_quota_set_then_third_server_is_refused(cloud: Cloud):
    project_a = cloud.logins["member-a"].project_id
    mine = _servers(cloud, "member-a")
    assert len(mine) <= 2, mine
    _ok(cloud.cli("admin", "quota", "set", "--instances", "2", project_a))
    made: list[str] = []
    try:
        while len(mine) + len(made) < 2:
            resp = cloud.create("member-a", f"q{len(made)}")
            assert resp.status_code == 202, resp.text
            made.append(resp.json()["server"]["id"])
        out = _cli_all(cloud, {
            "third": ("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                      cloud.image_id, "--nic", "none", "third"),
            "show": ("member-a", "quota", "show", "--compute", "-f", "json", project_a),
            "usage": ("member-a", "quota", "show", "--compute", "--usage", "-f", "json",
                      project_a),
            "admin_show": ("admin", "quota", "show", "--compute", "-f", "json", project_a),
            "other": ("member-b", "quota", "show", "--compute", "-f", "json", project_a),
            "limits": ("member-a", "limits", "show", "--absolute", "-f", "json"),
            "admin_limits": ("admin", "limits", "show", "--absolute", "--project",
                             project_a, "-f", "json"),
        })
        third = out["third"]
        assert third.returncode != 0
        assert ("Quota exceeded for instances: Requested 1, but already used 2 of 2 "
                "instances") in third.stderr, third.stderr
        assert "403" in third.stderr
        assert "third" not in {s["name"] for s in
                               cloud.call("member-a", "GET", "/servers").json()["servers"]}

        shown = _rows(_json(out["show"]))
        assert shown["instances"] == 2 and shown["cores"] == 1000000
        assert _rows(_json(out["admin_show"]))["instances"] == 2
        usage = {r["Resource"]: r for r in _json(out["usage"])}
        assert usage["instances"]["Limit"] == 2 and usage["instances"]["In Use"] == 2
        assert out["other"].returncode != 0 and "403" in out["other"].stderr

        for key in ("limits", "admin_limits"):
            limits = _rows(_json(out[key]))
            # openstackclient names them after openstacksdk's attributes
            assert limits.get("instances") == 2, (key, out[key].stdout)
            assert limits.get("instances_used") == 2, (key, out[key].stdout)
            assert limits.get("total_ram_used") == sum(mine.values()) + 128 * len(made), (
                key, out[key].stdout)
            assert limits.get("keypairs") == 100, (key, out[key].stdout)
        # a member may not read another project's limits
        resp = cloud.call("member-b", "GET", f"/limits?tenant_id={project_a}")
        assert resp.status_code == 403
    finally:
        for server_id in made:
            cloud.call("member-a", "DELETE", f"/servers/{server_id}")
        assert cloud.call("admin", "DELETE", f"/os-quota-sets/{project_a}").status_code == 202
    assert cloud.call("admin", "GET", f"/os-quota-sets/{project_a}"
                      ).json()["quota_set"]["instances"] == 100000
