"""Server groups through unmodified python-openstackclient, against Keystone and real
daemons: anti-affinity over the three hosts, an explained failure for a fourth server,
project isolation and the reader's limits."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess

import pytest

from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _json(proc: subprocess.CompletedProcess) -> object:
    return json.loads(_ok(proc))


def _parallel(cloud: Cloud, commands: dict) -> dict:
    with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(cloud.cli, *cmd) for k, cmd in commands.items()}
        return {k: f.result() for k, f in futures.items()}


def _boot(cloud: Cloud, who: str, name: str, *extra: str) -> str:
    return _json(cloud.cli(who, "server", "create", "--flavor", "m1.nano", "--image",
                           cloud.image_id, "--nic", "none", *extra, "-f", "json",
                           name))["id"]


@pytest.mark.parametrize("who", ["member-a", "admin"])
def test_anti_affinity_spreads_over_three_hosts_and_explains_the_fourth(cloud: Cloud,
                                                                        who: str):
    group = _json(cloud.cli(who, "server", "group", "create", "--policy", "anti-affinity",
                            "-f", "json", f"spread-{who}"))
    assert group["policy"] == "anti-affinity"
    names = [f"aa-{who}-{n}" for n in range(3)]
    created = _parallel(cloud, {n: (who, "server", "create", "--flavor", "m1.nano",
                                    "--image", cloud.image_id, "--nic", "none", "--hint",
                                    f"group={group['id']}", "-f", "json", n)
                                for n in names})
    ids = [json.loads(_ok(created[n]))["id"] for n in names]
    hosts = [cloud.wait_status(i, "ACTIVE")["OS-EXT-SRV-ATTR:host"] for i in ids]
    assert sorted(hosts) == ["kc1", "kc2", "kc3"]

    fourth = _boot(cloud, who, f"aa-{who}-3", "--hint", f"group={group['id']}")
    failed = cloud.wait_status(fourth, "ERROR")
    message = failed["fault"]["message"]
    assert message.startswith("No valid host was found. 3 host(s) considered, 3 rejected.")
    assert "ServerGroupAntiAffinityFilter" in message and "anti-affinity" in message
    assert group["id"] in message

    shown = _json(cloud.cli(who, "server", "group", "show", "-f", "json", group["id"]))
    assert sorted(shown["members"].split(", ") if isinstance(shown["members"], str)
                  else shown["members"]) == sorted(ids + [fourth])
    server = cloud.call(who, "GET", f"/servers/{ids[0]}",
                        **{"OpenStack-API-Version": "compute 2.71"}).json()["server"]
    assert server["server_groups"] == [group["id"]]

    _ok(cloud.cli(who, "server", "delete", "--wait", *ids, fourth))
    _ok(cloud.cli(who, "server", "group", "delete", group["id"]))
    assert cloud.call(who, "GET", f"/os-server-groups/{group['id']}").status_code == 404


def test_groups_are_private_to_their_project(cloud: Cloud):
    group = _json(cloud.cli("member-a", "server", "group", "create", "--policy", "affinity",
                            "-f", "json", "private-a"))
    out = _parallel(cloud, {
        "b-list": ("member-b", "server", "group", "list", "-f", "json"),
        "b-show": ("member-b", "server", "group", "show", group["id"]),
        "b-delete": ("member-b", "server", "group", "delete", group["id"]),
        "reader-list": ("reader-a", "server", "group", "list", "-f", "json"),
        "reader-create": ("reader-a", "server", "group", "create", "--policy", "affinity",
                          "nope"),
        "admin-all": ("admin", "server", "group", "list", "--all-projects", "-f", "json"),
    })
    assert group["id"] not in {g["ID"] for g in json.loads(_ok(out["b-list"]))}
    assert out["b-show"].returncode != 0 and out["b-delete"].returncode != 0
    assert group["id"] in {g["ID"] for g in json.loads(_ok(out["reader-list"]))}
    assert out["reader-create"].returncode != 0 and "403" in out["reader-create"].stderr
    assert group["id"] in {g["ID"] for g in json.loads(_ok(out["admin-all"]))}
    # a member of another project cannot boot into it either
    resp = cloud.call("member-b", "POST", "/servers", {
        "server": {"name": "x", "imageRef": cloud.image_id, "flavorRef": "42"},
        "os:scheduler_hints": {"group": group["id"]}})
    assert resp.status_code == 400 and "badRequest" in resp.json()
    _ok(cloud.cli("member-a", "server", "group", "delete", group["id"]))
