"""A real Keystone for the tests in this directory, started by tools/setup-keystone.

The script is idempotent and quick when Keystone already runs (about a second), so the
session fixture always calls it. When it fails because the packages cannot be installed
(no network to the package index) the tests are skipped; any other failure is an error.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
SETUP = REPO / "tools" / "setup-keystone"
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


@pytest.fixture(scope="session")
def keystone() -> KeystoneEnv:
    """Install (once), start and seed Keystone; the accounts and clouds.yaml to use."""
    try:
        proc = subprocess.run([str(SETUP), "start"], capture_output=True, text=True,
                              timeout=SETUP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"tools/setup-keystone took more than {SETUP_TIMEOUT}s")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        if "pip install failed" in proc.stderr:
            pytest.skip(f"Keystone could not be installed (no package index?):\n{tail}")
        pytest.fail(f"tools/setup-keystone failed:\n{tail}")
    clouds_yaml = proc.stdout.strip().splitlines()[-1]
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
