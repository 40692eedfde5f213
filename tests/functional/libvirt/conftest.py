"""A real libvirtd, a real test image and a LibvirtDriver on a private state directory.

Skips (with the reason) when libvirt-python or qemu:///system is not available; run
tools/setup-libvirt first. The image is built by tools/build-test-image, whose download
cache (NOVA_LITE_TEST_IMAGE_CACHE, default /var/cache/nova-lite/test-image) makes
reruns fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from typing import Iterator

import pytest
from oslo_config import cfg

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
URI = "qemu:///system"


def _require_libvirtd() -> None:
    try:
        import libvirt
    except ImportError:
        pytest.skip("libvirt-python is not installed (run tools/setup-libvirt)")
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        libvirt.open(URI).close()
    except libvirt.libvirtError as err:
        pytest.skip(f"{URI} is not reachable ({err.get_error_message()}); "
                    "run tools/setup-libvirt")


@pytest.fixture(scope="session")
def libvirt_env() -> Iterator[dict]:
    """conf path, state dir and bootable image id of a fresh nova_lite state."""
    _require_libvirtd()
    from nova_lite.virt.libvirt import host as vhost

    # Not under pytest's 0700 tmp dirs: QEMU runs as libvirt-qemu and must reach files.
    state = tempfile.mkdtemp(prefix="nova-lite-libvirt-", dir="/var/tmp")
    os.chmod(state, 0o755)
    virt_type = "kvm" if vhost.kvm_usable()[0] else "qemu"
    conf_path = os.path.join(state, "nova.conf")
    with open(conf_path, "w") as f:
        f.write(f"[DEFAULT]\nstate_path = {state}\n"
                f"[libvirt]\nvirt_type = {virt_type}\nconnection_uri = {URI}\n"
                "[compute]\nshutdown_timeout = 30\n")
    work_dir = os.environ.get("NOVA_LITE_TEST_IMAGE_CACHE", "/var/cache/nova-lite/test-image")
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "tools", "build-test-image"),
         "--config-file", conf_path, "--work-dir", work_dir],
        capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        shutil.rmtree(state, ignore_errors=True)
        pytest.fail(f"tools/build-test-image failed:\n{proc.stderr[-3000:]}")
    image_id = proc.stdout.strip().splitlines()[-1]
    try:
        yield {"conf_path": conf_path, "state": state, "image_id": image_id,
               "virt_type": virt_type}
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _make_conf(conf_path: str) -> cfg.ConfigOpts:
    """A private ConfigOpts (the global CONF stays untouched for other tests)."""
    from nova_lite.conf import compute, default, image, libvirt

    conf = cfg.ConfigOpts()
    for mod in (default, compute, image, libvirt):
        mod.register_opts(conf)
    conf(["--config-file", conf_path], project="nova-lite-test")
    return conf


class RealDriver:
    """The driver under test plus what the tests need around it."""

    def __init__(self, env: dict) -> None:
        from nova_lite.image.local import LocalImageStore
        from nova_lite.virt.libvirt import LibvirtDriver

        self.conf = _make_conf(env["conf_path"])
        self.store = LocalImageStore(self.conf.image.local_store_path)
        self.driver = LibvirtDriver("functional-host", self.store, self.conf)
        self.events: list[tuple[str, int]] = []
        self.driver.init_host(lambda u, s: self.events.append((u, s)))
        self.created: list = []  # InstanceSpecs to destroy at teardown, whatever happened

    def teardown(self) -> None:
        for spec in self.created:
            try:
                self.driver.destroy(spec)
            except Exception:  # noqa: BLE001 - best effort; report the rest
                pass
        self.driver.cleanup_host()


@pytest.fixture(scope="module")
def real_driver(libvirt_env: dict) -> Iterator[RealDriver]:
    rd = RealDriver(libvirt_env)
    try:
        yield rd
    finally:
        rd.teardown()
