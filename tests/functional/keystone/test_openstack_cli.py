"""python-openstackclient, unmodified, against a real deployment behind a real Keystone.

The client finds the API (and the image endpoint it resolves image names with) in the
Keystone catalog, which the ``cloud`` fixture points at this deployment. Each CLI start
costs ~1.5 s, so the read-only commands run concurrently.
"""

from __future__ import annotations

import concurrent.futures
import json
import pathlib
import subprocess

import pytest

from tests.functional.keystone.conftest import GLOBAL_REQUEST_ID, Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _json(proc: subprocess.CompletedProcess) -> object:
    return json.loads(_ok(proc))


def test_server_lifecycle_and_admin_listings(cloud: Cloud):
    # `--nic none` (or --no-network) asks for no network; `--network none` would look for
    # a network named "none", with any Nova.
    created = _json(cloud.cli("member-a", "server", "create", "--flavor", "m1.nano",
                              "--image", cloud.image_id, "--nic", "none", "-f", "json",
                              "cli-vm"))
    server_id = created["id"]
    assert created["name"] == "cli-vm"
    cloud.wait_status(server_id, "ACTIVE")

    commands = {
        "list": ("member-a", "server", "list", "-f", "json"),
        "show": ("member-a", "server", "show", "cli-vm", "-f", "json"),
        "flavors": ("reader-a", "flavor", "list", "-f", "json"),
        "services": ("admin", "compute", "service", "list", "-f", "json"),
        "hypervisors": ("admin", "hypervisor", "list", "-f", "json"),
        "all": ("admin", "server", "list", "--all-projects", "--long", "-f", "json"),
    }
    with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(cloud.cli, *cmd) for k, cmd in commands.items()}
        out = {k: _json(f.result()) for k, f in futures.items()}

    mine = {s["ID"]: s for s in out["list"]}
    assert set(mine) == {server_id, cloud.servers["a1"]}
    # the image name comes from the catalog's image endpoint: Glance
    assert mine[server_id]["Image"] == cloud.image_name
    assert mine[server_id]["Flavor"] == "m1.nano" and mine[server_id]["Status"] == "ACTIVE"

    shown = out["show"]
    assert shown["id"] == server_id and shown["status"] == "ACTIVE"
    assert shown["project_id"] == cloud.logins["member-a"].project_id
    assert shown["image"] == f"{cloud.image_name} ({cloud.image_id})"

    assert "m1.nano" in {f["Name"] for f in out["flavors"]}
    computes = [s for s in out["services"] if s["Binary"] == "nova-compute"]
    assert sorted(s["Host"] for s in computes) == ["kc1", "kc2", "kc3"]
    assert {s["State"] for s in out["services"]} == {"up"}
    assert sorted(h["Hypervisor Hostname"] for h in out["hypervisors"]) == [
        "kc1", "kc2", "kc3"]

    everyone = {s["ID"]: s for s in out["all"]}
    assert {server_id, *cloud.servers.values()} <= set(everyone)
    assert everyone[cloud.servers["b1"]]["Project ID"] == cloud.logins["member-b"].project_id

    _ok(cloud.cli("member-a", "server", "delete", "--wait", server_id))
    assert cloud.call("member-a", "GET", f"/servers/{server_id}").status_code == 404


def test_request_context_reaches_every_service(cloud: Cloud):
    """The create of a1 (member-a, with a global request id) logs under the API's request
    id, the caller's global request id, user and project in every service it crossed."""
    rid = cloud.create_request_id
    member = cloud.logins["member-a"]
    # oslo.log's context prefix: [global_request_id request_id user project ...]
    tag = f"[{GLOBAL_REQUEST_ID} {rid} {member.user_id} {member.project_id} "
    workdir = pathlib.Path(cloud.dep.workdir)
    logs = {p.stem: p.read_text() for p in workdir.glob("*.log")}
    assert tag in logs["api"]
    assert tag in logs["scheduler"]
    compute_lines = [line for name, text in logs.items() if name.startswith("compute-")
                     for line in text.splitlines() if tag in line]
    assert any(cloud.servers["a1"] in line and "spawned" in line for line in compute_lines)
    # the instance action is recorded under the same request id, by the same user
    actions = cloud.call("member-a", "GET",
                         f"/servers/{cloud.servers['a1']}/os-instance-actions").json()
    [create] = [a for a in actions["instanceActions"] if a["action"] == "create"]
    assert create["request_id"] == rid and create["user_id"] == member.user_id
