"""The machine's real Cinder (Ceph RBD, tools/setup-cinder) behind the real Keystone, and
a nova_lite deployment whose compute host runs real guests (libvirt) that attach its
volumes.

The deployment is in Keystone's catalog as the compute endpoint of a region of its own
(NOVA_REGION, Cinder's ``[nova] region_name``) for as long as this directory's tests run,
because Cinder asks Nova there before it lets a user delete an attachment and sends it
its events; RegionOne's compute endpoint stays with the Keystone tests, so the two run
side by side. nova_lite finds Cinder through the catalog, as Nova does ([cinder]
catalog_info's default), with the seeded ``nova`` service user.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import subprocess
import tempfile
import time
from typing import Any, Iterator

import pytest
import requests

from tests.functional import guest_console, harness
from tests.functional.keystone import conftest as ks
from tests.functional.keystone.conftest import glance, keystone  # noqa: F401 (fixtures)
from tests.functional.libvirt import conftest as lv

REPO = pathlib.Path(__file__).resolve().parents[3]
SETUP = REPO / "tools" / "setup-cinder"
SETUP_TIMEOUT = 1200
NOVA_REGION = "RegionVolumeTests"
ACCESS_LOG = os.path.join(os.environ.get("CINDER_STATE", "/var/lib/nova-lite-cinder"),
                          "log", "access.log")


@pytest.fixture(scope="session")
def cinder_url(keystone: ks.KeystoneEnv) -> str:  # noqa: F811
    """Install (once) and start Ceph and Cinder; skips only without a package index
    outside CI."""
    try:
        proc = subprocess.run([str(SETUP), "start"], capture_output=True, text=True,
                              env=dict(os.environ, CINDER_NOVA_REGION=NOVA_REGION),
                              timeout=SETUP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"tools/setup-cinder took more than {SETUP_TIMEOUT}s")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        if "the package index is unreachable" in proc.stderr and not os.environ.get("CI"):
            pytest.skip(f"Cinder cannot be installed: no package index:\n{tail}")
        pytest.fail(f"tools/setup-cinder failed:\n{tail}")
    return proc.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def compute_in_catalog(keystone_env: ks.KeystoneEnv, api_url: str) -> Iterator[None]:
    """``api_url`` as the public compute endpoint of NOVA_REGION while the block runs."""
    admin = requests.Session()
    admin.headers["X-Auth-Token"] = ks.login(keystone_env, "admin").token
    base = keystone_env.auth_url
    if admin.get(f"{base}/regions/{NOVA_REGION}", timeout=30).status_code == 404:
        resp = admin.post(f"{base}/regions", json={"region": {"id": NOVA_REGION}}, timeout=30)
        assert resp.status_code in (201, 409), resp.text
    [service] = admin.get(f"{base}/services", params={"type": "compute"},
                          timeout=30).json()["services"]
    for old in admin.get(f"{base}/endpoints", params={"service_id": service["id"]},
                         timeout=30).json()["endpoints"]:
        if old["region_id"] == NOVA_REGION:  # left by an earlier run that was killed
            admin.delete(f"{base}/endpoints/{old['id']}", timeout=30)
    resp = admin.post(f"{base}/endpoints", timeout=30, json={"endpoint": {
        "service_id": service["id"], "interface": "public", "url": api_url,
        "region_id": NOVA_REGION, "enabled": True}})
    assert resp.status_code == 201, resp.text
    try:
        yield
    finally:
        admin.delete(f"{base}/endpoints/{resp.json()['endpoint']['id']}", timeout=30)


def cinder_conf(keystone_env: ks.KeystoneEnv) -> str:
    """nova_lite's [cinder] section: the service user; Cinder from the catalog."""
    user = keystone_env.service_user
    return (f"[cinder]\nauth_type = password\nauth_url = {keystone_env.auth_url}\n"
            f"username = {user.username}\npassword = {user.password}\n"
            f"project_name = {user.project_name}\nuser_domain_name = Default\n"
            "project_domain_name = Default\n")


@contextlib.contextmanager
def fake_hosts(keystone_env: ks.KeystoneEnv, glance_env: ks.GlanceEnv, workdir: str,
               hosts: list[str], extra_conf: str = "") -> Iterator[harness.Deployment]:
    """A deployment of fake compute ``hosts`` with Keystone, Glance and the real Cinder,
    and a tiny raw image in Glance (``dep.image_id``; Cinder copies it into volumes)."""
    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    dep = harness.Deployment(
        workdir, {h: {} for h in hosts}, auth_strategy="keystone",
        authtoken=keystone_env.authtoken(),
        extra_conf=extra_conf + keystone_env.glance_conf()
        + f"endpoint_override = {glance_env.url}\n" + cinder_conf(keystone_env))
    dep.token = ks.login(keystone_env, "admin").token
    image_id = None
    try:
        dep.setup()
        disk = os.path.join(workdir, "disk.raw")
        with open(disk, "wb") as f:
            f.write(b"\0" * 4096)
        image_id = dep.manage("image", "import", "--name", f"fake-hosts-{dep.run_id}",
                              disk).stdout.strip().splitlines()[-1]
        dep.image_id = image_id
        yield dep
    finally:
        dep.teardown()
        if image_id:
            ks.glance_delete(glance_env.url, ks.login(keystone_env, "admin").token, image_id)


@dataclasses.dataclass
class VolumeCloud:
    """The deployment, its libvirt host and image, and openstackclient as each user."""

    dep: harness.Deployment
    keystone: ks.KeystoneEnv
    env: lv.ApiEnv
    cinder_url: str
    _logins: dict = dataclasses.field(default_factory=dict, repr=False)

    @property
    def image_id(self) -> str:
        return self.env.image_id

    def clouds_yaml(self) -> str:
        """clouds.yaml whose clouds reach this deployment by an endpoint override, so
        openstackclient does not depend on the shared catalog."""
        import yaml

        path = os.path.join(self.dep.workdir, "clouds.yaml")
        if not os.path.exists(path):
            with open(self.keystone.clouds_yaml) as f:
                clouds = yaml.safe_load(f)
            for cloud in clouds["clouds"].values():
                cloud["compute_endpoint_override"] = f"{self.dep.url}/v2.1"
            with open(path, "w") as f:
                yaml.safe_dump(clouds, f)
        return path

    def run(self, who: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        cloud = self.keystone.accounts[who].cloud
        env = dict(self.keystone.env(cloud), OS_CLIENT_CONFIG_FILE=self.clouds_yaml())
        return subprocess.run([self.keystone.openstack_cli, "--os-cloud", cloud, *args],
                              env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def console_has(self, server_id: str, line: str, timeout: float) -> str:
        """member-a's console log of the server once it holds ``line`` (within timeout)."""
        return guest_console.wait_console(f"{self.dep.url}/v2.1",
                                          self.login("member-a").token, server_id,
                                          lambda log: line in log, timeout)

    def cli(self, who: str, *args: str, timeout: float = 240) -> str:
        proc = self.run(who, *args, timeout=timeout)
        assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def login(self, who: str) -> ks.Login:
        """``who``'s token, reused for 10 minutes (Keystone's last an hour)."""
        at, me = self._logins.get(who, (0.0, None))
        if me is None or time.monotonic() - at > 600:
            me = ks.login(self.keystone, who)
            self._logins[who] = (time.monotonic(), me)
        return me

    def compute(self, who: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``who``'s request to the compute API (/v2.1<path>), latest microversion."""
        token = self.login(who).token
        return requests.request(method, f"{self.dep.url}/v2.1{path}", timeout=60,
                                headers={"X-Auth-Token": token,
                                         "OpenStack-API-Version": "compute latest"},
                                **kwargs)

    def cinder(self, who: str, path: str, microversion: str = "3.27",
               expect: int = 200) -> Any:
        """``who``'s GET of Cinder's /v3/<project><path> (JSON, or None when the
        expected status is not 200): checks between the openstackclient commands under
        test, without a client start each time."""
        me = self.login(who)
        base = self.cinder_url.rstrip("/")
        if not base.endswith(me.project_id):
            base = f"{base}/{me.project_id}"
        resp = requests.get(base + path, timeout=60, headers={
            "X-Auth-Token": me.token, "OpenStack-API-Version": f"volume {microversion}"})
        assert resp.status_code == expect, resp.text
        return resp.json() if expect == 200 else None

    def server_status(self, sid: str, status: str, timeout: float) -> dict:
        """The server (admin's view, latest microversion) once it is ``status`` with no
        task; AssertionError with its fault if it goes ERROR or the time runs out."""
        deadline = time.monotonic() + timeout
        shown: dict = {}
        while time.monotonic() < deadline:
            resp = self.compute("admin", "GET", f"/servers/{sid}")
            assert resp.status_code == 200, resp.text
            shown = resp.json()["server"]
            if shown["status"] == status and not shown.get("OS-EXT-STS:task_state"):
                return shown
            if shown["status"] == "ERROR":
                break
            time.sleep(1)
        raise AssertionError(f"server {sid} is {shown.get('status')}, not {status}: "
                             f"{shown.get('fault')}\nlast action: {self.last_action(sid)}")

    def last_action(self, sid: str) -> object:
        """The server's latest instance action with its events (an admin sees their
        tracebacks): why an action that failed without a fault failed."""
        resp = self.compute("admin", "GET", f"/servers/{sid}/os-instance-actions")
        actions = resp.json().get("instanceActions") or [] if resp.status_code == 200 else []
        if not actions:
            return resp.text
        req_id = actions[0]["request_id"]
        return self.compute("admin", "GET",
                            f"/servers/{sid}/os-instance-actions/{req_id}").json()

    def volume_backed_with_data(self, name: str, timeout: float) -> tuple[str, str]:
        """member-a's server booted from a new 1 GiB volume (deleted with it) with a
        second, data volume attached: (server id, data volume id)."""
        import json

        proc = self.run("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                        self.image_id, "--boot-from-volume", "1", "--delete-on-termination",
                        "--nic", "none", "--wait", "-f", "json", name, timeout=timeout)
        assert proc.returncode == 0, proc.stderr
        sid = json.loads(proc.stdout)["id"]
        data = json.loads(self.cli("member-a", "volume", "create", "--size", "1", "-f",
                                   "json", f"{name}-data"))["id"]
        self.wait_volume("member-a", data, "available")
        self.cli("member-a", "server", "add", "volume", sid, data)
        self.wait_volume("member-a", data, "in-use")
        return sid, data

    def wait_volume(self, who: str, volume_id: str, status: str,
                    timeout: float = 90) -> dict:
        """openstackclient's ``volume show`` once Cinder's API (polled without a client
        start each time) says the volume is ``status``."""
        import json

        deadline = time.monotonic() + timeout
        vol: dict = {}
        while time.monotonic() < deadline:
            vol = self.cinder(who, f"/volumes/{volume_id}")["volume"]
            if vol["status"] == status:
                shown = json.loads(self.cli(who, "volume", "show", volume_id, "-f", "json"))
                assert shown["status"] == status, shown
                return shown
            if vol["status"] == "error":
                break
            time.sleep(0.5)
        raise AssertionError(f"volume {volume_id} is {vol.get('status')}, not {status}")


@pytest.fixture(scope="package")
def volume_cloud(keystone: ks.KeystoneEnv, glance: ks.GlanceEnv,  # noqa: F811
                 cinder_url: str) -> Iterator[VolumeCloud]:
    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    lv._require_libvirtd()
    from nova_lite.virt.libvirt import host as vhost

    virt_type = "kvm" if vhost.kvm_usable()[0] else "qemu"
    workdir = tempfile.mkdtemp(prefix="nova-lite-volumes-", dir="/var/tmp")
    os.chmod(workdir, 0o755)  # QEMU (libvirt-qemu) reads the instance files
    suffix = os.path.basename(workdir).rsplit("-", 1)[-1].lower()
    host = f"kv-{suffix}"
    dep = harness.Deployment(
        workdir, {host: {}}, auth_strategy="keystone", authtoken=keystone.authtoken(),
        extra_conf=f"[DEFAULT]\ninstance_name_template = nlv-{suffix}-%08x\n"
                   # one libvirt host: a resize stays on it
                   "allow_resize_to_same_host = True\n"
                   + keystone.glance_conf() + f"endpoint_override = {glance.url}\n"
                   + cinder_conf(keystone),
        host_conf={host: f"[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n"
                         f"[libvirt]\nvirt_type = {virt_type}\nconnection_uri = {lv.URI}\n"})
    dep.token = ks.login(keystone, "admin").token
    with lv.running(dep, host, virt_type, workdir) as env:
        # Where Cinder asks about attachments and sends its events.
        with compute_in_catalog(keystone, f"{dep.url}/v2.1"):
            yield VolumeCloud(dep, keystone, env, cinder_url)
