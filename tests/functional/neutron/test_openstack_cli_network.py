"""Unmodified python-openstackclient, Keystone, the real Neutron, Glance, libvirt and
nova_lite together.

A member creates a network, a subnet and a key pair, boots a real guest on the network
with the key, a config drive and user data (``--network NET --key-name K --config-drive
true --user-data F --wait``), sees its address in ``server show`` and, in ``console log
show``, the guest's own DHCP address, its uuid read from the metadata and its key; ``console
url show --novnc`` gives a URL that serves noVNC and reaches the guest's VNC server; then
adds and removes a port and a security group. The compute host runs under the OVN
chassis' name, so Neutron really binds its ports, and the API listens where Neutron sends
its events.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid
from typing import Any, Iterator

import pytest
import requests

from tests.functional import guest_console, harness
from tests.functional.keystone.conftest import (Cloud, _setup_glance, _setup_keystone,
                                                catalog_lock, glance_delete, login)
from tests.functional.libvirt import conftest as lv
from tests.functional.neutron.conftest import (CHASSIS, EVENTS_PORT, neutron_lock,
                                               nova_neutron_conf)

libvirt = pytest.importorskip("libvirt")
URI = "qemu:///system"
BOOT_TIMEOUT = 240
KEY_COMMENT = "nova-lite-osc@example"

# The module's deployment waits for the Neutron and catalog locks other tests may hold,
# and every CLI start costs seconds: more than the default per-test timeout.
pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow,
              pytest.mark.timeout(1800)]


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _json(proc: subprocess.CompletedProcess) -> Any:
    return json.loads(_ok(proc))


@pytest.fixture(scope="module")
def net_cloud(neutron_stack: str, keystone_env: Any) -> Iterator[Cloud]:
    from tests.functional.libvirt.conftest import _require_libvirtd

    if not harness.mariadb_available() or not harness.rabbit_available():
        pytest.skip("MariaDB or RabbitMQ is not reachable")
    _require_libvirtd()
    from nova_lite.virt.libvirt import host as vhost

    virt_type = "kvm" if vhost.kvm_usable()[0] else "qemu"
    # where QEMU (libvirt-qemu) can reach the instance files
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="nova-lite-neutron-cli-", dir="/var/tmp"))
    os.chmod(workdir, 0o755)
    suffix = workdir.name.rsplit("-", 1)[-1][-6:].lower()
    policy_file = workdir / "policy.yaml"
    policy_file.write_text("{}\n")
    proxy_port = harness.free_port()
    dep = harness.Deployment(
        str(workdir), {CHASSIS: {}}, auth_strategy="keystone",
        authtoken=keystone_env.authtoken(),
        # Neutron's events carry its admin token, which this Keystone-backed API refuses
        # (tests/functional/neutron/test_guests_on_neutron.py waits for them, on noauth2):
        # here a guest starts once the plug wait of 10 s is over.
        extra_conf=f"[DEFAULT]\ninstance_name_template = nlo-{suffix}-%08x\n"
                   "vif_plugging_timeout = 10\nvif_plugging_is_fatal = False\n"
                   f"[oslo_policy]\npolicy_file = {policy_file}\n"
                   f"[vnc]\nnovncproxy_host = 127.0.0.1\nnovncproxy_port = {proxy_port}\n"
                   f"novncproxy_base_url = http://127.0.0.1:{proxy_port}/vnc_lite.html\n"
                   + nova_neutron_conf(keystone_env) + keystone_env.glance_conf(),
        host_conf={CHASSIS: f"[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n"
                            f"[libvirt]\nvirt_type = {virt_type}\nconnection_uri = {URI}\n"})
    dep.port, dep.url = EVENTS_PORT, f"http://127.0.0.1:{EVENTS_PORT}"  # Neutron's events
    dep.proxy = f"http://127.0.0.1:{proxy_port}"
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
            image_id = lv.build_test_image(dep.common_conf, f"neutron-cli-{dep.run_id}")
            dep.start_proc("novncproxy", "nova-lite-novncproxy")
            _setup_keystone(f"{dep.url}/v2.1")
            yield Cloud(dep, keystone_env, image_id, policy_file, logins)
        finally:
            dep.teardown()
            _destroy_guests(f"nlo-{suffix}-")
            shutil.rmtree(workdir, ignore_errors=True)
            if image_id and glance_url:
                glance_delete(glance_url, login(keystone_env, "admin").token, image_id)
            _setup_keystone(None)


def _destroy_guests(prefix: str) -> None:
    """Guests of this module's deployment a failed test left running."""
    conn = libvirt.open(URI)
    try:
        for dom in conn.listAllDomains(0):
            if dom.name().startswith(prefix):
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    finally:
        conn.close()


def _wait_port(cloud: Cloud, port: str, device_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = _json(cloud.cli("member-a", "port", "show", port, "-f", "json"))
        if shown["device_id"] == device_id:
            return shown
        assert time.monotonic() < deadline, shown
        time.sleep(1)


def test_network_server_port_and_security_group_with_openstackclient(net_cloud: Cloud,
                                                                     tmp_path):
    cloud = net_cloud
    tag = uuid.uuid4().hex[:6]
    net, sub, sg, port = f"nl-net-{tag}", f"nl-sub-{tag}", f"nl-sg-{tag}", f"nl-port-{tag}"
    cleanup = [("subnet", sub), ("network", net)]
    key, user_data = f"nl-key-{tag}", tmp_path / "user-data"
    user_data.write_text("NOVA-LITE-USER-DATA-FROM-OSC on a network\n")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", KEY_COMMENT, "-f",
                    str(tmp_path / "id")], check=True, timeout=60)
    try:
        network = _json(cloud.cli("member-a", "network", "create", net, "-f", "json"))
        _ok(cloud.cli("member-a", "subnet", "create", "--network", net, "--subnet-range",
                      "10.43.0.0/28", sub, "-f", "json"))
        _ok(cloud.cli("member-a", "keypair", "create", "--public-key",
                      str(tmp_path / "id.pub"), key, "-f", "json"))
        cleanup.append(("keypair", key))
        started = time.monotonic()
        server = _json(cloud.cli("member-a", "server", "create", "--flavor", "m1.nano",
                                 "--image", cloud.image_id, "--network", net, "--key-name",
                                 key, "--config-drive", "true", "--user-data",
                                 str(user_data), "--wait", "-f", "json", f"vm-{tag}",
                                 timeout=300))
        sid = server["id"]
        cleanup.insert(0, ("server", sid))
        assert server["status"] == "ACTIVE"
        shown = _json(cloud.cli("member-a", "server", "show", sid, "-f", "json"))
        addresses = shown["addresses"]
        assert net in (addresses if isinstance(addresses, dict) else str(addresses)), shown
        created_port = _json(cloud.cli("member-a", "port", "list", "--server", sid,
                                       "-f", "json"))
        assert len(created_port) == 1
        address = created_port[0]["Fixed IP Addresses"][0]["ip_address"]
        assert address in json.dumps(addresses)

        # The guest's own view, through openstackclient: its DHCP address, its uuid from
        # the metadata on its config drive, its key and the user data.
        wanted = [f"NOVA-LITE-GUEST-IP eth0 {address}/", f"NOVA-LITE-CONFIG-DRIVE uuid={sid}",
                  f"key={key} comment={KEY_COMMENT}",
                  "NOVA-LITE-USER-DATA NOVA-LITE-USER-DATA-FROM-OSC on a network"]
        guest_console.wait_console(f"{cloud.dep.url}/v2.1", cloud.logins["member-a"].token,
                                   sid, lambda log: all(w in log for w in wanted),
                                   BOOT_TIMEOUT)
        log = _ok(cloud.cli("member-a", "console", "log", "show", sid))
        assert all(w in log for w in wanted), ([w for w in wanted if w not in log],
                                               log[-3000:])
        print(f"\nserver create --network --wait -> address, metadata and key on the "
              f"console: {time.monotonic() - started:.1f} s")
        url = _json(cloud.cli("member-a", "console", "url", "show", "--novnc", sid,
                              "-f", "json"))["url"]
        assert url.startswith(cloud.dep.proxy + "/vnc_lite.html?path=%3Ftoken%3D"), url
        page = requests.get(url, timeout=30)
        assert page.status_code == 200 and "noVNC" in page.text
        token = url.rsplit("%3D", 1)[1]
        status, greeting = guest_console.ws_open(cloud.dep.proxy, f"/?token={token}")
        assert status == 101 and greeting.startswith(b"RFB 003.008"), (status, greeting)

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
