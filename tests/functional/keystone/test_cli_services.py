"""Compute services and hypervisors through unmodified python-openstackclient as an
operator would use them: list, disable with a reason, enable, force down and up,
hypervisor list/show, and deleting a retired host (refused while it has a server).

The shared deployment's hosts stay as they are: the test brings its own host, kc9."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

HOST = "kc9"


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _services(cloud: Cloud, *args: str) -> dict:
    rows = json.loads(_ok(cloud.cli("admin", "compute", "service", "list", "--service",
                                    "nova-compute", "-f", "json", *args)))
    return {r["Host"]: r for r in rows}


def _set(cloud: Cloud, *args: str) -> None:
    _ok(cloud.cli("admin", "compute", "service", "set", *args, HOST, "nova-compute"))


def test_service_and_hypervisor_commands(cloud: Cloud) -> None:
    dep = cloud.dep
    dep.add_compute(HOST)
    retired = False
    try:
        services = _services(cloud, "--long")
        assert {"kc1", "kc2", "kc3", HOST} <= set(services)
        assert (services[HOST]["Status"], services[HOST]["State"]) == ("enabled", "up")

        _set(cloud, "--disable", "--disable-reason", "cli maintenance", "--down")
        row = _services(cloud, "--long")[HOST]
        assert (row["Status"], row["Disabled Reason"]) == ("disabled", "cli maintenance")
        assert (row["State"], row["Forced Down"]) == ("down", True)
        shown = json.loads(_ok(cloud.cli("admin", "hypervisor", "show", HOST, "-f", "json")))
        assert shown["status"] == "disabled" and shown["state"] == "down"

        _set(cloud, "--enable", "--up")
        svc = cloud.call("admin", "GET", f"/os-services?host={HOST}",
                         **{"OpenStack-API-Version": "compute 2.53"}).json()["services"][0]
        assert (svc["status"], svc["state"], svc["disabled_reason"], svc["forced_down"]) == (
            "enabled", "up", None, False)
        shown = json.loads(_ok(cloud.cli("admin", "hypervisor", "show", HOST, "-f", "json")))
        # The client splits the host's uptime line into its parts.
        assert shown["state"] == "up" and shown["host_time"] and shown["uptime"]
        assert "load_average" in shown

        # Only an operator may look or touch.
        denied = cloud.cli("member-a", "compute", "service", "list")
        assert denied.returncode != 0 and "403" in denied.stderr, denied.stderr

        # A host with a server cannot be deleted; once empty and stopped, it can.
        server = json.loads(_ok(cloud.cli(
            "admin", "server", "create", "--flavor", "m1.nano", "--image", cloud.image_id,
            "--nic", "none", "--availability-zone", f"nova:{HOST}", "--wait", "-f", "json",
            "on-kc9")))
        assert server["OS-EXT-SRV-ATTR:host"] == HOST
        sid = row["ID"]
        refused = cloud.cli("admin", "compute", "service", "delete", sid)
        assert refused.returncode != 0 and "hosting instances" in refused.stderr, (
            refused.stderr)
        _ok(cloud.cli("admin", "server", "delete", "--wait", server["id"]))
        dep.stop_proc(f"compute-{HOST}")
        _ok(cloud.cli("admin", "compute", "service", "delete", sid))
        retired = True
        assert HOST not in _services(cloud)
        assert HOST not in {h["Hypervisor Hostname"] for h in json.loads(_ok(cloud.cli(
            "admin", "hypervisor", "list", "-f", "json")))}
    finally:
        if not retired:  # leave the shared deployment as it was
            left = [s["id"] for s in cloud.call(
                "admin", "GET", f"/servers?all_tenants=1&host={HOST}").json()["servers"]]
            for server_id in left:
                cloud.call("admin", "DELETE", f"/servers/{server_id}")
            dep.wait_gone(left)
            dep.stop_proc(f"compute-{HOST}")
            for svc in cloud.call("admin", "GET", f"/os-services?host={HOST}",
                                  **{"OpenStack-API-Version": "compute 2.53"}
                                  ).json().get("services", []):
                cloud.call("admin", "DELETE", f"/os-services/{svc['id']}",
                           **{"OpenStack-API-Version": "compute 2.53"})
        dep.computes.pop(HOST, None)
