"""A real Keystone for the tests in this directory, started by tools/setup-keystone.

The script is idempotent and quick when Keystone already runs (about a second); the
session fixture calls it unless Keystone answers and is seeded already (then it need not
wait for the catalog lock, which a deployment holds while it is in the catalog). When it
fails because the package index cannot be reached (so Keystone cannot be installed) the
tests are skipped; any other failure is an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import pathlib
import subprocess
import time
from typing import Iterator, Optional

import pytest
import requests

from tests.functional import harness

REPO = pathlib.Path(__file__).resolve().parents[3]
SETUP = REPO / "tools" / "setup-keystone"
GLANCE_SETUP = REPO / "tools" / "setup-glance"
SETUP_TIMEOUT = 900


@dataclasses.dataclass(frozen=True)
class Account:
    cloud: str
    username: str
    password: str
    project_name: str


@dataclasses.dataclass(frozen=True)
class KeystoneEnv:
    clouds_yaml: str
    auth_url: str  # http://127.0.0.1:5000/v3
    www_authenticate_uri: str  # http://127.0.0.1:5000
    openstack_cli: str  # python-openstackclient in the Keystone venv
    state_dir: str
    accounts: dict[str, Account]
    service_user: Account  # nova_lite's own user for auth_token

    def authtoken(self) -> dict[str, str]:
        """[keystone_authtoken] values for nova_lite's API against this Keystone."""
        return {
            "www_authenticate_uri": self.www_authenticate_uri,
            "auth_url": self.auth_url,
            "auth_type": "password",
            "username": self.service_user.username,
            "password": self.service_user.password,
            "project_name": self.service_user.project_name,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "memcached_servers": "",
            "service_token_roles_required": "true",
        }

    def glance_conf(self) -> str:
        """nova_lite's [glance] section: the service user; Glance from the catalog."""
        return (f"[glance]\nauth_type = password\nauth_url = {self.auth_url}\n"
                f"username = {self.service_user.username}\n"
                f"password = {self.service_user.password}\n"
                f"project_name = {self.service_user.project_name}\n"
                "user_domain_name = Default\nproject_domain_name = Default\n")

    def env(self, cloud: str) -> dict[str, str]:
        """Environment for running ``openstack`` as ``cloud``."""
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=self.clouds_yaml, OS_CLOUD=cloud)
        env.pop("OS_AUTH_URL", None)
        return env


def _accounts(admin_password: str) -> dict[str, Account]:
    return {
        "admin": Account("nl-admin", "admin", admin_password, "admin"),
        "member-a": Account("nl-member-a", "member-a", "member-a-pw", "project-a"),
        "member-b": Account("nl-member-b", "member-b", "member-b-pw", "project-b"),
        "reader-a": Account("nl-reader-a", "reader-a", "reader-a-pw", "project-a"),
    }


# The catalog is one per Keystone, and the Keystone one per machine: a deployment that
# points the catalog at itself holds this lock until it points it back.
CATALOG_LOCK = "/var/lock/nova-lite-keystone-catalog.lock"


@contextlib.contextmanager
def catalog_lock() -> Iterator[None]:
    with open(CATALOG_LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _set_up_already(script: pathlib.Path, *files: str) -> bool:
    """The service answers and its set-up left ``files``: nothing to install or seed, so
    no reason to wait for the catalog lock."""
    if not all(os.path.exists(f) for f in files):
        return False
    return subprocess.run([str(script), "status"], capture_output=True, timeout=60,
                          check=False).returncode == 0


@pytest.fixture(scope="session")
def keystone() -> KeystoneEnv:
    """Install (once), start and seed Keystone; the accounts and clouds.yaml to use."""
    state = os.environ.get("KEYSTONE_STATE", "/var/lib/nova-lite-keystone")
    if _set_up_already(SETUP, os.path.join(state, "clouds.yaml")):
        return _keystone_env(os.path.join(state, "clouds.yaml"))
    try:
        with catalog_lock():  # a re-seed points the compute endpoint back at the default
            proc = subprocess.run([str(SETUP), "start"], capture_output=True, text=True,
                                  timeout=SETUP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"tools/setup-keystone took more than {SETUP_TIMEOUT}s")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        if "the package index is unreachable" in proc.stderr:
            pytest.skip(f"Keystone cannot be installed: no package index:\n{tail}")
        pytest.fail(f"tools/setup-keystone failed:\n{tail}")
    return _keystone_env(proc.stdout.strip().splitlines()[-1])


def _keystone_env(clouds_yaml: str) -> KeystoneEnv:
    port = os.environ.get("KEYSTONE_PORT", "5000")
    venv = os.environ.get("KEYSTONE_VENV", "/opt/nova-lite/keystone-venv")
    base = f"http://127.0.0.1:{port}"
    return KeystoneEnv(
        clouds_yaml=clouds_yaml,
        auth_url=f"{base}/v3",
        www_authenticate_uri=base,
        openstack_cli=f"{venv}/bin/openstack",
        state_dir=str(pathlib.Path(clouds_yaml).parent),
        accounts=_accounts(os.environ.get("KEYSTONE_ADMIN_PASSWORD", "admin")),
        service_user=Account("", "nova", "nova-secret", "service"),
    )


@dataclasses.dataclass(frozen=True)
class GlanceEnv:
    url: str  # http://127.0.0.1:9292
    state_dir: str

    @property
    def store_dir(self) -> str:
        """Glance's file store: one file per image, named by its id."""
        return os.path.join(self.state_dir, "images")

    @property
    def access_log(self) -> str:
        return os.path.join(self.state_dir, "log", "access.log")


def _setup_glance() -> subprocess.CompletedProcess:
    """tools/setup-glance (quick when Glance runs); the caller holds the catalog lock."""
    return subprocess.run([str(GLANCE_SETUP), "start"], capture_output=True, text=True,
                          timeout=SETUP_TIMEOUT, check=False)


@pytest.fixture(scope="session")
def glance(keystone: KeystoneEnv) -> GlanceEnv:
    """Install (once), start and register Glance: the catalog's image endpoint."""
    state = os.environ.get("GLANCE_STATE", "/var/lib/nova-lite-glance")
    endpoint_file = os.path.join(keystone.state_dir, "image-endpoint")
    if _set_up_already(GLANCE_SETUP, endpoint_file):
        with open(endpoint_file) as f:
            return GlanceEnv(url=f.read().strip(), state_dir=state)
    try:
        with catalog_lock():
            proc = _setup_glance()
    except subprocess.TimeoutExpired:
        pytest.fail(f"tools/setup-glance took more than {SETUP_TIMEOUT}s")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        if "the package index is unreachable" in proc.stderr:
            pytest.skip(f"Glance cannot be installed: no package index:\n{tail}")
        pytest.fail(f"tools/setup-glance failed:\n{tail}")
    return GlanceEnv(url=proc.stdout.strip().splitlines()[-1], state_dir=state)


def glance_delete(glance_url: str, token: str, image_id: str) -> None:
    """Delete an image a test made (already gone is fine)."""
    resp = requests.delete(f"{glance_url}/v2/images/{image_id}",
                           headers={"X-Auth-Token": token}, timeout=30)
    assert resp.status_code in (204, 404), resp.text


# -- a real deployment behind Keystone ---------------------------------------------------

IMAGE_NAME = "keystone-test-image"
GLOBAL_REQUEST_ID = "req-6c1f0e2a-4b3d-4e5f-8a9b-0c1d2e3f4a5b"


@dataclasses.dataclass
class Login:
    token: str
    user_id: str
    project_id: str


def login(keystone: KeystoneEnv, who: str) -> Login:
    """A fresh project-scoped token for ``who`` (POST /v3/auth/tokens)."""
    acct = keystone.accounts[who]
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": acct.username, "domain": {"id": "default"}, "password": acct.password}}},
        "scope": {"project": {"name": acct.project_name, "domain": {"id": "default"}}}}}
    resp = requests.post(f"{keystone.auth_url}/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    token = resp.json()["token"]
    return Login(resp.headers["X-Subject-Token"], token["user"]["id"], token["project"]["id"])


@dataclasses.dataclass
class Cloud:
    """A keystone-authenticated deployment, logged-in accounts and two servers."""

    dep: harness.Deployment
    keystone: KeystoneEnv
    image_id: str
    policy_file: pathlib.Path
    logins: dict[str, Login]
    glance: Optional[GlanceEnv] = None
    image_name: str = ""  # unique per deployment: Glance is shared by every test run
    servers: dict[str, str] = dataclasses.field(default_factory=dict)  # a1, b1 -> uuid
    create_request_id: str = ""  # x-openstack-request-id of the POST that made a1

    def call(self, who: str | None, method: str, path: str, body: object = None,
             token: str | None = None, **headers: str) -> requests.Response:
        """``who``'s request to /v2.1<path>; every response must carry a request id."""
        h = {"Content-Type": "application/json", **headers}
        token = token if token is not None else (self.logins[who].token if who else None)
        if token is not None:
            h["X-Auth-Token"] = token
        resp = requests.request(method, f"{self.dep.url}/v2.1{path}", headers=h,
                                json=body, timeout=60)
        rid = resp.headers.get("x-openstack-request-id", "")
        assert rid.startswith("req-"), (method, path, resp.status_code, dict(resp.headers))
        return resp

    def cli(self, who: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run python-openstackclient as ``who`` (its clouds.yaml cloud)."""
        cloud = self.keystone.accounts[who].cloud
        return subprocess.run([self.keystone.openstack_cli, "--os-cloud", cloud, *args],
                              env=self.keystone.env(cloud), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def wait_status(self, server_id: str, status: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        server: dict = {}
        while time.monotonic() < deadline:
            resp = self.call("admin", "GET", f"/servers/{server_id}")
            if resp.status_code == 200:
                server = resp.json()["server"]
                if server["status"] == status and not server.get("OS-EXT-STS:task_state"):
                    return server
            time.sleep(0.2)
        raise AssertionError(f"{server_id} did not reach {status}: {server.get('status')}")

    def create(self, who: str, name: str, **headers: str) -> requests.Response:
        return self.call(who, "POST", "/servers", {"server": {
            "name": name, "imageRef": self.image_id, "flavorRef": "42"}}, **headers)


def _setup_keystone(api_url: str | None, placement_url: str | None = None) -> None:
    """Point the catalog's compute (and placement) endpoints at these URLs (None: the
    defaults); the caller holds the catalog lock."""
    env = dict(os.environ)
    if api_url:
        env["NOVA_LITE_API_URL"] = api_url
    if placement_url:
        env["NOVA_LITE_PLACEMENT_URL"] = placement_url
    proc = subprocess.run([str(SETUP), "start"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.fixture(scope="package")
def cloud(keystone: KeystoneEnv, glance: GlanceEnv, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Cloud]:
    """nova_lite with auth_strategy keystone and three fake computes, in Keystone's catalog,
    with images from the real Glance. The computes share no directory (each has its
    own state_path) and download images over HTTP, as on separate machines.

    Shared by this directory's deployment tests (one start-up, ~20 s). Servers a1
    (member-a, created with a global request id) and b1 (member-b) are ACTIVE, booted
    from a public Glance image the deployment uploaded (deleted at the end).
    """
    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    workdir = tmp_path_factory.mktemp("keystone-dep")
    policy_file = workdir / "policy.yaml"
    policy_file.write_text("{}\n")
    authtoken = keystone.authtoken()
    # kc3 is small: enough for the three-host server group tests, cheap to run.
    dep = harness.Deployment(str(workdir), {"kc1": {}, "kc2": {},
                                            "kc3": {"vcpus": 4, "memory_mb": 4096}},
                             auth_strategy="keystone",
                             authtoken=authtoken, host_state_paths=True,
                             extra_conf=f"[oslo_policy]\npolicy_file = {policy_file}\n"
                                        + keystone.glance_conf())
    logins = {who: login(keystone, who) for who in keystone.accounts}
    dep.token = logins["admin"].token
    with catalog_lock():
        yield from _cloud(dep, keystone, glance, workdir, policy_file, logins)


def _cloud(dep: harness.Deployment, keystone: KeystoneEnv, glance: GlanceEnv,
           workdir: pathlib.Path, policy_file: pathlib.Path, logins: dict[str, Login]
           ) -> Iterator[Cloud]:
    image_id = None
    try:
        # The image endpoint back to Glance (whatever ran before changed the catalog).
        proc = _setup_glance()
        assert proc.returncode == 0, proc.stderr[-2000:]
        dep.setup()
        disk = workdir / "disk.raw"
        disk.write_bytes(b"\0" * 4096)
        image_name = f"{IMAGE_NAME}-{dep.run_id}"
        image = dep.manage("image", "import", "--name", image_name, str(disk))
        image_id = image.stdout.strip().splitlines()[-1]
        _setup_keystone(f"{dep.url}/v2.1")
        cloud = Cloud(dep, keystone, image_id, policy_file, logins, glance=glance,
                      image_name=image_name)
        a1 = cloud.create("member-a", "a1", **{"X-OpenStack-Request-ID": GLOBAL_REQUEST_ID})
        b1 = cloud.create("member-b", "b1")
        assert a1.status_code == 202 and b1.status_code == 202, (a1.text, b1.text)
        cloud.create_request_id = a1.headers["x-openstack-request-id"]
        cloud.servers = {"a1": a1.json()["server"]["id"], "b1": b1.json()["server"]["id"]}
        for server_id in cloud.servers.values():
            cloud.wait_status(server_id, "ACTIVE")
        yield cloud
    finally:
        dep.teardown()
        if image_id:
            glance_delete(glance.url, login(keystone, "admin").token, image_id)
        _setup_keystone(None)  # the catalog back to the default API URL
