"""Shelve, unshelve, rescue, unrescue, image create and dump create through unmodified
python-openstackclient, as a project member with a real Keystone token, against real
daemons (fake driver)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

WHO = "member-a"


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _image_status(cloud: Cloud, image_id: str) -> str:
    r = cloud.call(WHO, "GET", f"/images/{image_id}")
    assert r.status_code == 200, r.text
    return r.json()["image"]["status"]


def test_shelve_unshelve_rescue_image_and_dump_with_openstackclient(cloud: Cloud):
    created = json.loads(_ok(cloud.cli(
        WHO, "server", "create", "--flavor", "m1.nano", "--image", cloud.image_id,
        "--nic", "none", "--wait", "-f", "json", "cli-actions")))
    sid = created["id"]
    assert created["status"] == "ACTIVE"

    out = json.loads(_ok(cloud.cli(WHO, "server", "image", "create", "--name",
                                   "cli-snap", "-f", "json", sid)))
    image_id = out["id"]
    deadline = time.monotonic() + 60
    while _image_status(cloud, image_id) != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    image = cloud.call(WHO, "GET", f"/images/{image_id}").json()["image"]
    assert image["name"] == "cli-snap"
    assert image["metadata"]["instance_uuid"] == sid
    assert image["metadata"]["image_type"] == "snapshot"
    cloud.wait_status(sid, "ACTIVE")

    _ok(cloud.cli(WHO, "server", "dump", "create", sid))
    console = cloud.call(WHO, "POST", f"/servers/{sid}/action",
                         {"os-getConsoleOutput": {}}).json()["output"]
    deadline = time.monotonic() + 30
    while "fake NMI received" not in console:
        assert time.monotonic() < deadline, console
        time.sleep(0.3)
        console = cloud.call(WHO, "POST", f"/servers/{sid}/action",
                             {"os-getConsoleOutput": {}}).json()["output"]

    _ok(cloud.cli(WHO, "server", "rescue", sid))
    assert cloud.wait_status(sid, "RESCUE")["OS-EXT-STS:vm_state"] == "rescued"
    _ok(cloud.cli(WHO, "server", "unrescue", sid))
    cloud.wait_status(sid, "ACTIVE")

    _ok(cloud.cli(WHO, "server", "shelve", sid))
    shelved = cloud.wait_status(sid, "SHELVED_OFFLOADED")
    assert shelved["OS-EXT-SRV-ATTR:host"] is None  # (admin view)
    listed = json.loads(_ok(cloud.cli(WHO, "server", "list", "--status",
                                      "SHELVED_OFFLOADED", "-f", "json")))
    assert [s["ID"] for s in listed] == [sid]
    _ok(cloud.cli(WHO, "server", "unshelve", sid))
    cloud.wait_status(sid, "ACTIVE")

    # a reader may look but not act
    proc = cloud.cli("reader-a", "server", "shelve", sid)
    assert proc.returncode != 0 and "403" in proc.stderr + proc.stdout
    _ok(cloud.cli(WHO, "server", "delete", "--wait", sid))
