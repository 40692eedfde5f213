"""Lock (2.73 reason), unlock, rebuild, resize confirm/revert, delete --force and restore
through unmodified python-openstackclient with real Keystone tokens and real daemons
(fake driver).

Restore needs deferred delete ([DEFAULT] reclaim_instance_interval > 0), which turns
every DELETE into a soft delete whose server keeps counting against quotas and stays
visible to GET until reclaimed: the shared deployment cannot carry it (other tests
delete servers and check usage, or wait for 404), so that part runs on a small
deployment of its own, started while the rest runs on the shared one. Its compute API
is reached through an endpoint override in a clouds.yaml of its own (the catalog
belongs to the shared deployment).
"""

from __future__ import annotations

import concurrent.futures
import json
import pathlib
import subprocess
import time
from typing import Callable

import pytest
import requests

from tests.functional import accounting, harness
from tests.functional.keystone.conftest import Cloud, login

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

WHO = "member-a"
V273 = ("--os-compute-api-version", "2.73")
FLAVOR_HEADERS = {"OpenStack-API-Version": "compute 2.73"}


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _cli_all(cloud: Cloud, commands: dict) -> dict:
    with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(cloud.cli, *cmd) for k, cmd in commands.items()}
        return {k: f.result() for k, f in futures.items()}


def _show(cloud: Cloud, sid: str) -> dict:
    """The server as an admin sees it at 2.73 (embedded flavor, locked_reason)."""
    resp = cloud.call("admin", "GET", f"/servers/{sid}", **FLAVOR_HEADERS)
    assert resp.status_code == 200, resp.text
    return resp.json()["server"]


def _refused_409(proc: subprocess.CompletedProcess, *words: str) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "409" in text, text
    for word in words:
        assert word in text, text


def _boot(cloud: Cloud, *names: str) -> list[str]:
    out = _cli_all(cloud, {name: (WHO, "server", "create", "--flavor", "m1.nano",
                                  "--image", cloud.image_id, "--nic", "none",
                                  "-f", "json", name) for name in names})
    ids = [json.loads(_ok(out[name]))["id"] for name in names]
    for sid in ids:
        cloud.wait_status(sid, "ACTIVE")
    return ids


def _wait_404(get: Callable[[], requests.Response], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (code := get().status_code) != 404:
        assert code == 200 and time.monotonic() < deadline, code
        time.sleep(0.2)


def _lock_unlock(cloud: Cloud, sid: str) -> None:
    _ok(cloud.cli(WHO, *V273, "server", "lock", "--reason", "maintenance window", sid))
    out = _cli_all(cloud, {
        "show": (WHO, *V273, "server", "show", "-f", "json", sid),
        "reboot": (WHO, "server", "reboot", sid),
        "rebuild": (WHO, "server", "rebuild", "--image", cloud.image_id, sid),
    })
    shown = json.loads(_ok(out["show"]))
    assert shown["locked"] is True and shown["locked_reason"] == "maintenance window"
    _refused_409(out["reboot"], "locked")
    _refused_409(out["rebuild"], "locked")
    # After the owner's refusals: openstackclient's rebuild looks at the status first
    # and gives up by itself (no 409) on a server that is rebooting.
    _ok(cloud.cli("admin", "server", "reboot", sid))  # an admin may act on a locked server
    assert cloud.wait_status(sid, "ACTIVE")
    _ok(cloud.cli(WHO, "server", "unlock", sid))
    server = _show(cloud, sid)
    assert server["locked"] is False and server["locked_reason"] is None


def _rebuild(cloud: Cloud, sid: str) -> None:
    _ok(cloud.cli(WHO, "server", "rebuild", "--image", cloud.image_id, "--name",
                  "rebuilt", "--property", "role=web", sid))
    cloud.wait_status(sid, "ACTIVE")
    server = _show(cloud, sid)
    assert server["name"] == "rebuilt", server
    assert server["metadata"] == {"role": "web"}
    assert server["image"]["id"] == cloud.image_id


def _resize(cloud: Cloud, sid: str) -> None:
    _ok(cloud.cli(WHO, "server", "resize", "--flavor", "m1.micro", sid))
    cloud.wait_status(sid, "VERIFY_RESIZE")
    _ok(cloud.cli(WHO, "server", "resize", "confirm", sid))
    server = cloud.wait_status(sid, "ACTIVE")
    assert _show(cloud, sid)["flavor"]["original_name"] == "m1.micro"
    host = server["OS-EXT-SRV-ATTR:host"]

    _ok(cloud.cli(WHO, "server", "resize", "--flavor", "m1.tiny", sid))
    cloud.wait_status(sid, "VERIFY_RESIZE")
    assert _show(cloud, sid)["flavor"]["original_name"] == "m1.tiny"
    _ok(cloud.cli(WHO, "server", "resize", "revert", sid))
    reverted = cloud.wait_status(sid, "ACTIVE")
    assert _show(cloud, sid)["flavor"]["original_name"] == "m1.micro"
    assert reverted["OS-EXT-SRV-ATTR:host"] == host  # back on its source


def _force_delete(cloud: Cloud, sid: str) -> None:
    _ok(cloud.cli(WHO, "server", "delete", "--force", sid))
    _wait_404(lambda: cloud.call("admin", "GET", f"/servers/{sid}"))


def test_lock_rebuild_resize_force_delete_restore_with_openstackclient(
        cloud: Cloud, tmp_path: pathlib.Path):
    with concurrent.futures.ThreadPoolExecutor(2) as bg:
        restore = bg.submit(_restore_on_own_deployment, cloud, tmp_path)
        sid, doomed = _boot(cloud, "cli-life", "cli-doomed")
        try:
            forced = bg.submit(_force_delete, cloud, doomed)
            _lock_unlock(cloud, sid)
            _rebuild(cloud, sid)
            _resize(cloud, sid)
            forced.result()
        finally:
            cloud.call(WHO, "DELETE", f"/servers/{sid}")
            cloud.call(WHO, "DELETE", f"/servers/{doomed}")
        restore.result()
    cloud.dep.wait_gone([sid])
    accounting.assert_consistent(cloud.dep)


# -- restore: a deployment with deferred delete ------------------------------------------

def _clouds_yaml(cloud: Cloud, path: pathlib.Path, compute_url: str) -> pathlib.Path:
    """The shared clouds.yaml's accounts, with compute at ``compute_url``."""
    text = pathlib.Path(cloud.keystone.clouds_yaml).read_text()
    text = text.replace("    identity_api_version: 3\n",
                        f"    identity_api_version: 3\n"
                        f"    compute_endpoint_override: \"{compute_url}\"\n")
    assert "compute_endpoint_override" in text
    path.write_text(text)
    return path


def _restore_on_own_deployment(cloud: Cloud, workdir: pathlib.Path) -> None:
    ks = cloud.keystone
    dep = harness.Deployment(str(workdir), {"dd1": {}}, auth_strategy="keystone",
                             authtoken=ks.authtoken(),
                             extra_conf=ks.glance_conf()
                             + "[DEFAULT]\nreclaim_instance_interval = 3600\n")
    dep.token = login(ks, "admin").token
    try:
        dep.setup()
        clouds = _clouds_yaml(cloud, workdir / "clouds.yaml", f"{dep.url}/v2.1")

        def cli(who: str, *args: str) -> str:
            name = ks.accounts[who].cloud
            env = dict(ks.env(name), OS_CLIENT_CONFIG_FILE=str(clouds))
            return _ok(subprocess.run([ks.openstack_cli, "--os-cloud", name, *args],
                                      env=env, capture_output=True, text=True,
                                      timeout=120, check=False))

        def status(sid: str, want: str) -> dict:
            deadline = time.monotonic() + 60
            while True:
                server = dep.get(f"/servers/{sid}").json()["server"]
                settled = (server["status"] in (want, "ERROR")
                           and not server.get("OS-EXT-STS:task_state"))
                if settled or time.monotonic() > deadline:
                    return server
                time.sleep(0.2)

        sid = json.loads(cli(WHO, "server", "create", "--flavor", "m1.nano", "--image",
                             cloud.image_id, "--nic", "none", "-f", "json",
                             "cli-restore"))["id"]
        assert status(sid, "ACTIVE")["status"] == "ACTIVE"
        cli(WHO, "server", "delete", sid)
        assert status(sid, "SOFT_DELETED")["status"] == "SOFT_DELETED"
        accounting.assert_consistent(dep, expect_servers=1)  # it keeps its claim
        cli(WHO, "server", "restore", sid)
        assert status(sid, "ACTIVE")["status"] == "ACTIVE"
        cli(WHO, "server", "delete", sid)
        assert status(sid, "SOFT_DELETED")["status"] == "SOFT_DELETED"
        cli(WHO, "server", "delete", "--force", sid)
        _wait_404(lambda: dep.get(f"/servers/{sid}"))
        accounting.assert_consistent(dep, expect_servers=0)
    finally:
        dep.teardown()
