"""Unmodified python-openstackclient behind a real Keystone, against a deployment whose
compute host runs real guests (libvirt): a server created with a config drive and user
data prints its uuid and user data on the console `openstack console log show` reads,
and `openstack console url show --novnc` gives a URL that serves noVNC and whose
websocket reaches the guest's VNC server. Images come from the real Glance: `openstack
server image create` of a running guest makes an active Glance image that boots again.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from typing import Iterator

import pytest
import requests

from tests.functional import guest_console, harness
from tests.functional.keystone.conftest import GlanceEnv, KeystoneEnv, glance_delete, login
from tests.functional.libvirt import conftest as lv

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 180
MARKER = "NOVA-LITE-GUEST-UP"  # what the test guest prints once booted


class CliCloud:
    """openstackclient pointed at this deployment by endpoint overrides in a private
    clouds.yaml, so the shared Keystone catalog (and its lock) is left alone."""

    def __init__(self, dep: harness.Deployment, keystone: KeystoneEnv, image_id: str,
                 proxy_port: int, glance_url: str) -> None:
        import yaml

        self.dep, self.keystone, self.image_id = dep, keystone, image_id
        self.glance_url = glance_url
        self.proxy = f"http://127.0.0.1:{proxy_port}"
        with open(keystone.clouds_yaml) as f:
            clouds = yaml.safe_load(f)
        for cloud in clouds["clouds"].values():
            cloud["compute_endpoint_override"] = f"{dep.url}/v2.1"
            cloud["image_endpoint_override"] = glance_url
        self.clouds_yaml = os.path.join(dep.workdir, "clouds.yaml")
        with open(self.clouds_yaml, "w") as f:
            yaml.safe_dump(clouds, f)

    def run(self, who: str, *args: str, timeout: float = 240
            ) -> subprocess.CompletedProcess:
        cloud = self.keystone.accounts[who].cloud
        env = dict(self.keystone.env(cloud), OS_CLIENT_CONFIG_FILE=self.clouds_yaml)
        return subprocess.run([self.keystone.openstack_cli, "--os-cloud", cloud, *args],
                              env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def cli(self, who: str, *args: str, timeout: float = 240) -> str:
        proc = self.run(who, *args, timeout=timeout)
        assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout


@pytest.fixture(scope="module")
def cli_cloud(keystone: KeystoneEnv, glance: GlanceEnv) -> Iterator[CliCloud]:
    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    lv._require_libvirtd()
    from nova_lite.virt.libvirt import host as vhost

    virt_type = "kvm" if vhost.kvm_usable()[0] else "qemu"
    workdir = tempfile.mkdtemp(prefix="nova-lite-cli-guests-", dir="/var/tmp")
    os.chmod(workdir, 0o755)
    suffix = os.path.basename(workdir).rsplit("-", 1)[-1].lower()
    host, proxy_port = f"kl-{suffix}", harness.free_port()
    dep = harness.Deployment(
        workdir, {host: {}}, auth_strategy="keystone", authtoken=keystone.authtoken(),
        extra_conf=f"[DEFAULT]\ninstance_name_template = nlk-{suffix}-%08x\n"
                   f"[vnc]\nnovncproxy_host = 127.0.0.1\nnovncproxy_port = {proxy_port}\n"
                   f"novncproxy_base_url = http://127.0.0.1:{proxy_port}/vnc_lite.html\n"
                   + keystone.glance_conf() + f"endpoint_override = {glance.url}\n",
        host_conf={host: f"[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n"
                         f"[libvirt]\nvirt_type = {virt_type}\nconnection_uri = {lv.URI}\n"})
    dep.token = login(keystone, "admin").token
    with lv.running(dep, host, virt_type, workdir) as env:
        dep.start_proc("novncproxy", "nova-lite-novncproxy")
        yield CliCloud(dep, keystone, env.image_id, proxy_port, glance.url)


def test_config_drive_user_data_console_log_and_novnc(cli_cloud: CliCloud, tmp_path):
    c = cli_cloud
    user_data = tmp_path / "user-data"
    user_data.write_text("NOVA-LITE-USER-DATA-FROM-OSC hello\n")
    t0 = time.monotonic()
    server = json.loads(c.cli(
        "member-a", "server", "create", "--flavor", "m1.nano", "--image", c.image_id,
        "--config-drive", "true", "--user-data", str(user_data), "--nic", "none",
        "--wait", "-f", "json", "osc-guest", timeout=BOOT_TIMEOUT))
    sid = server["id"]
    assert server["status"] == "ACTIVE"
    log = _console_shows(c, sid, "NOVA-LITE-USER-DATA NOVA-LITE-USER-DATA-FROM-OSC")
    took = time.monotonic() - t0
    assert f"NOVA-LITE-CONFIG-DRIVE uuid={sid} hostname=osc-guest.novalocal" in log, log
    assert "NOVA-LITE-USER-DATA NOVA-LITE-USER-DATA-FROM-OSC hello" in log, log
    print(f"\nopenstack server create -> markers in console log show: {took:.1f} s")

    shown = json.loads(c.cli("member-a", "server", "show", sid, "-f", "json"))
    assert shown["config_drive"] == "True"

    url = json.loads(c.cli("member-a", "console", "url", "show", "--novnc", sid,
                           "-f", "json"))["url"]
    assert url.startswith(c.proxy + "/vnc_lite.html?path=%3Ftoken%3D"), url
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and "noVNC" in page.text
    token = url.rsplit("%3D", 1)[1]
    status, greeting = guest_console.ws_open(c.proxy, f"/?token={token}")
    assert status == 101 and greeting.startswith(b"RFB 003.008"), (status, greeting)
    # another project's member gets no console of it
    assert c.run("member-b", "console", "url", "show", "--novnc", sid).returncode != 0

    c.cli("member-a", "server", "delete", "--wait", sid)
    assert guest_console.ws_open(c.proxy, f"/?token={token}")[0] == 403


def _console_shows(c: CliCloud, sid: str, marker: str) -> str:
    """The console log through openstackclient, once it holds ``marker`` (waited for
    over the API)."""
    guest_console.wait_console(f"{c.dep.url}/v2.1", login(c.keystone, "member-a").token,
                               sid, lambda log: marker in log, BOOT_TIMEOUT)
    return c.cli("member-a", "console", "log", "show", sid)


def test_snapshot_in_glance_boots_again(cli_cloud: CliCloud):
    c = cli_cloud
    first = json.loads(c.cli(
        "member-a", "server", "create", "--flavor", "m1.nano", "--image", c.image_id,
        "--nic", "none", "--wait", "-f", "json", "osc-snap-source", timeout=BOOT_TIMEOUT))
    _console_shows(c, first["id"], MARKER)
    name = f"osc-snap-{os.urandom(4).hex()}"  # a leftover of an earlier run never matches
    snap = json.loads(c.cli("member-a", "server", "image", "create", "--name", name,
                            "--wait", "-f", "json", first["id"], timeout=BOOT_TIMEOUT))
    try:
        shown = json.loads(c.cli("member-a", "image", "show", "-f", "json", snap["id"]))
        assert shown["status"] == "active"
        assert name in c.cli("member-a", "image", "list", "-f", "value", "-c", "Name")
        again = json.loads(c.cli(
            "member-a", "server", "create", "--flavor", "m1.nano", "--image", name,
            "--nic", "none", "--wait", "-f", "json", "osc-from-snap", timeout=BOOT_TIMEOUT))
        assert again["status"] == "ACTIVE"
        _console_shows(c, again["id"], MARKER)  # the snapshot's content booted
        c.cli("member-a", "server", "delete", "--wait", again["id"], first["id"])
    finally:
        glance_delete(c.glance_url, login(c.keystone, "admin").token, snap["id"])
