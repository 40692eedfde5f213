"""Live migration (scheduler's choice, a named host, abort, force complete) and
evacuation of a killed compute through unmodified python-openstackclient, as the cloud
admin with a real Keystone token, against real daemons (fake driver)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

ADMIN = "admin"
V = ("--os-compute-api-version", "2.95")


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _host(cloud: Cloud, sid: str) -> str:
    return cloud.wait_status(sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"]


def _boot(cloud: Cloud, name: str, host: str, *props: str) -> str:
    args = [a for p in props for a in ("--property", p)]
    created = json.loads(_ok(cloud.cli(
        ADMIN, "server", "create", "--flavor", "m1.nano", "--image", cloud.image_id,
        "--nic", "none", "--availability-zone", f"nova:{host}", *args, "--wait",
        "-f", "json", name)))
    assert _host(cloud, created["id"]) == host
    return created["id"]


def _running_migration(cloud: Cloud, sid: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = json.loads(_ok(cloud.cli(ADMIN, *V, "server", "migration", "list",
                                        "--server", sid, "-f", "json")))
        running = [r for r in rows if r["Status"] == "running"
                   and r["Type"] == "live-migration"]
        if running:
            return str(running[0]["Id"])
        time.sleep(0.3)
    raise AssertionError(f"no running live migration of {sid}")


def test_live_migrate_abort_and_force_complete_with_openstackclient(cloud: Cloud):
    sid = _boot(cloud, "cli-live", "kc1", "fake_live_migration_seconds=60")
    # abort: the server stays where it was
    _ok(cloud.cli(ADMIN, *V, "server", "migrate", "--live-migration", "--host", "kc2",
                  sid))
    mid = _running_migration(cloud, sid)
    _ok(cloud.cli(ADMIN, *V, "server", "migration", "abort", sid, mid))
    assert _host(cloud, sid) == "kc1"
    shown = json.loads(_ok(cloud.cli(ADMIN, *V, "server", "migration", "list", "--server",
                                     sid, "-f", "json")))
    assert [r["Status"] for r in shown if str(r["Id"]) == mid] == ["cancelled"]
    # force complete: it lands on kc2 at once
    _ok(cloud.cli(ADMIN, *V, "server", "migrate", "--live-migration", "--host", "kc2",
                  sid))
    mid = _running_migration(cloud, sid)
    _ok(cloud.cli(ADMIN, *V, "server", "migration", "force", "complete", sid, mid))
    assert _host(cloud, sid) == "kc2"
    # a member may not, even their own server
    proc = cloud.cli("member-a", *V, "server", "migrate", "--live-migration",
                     cloud.servers["a1"])
    assert proc.returncode != 0 and "403" in proc.stderr + proc.stdout
    # the scheduler's choice, waited for by the client
    _ok(cloud.cli(ADMIN, *V, "server", "set", "--property",
                  "fake_live_migration_seconds=0", sid))
    _ok(cloud.cli(ADMIN, "server", "migrate", "--live-migration", "--wait", sid))
    assert _host(cloud, sid) != "kc2"
    _ok(cloud.cli(ADMIN, "server", "delete", "--wait", sid))


def _quiet_host(cloud: Cloud) -> str:
    """A host holding none of the shared servers (a restarted fake hypervisor is empty,
    and later tests use those servers)."""
    busy = {cloud.wait_status(sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"]
            for sid in cloud.servers.values()}
    return next(h for h in ("kc1", "kc2", "kc3") if h not in busy)


def test_evacuate_a_killed_compute_with_openstackclient(cloud: Cloud):
    dep = cloud.dep
    victim = _quiet_host(cloud)
    sid = _boot(cloud, "cli-evac", victim)
    # its compute is up: refused
    proc = cloud.cli(ADMIN, *V, "server", "evacuate", sid)
    assert proc.returncode != 0 and "still in use" in proc.stderr + proc.stdout
    dep.stop_proc(f"compute-{victim}", signal.SIGKILL)
    try:
        _ok(cloud.cli(ADMIN, *V, "compute", "service", "set", "--down", victim,
                      "nova-compute"))
        _ok(cloud.cli(ADMIN, *V, "server", "evacuate", sid))
        server = cloud.wait_status(sid, "SHUTOFF")  # 2.95: stopped on its new host
        assert server["OS-EXT-SRV-ATTR:host"] not in (victim, None)
        rows = json.loads(_ok(cloud.cli(ADMIN, *V, "server", "migration", "list",
                                        "--server", sid, "-f", "json")))
        assert [(r["Type"], r["Status"]) for r in rows] == [("evacuation", "done")]
    finally:
        dep.start_proc(f"compute-{victim}", "nova-lite-compute", dep.host_confs[victim])
        _ok(cloud.cli(ADMIN, *V, "compute", "service", "set", "--up", victim,
                      "nova-compute"))
    deadline = time.monotonic() + 60
    while True:
        rows = json.loads(_ok(cloud.cli(ADMIN, *V, "server", "migration", "list",
                                        "--server", sid, "-f", "json")))
        if [r["Status"] for r in rows] == ["completed"]:
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)
    assert f"removing the guest of {sid}: it was evacuated" in dep.logs(f"compute-{victim}")
    _ok(cloud.cli(ADMIN, "server", "delete", "--wait", sid))
