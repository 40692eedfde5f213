"""Unmodified python-openstackclient, Keystone, the real Neutron and nova_lite together.

A member creates a network and a subnet, boots a server on it (``--network NET --wait``),
sees its address in ``server show``, adds and removes a port and a security group. The
compute host runs the fake driver (no guest to wait for) under the OVN chassis' name, so
Neutron really binds its ports.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from typing import Any, Iterator

import pytest

from tests.functional import harness
from tests.functional.keystone.conftest import (Cloud, _setup_glance, _setup_keystone,
                                                catalog_lock, glance_delete, login)
from tests.functional.neutron.conftest import CHASSIS, neutron_lock, nova_neutron_conf

# The module's deployment waits for the Neutron and catalog locks other tests may hold,
# and every CLI start costs seconds: more than the default per-test timeout.
pytestmark = [pytest.mark.keystone, pytest.mark.slow, pytest.mark.timeout(1800)]


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _json(proc: subprocess.CompletedProcess) -> Any:
    return json.loads(_ok(proc))


@pytest.fixture(scope="module")
def net_cloud(neutron_stack: str, keystone_env: Any, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Cloud]:
    if not harness.mariadb_available() or not harness.rabbit_available():
        pytest.skip("MariaDB or RabbitMQ is not reachable")
    workdir = tmp_path_factory.mktemp("neutron-cli")
    policy_file = workdir / "policy.yaml"
    policy_file.write_text("{}\n")
    dep = harness.Deployment(
        str(workdir), {CHASSIS: {}}, auth_strategy="keystone",
        authtoken=keystone_env.authtoken(),
        extra_conf=f"[oslo_policy]\npolicy_file = {policy_file}\n"
                   + nova_neutron_conf(keystone_env) + keystone_env.glance_conf())
    logins = {who: login(keystone_env, who) for who in keystone_env.accounts}
    dep.token = logins["admin"].token
    with neutron_lock(), catalog_lock():
        image_id, glance_url = None, None
        try:
            # Images come from Glance, the catalog's image endpoint (openstackclient
            # looks --image up there).
            proc = _setup_glance()
            assert proc.returncode == 0, proc.stderr[-2000:]
            glance_url = proc.stdout.strip().splitlines()[-1]
            dep.setup()
            disk = workdir / "disk.raw"
            disk.write_bytes(b"\0" * 4096)
            image = dep.manage("image", "import", "--name", f"neutron-cli-image-{dep.run_id}",
                               str(disk))
            image_id = image.stdout.strip().splitlines()[-1]
            _setup_keystone(f"{dep.url}/v2.1")
            yield Cloud(dep, keystone_env, image_id, policy_file, logins)
        finally:
            dep.teardown()
            if image_id and glance_url:
                glance_delete(glance_url, login(keystone_env, "admin").token, image_id)
            _setup_keystone(None)


def _wait_port(cloud: Cloud, port: str, device_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = _json(cloud.cli("member-a", "port", "show", port, "-f", "json"))
        if shown["device_id"] == device_id:
            return shown
        assert time.monotonic() < deadline, shown
        time.sleep(1)


def test_network_server_port_and_security_group_with_openstackclient(net_cloud: Cloud):
    cloud = net_cloud
    tag = uuid.uuid4().hex[:6]
    net, sub, sg, port = f"nl-net-{tag}", f"nl-sub-{tag}", f"nl-sg-{tag}", f"nl-port-{tag}"
    cleanup = [("subnet", sub), ("network", net)]
    try:
        network = _json(cloud.cli("member-a", "network", "create", net, "-f", "json"))
        _ok(cloud.cli("member-a", "subnet", "create", "--network", net, "--subnet-range",
                      "10.43.0.0/28", sub, "-f", "json"))
        server = _json(cloud.cli("member-a", "server", "create", "--flavor", "m1.nano",
                                 "--image", cloud.image_id, "--network", net, "--wait",
                                 "-f", "json", f"vm-{tag}", timeout=300))
        sid = server["id"]
        cleanup.insert(0, ("server", sid))
        assert server["status"] == "ACTIVE"
        shown = _json(cloud.cli("member-a", "server", "show", sid, "-f", "json"))
        addresses = shown["addresses"]
        assert net in (addresses if isinstance(addresses, dict) else str(addresses)), shown
        created_port = _json(cloud.cli("member-a", "port", "list", "--server", sid,
                                       "-f", "json"))
        assert len(created_port) == 1
        assert created_port[0]["Fixed IP Addresses"][0]["ip_address"] in json.dumps(
            addresses)

        _ok(cloud.cli("member-a", "port", "create", "--network", net, port, "-f", "json"))
        cleanup.insert(1, ("port", port))
        _ok(cloud.cli("member-a", "server", "add", "port", sid, port))
        bound = _wait_port(cloud, port, sid)
        assert bound["binding_host_id"] in (None, CHASSIS)  # hidden from non-admins
        assert len(_json(cloud.cli("member-a", "port", "list", "--server", sid,
                                   "-f", "json"))) == 2
        _ok(cloud.cli("member-a", "server", "remove", "port", sid, port))
        _wait_port(cloud, port, "")

        group = _json(cloud.cli("member-a", "security", "group", "create", sg, "-f", "json"))
        cleanup.insert(1, ("security group", sg))
        _ok(cloud.cli("member-a", "server", "add", "security", "group", sid, sg))
        port_id = created_port[0]["ID"]
        groups = _json(cloud.cli("member-a", "port", "show", port_id, "-f", "json"))[
            "security_group_ids"]
        assert group["id"] in groups
        _ok(cloud.cli("member-a", "server", "remove", "security", "group", sid, sg))
        groups = _json(cloud.cli("member-a", "port", "show", port_id, "-f", "json"))[
            "security_group_ids"]
        assert group["id"] not in groups and groups
        bad = cloud.cli("member-a", "server", "add", "security", "group", sid,
                        f"nosuch-{tag}")
        assert bad.returncode != 0

        _ok(cloud.cli("member-a", "server", "delete", "--wait", sid, timeout=180))
        cleanup.pop(0)
        assert _json(cloud.cli("member-a", "port", "list", "--network", network["id"],
                               "--device-owner", "compute:nova", "-f", "json")) == []
    finally:
        for kind, name in cleanup:
            cloud.cli("member-a", *kind.split(), "delete", name)
