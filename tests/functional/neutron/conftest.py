"""The machine's one real Neutron (ML2/OVN, userspace OVS), started by tools/setup-neutron.

The stack is shared by everything on the machine (fixed ports 9696/6641/6642, one
br-int, one OVN chassis named after the machine), so every test that uses it holds
NEUTRON_LOCK for its whole module. Neutron sends its events to the fixed URL EVENTS_URL:
the deployment under test listens there, with noauth2, and Neutron authenticates with
the noauth2 admin token. Keystone (tools/setup-keystone) must run: Neutron validates
tokens with it, and nova_lite's [neutron] credentials are the seeded nova user.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import socket
import subprocess
import uuid
from typing import Any, Iterator

import pytest
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.keystone import conftest as ks_conftest
from tests.functional.keystone.conftest import keystone  # noqa: F401 (a fixture)

REPO = pathlib.Path(__file__).resolve().parents[3]
SETUP = REPO / "tools" / "setup-neutron"
NEUTRON_URL = "http://127.0.0.1:9696"
EVENTS_PORT = 18774
EVENTS_URL = f"http://127.0.0.1:{EVENTS_PORT}/v2.1"
NEUTRON_LOCK = "/var/lock/nova-lite-neutron.lock"
SETUP_TIMEOUT = 1500
CHASSIS = socket.gethostname()  # setup-neutron's default OVN chassis hostname


def setup_env() -> dict:
    return dict(os.environ, NEUTRON_NOVA_URL=EVENTS_URL, NEUTRON_NOVA_TOKEN="admin:admin",
                OVN_CHASSIS_HOSTNAME=CHASSIS)


@contextlib.contextmanager
def neutron_lock() -> Iterator[None]:
    with open(NEUTRON_LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def nova_neutron_conf(keystone_env: Any) -> str:
    """nova_lite's [neutron] section: the seeded service user, Neutron's fixed URL."""
    user = keystone_env.service_user
    return (f"[neutron]\nauth_type = password\nauth_url = {keystone_env.auth_url}\n"
            f"username = {user.username}\npassword = {user.password}\n"
            f"project_name = {user.project_name}\nuser_domain_name = Default\n"
            f"project_domain_name = Default\nendpoint_override = {NEUTRON_URL}\n")


class NeutronAdmin:
    """Neutron's API as the service user, for the tests' own set-up and checks."""

    def __init__(self, keystone_env: Any) -> None:
        user = keystone_env.service_user
        auth = v3.Password(auth_url=keystone_env.auth_url, username=user.username,
                           password=user.password, project_name=user.project_name,
                           user_domain_id="default", project_domain_id="default")
        self.api = ks_adapter.Adapter(ks_session.Session(auth=auth, timeout=120),
                                      endpoint_override=NEUTRON_URL)
        self.created: list[tuple[str, str]] = []  # (collection, id) to delete at the end

    def get(self, path: str, **params: Any) -> Any:
        return self.api.get("/v2.0" + path, params=params).json()

    def create(self, collection: str, body: dict) -> dict:
        key = collection[:-1]
        obj = self.api.post(f"/v2.0/{collection}", json={key: body}).json()[key]
        self.created.append((collection, obj["id"]))
        return obj

    def port(self, port_id: str) -> Any:
        resp = self.api.get(f"/v2.0/ports/{port_id}", raise_exc=False)
        return resp.json()["port"] if resp.status_code == 200 else None

    def network_with_subnet(self, project_id: str, cidr: str) -> tuple[dict, dict]:
        net = self.create("networks", {"name": f"nlt-{uuid.uuid4().hex[:6]}",
                                       "project_id": project_id})
        subnet = self.create("subnets", {"network_id": net["id"], "cidr": cidr,
                                         "ip_version": 4, "project_id": project_id})
        return net, subnet

    def cleanup(self) -> None:
        for collection, ident in reversed(self.created):
            if collection == "networks":  # ports nobody deleted go with their network
                for port in self.get("/ports", network_id=ident)["ports"]:
                    self.api.delete(f"/v2.0/ports/{port['id']}", raise_exc=False)
            self.api.delete(f"/v2.0/{collection}/{ident}", raise_exc=False)


def _running_keystone() -> Any:
    """The KeystoneEnv of a Keystone that is up and seeded, else None. Checked with a
    login instead of re-running tools/setup-keystone, whose re-seed must wait for the
    catalog lock that a running Keystone-test deployment holds for minutes."""
    port = os.environ.get("KEYSTONE_PORT", "5000")
    base = f"http://127.0.0.1:{port}"
    state = os.environ.get("KEYSTONE_STATE", "/var/lib/nova-lite-keystone")
    venv = os.environ.get("KEYSTONE_VENV", "/opt/nova-lite/keystone-venv")
    env = ks_conftest.KeystoneEnv(
        clouds_yaml=f"{state}/clouds.yaml", auth_url=f"{base}/v3", www_authenticate_uri=base,
        openstack_cli=f"{venv}/bin/openstack", state_dir=state,
        accounts=ks_conftest._accounts(os.environ.get("KEYSTONE_ADMIN_PASSWORD", "admin")),
        service_user=ks_conftest.Account("", "nova", "nova-secret", "service"))
    if not os.path.exists(env.clouds_yaml) or not os.path.exists(env.openstack_cli):
        return None
    try:
        for who in ("admin", "member-a"):
            ks_conftest.login(env, who)
        NeutronAdmin(env).api.session.get_token()
    except Exception:  # not running, not seeded: let setup-keystone do it
        return None
    return env


@pytest.fixture(scope="session")
def keystone_env(request: pytest.FixtureRequest) -> Any:
    """Keystone for the Neutron tests: the running one, else tools/setup-keystone's."""
    return _running_keystone() or request.getfixturevalue("keystone")


@pytest.fixture(scope="session")
def neutron_stack(keystone_env: Any) -> str:
    """Install (once) and start the stack; skips only without a package index."""
    with neutron_lock():
        try:
            proc = subprocess.run([str(SETUP), "start"], env=setup_env(), capture_output=True,
                                  text=True, timeout=SETUP_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail(f"tools/setup-neutron took more than {SETUP_TIMEOUT}s")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        if "the package index is unreachable" in proc.stderr and not os.environ.get("CI"):
            pytest.skip(f"Neutron cannot be installed: no package index:\n{tail}")
        pytest.fail(f"tools/setup-neutron failed:\n{tail}")
    return proc.stdout.strip().splitlines()[-1]
