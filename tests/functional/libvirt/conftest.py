"""A real libvirtd, a real test image and a LibvirtDriver on a private state directory.

Skips (with the reason) when libvirt-python or qemu:///system is not available; run
tools/setup-libvirt first. The image is built by tools/build-test-image, whose download
cache (NOVA_LITE_TEST_IMAGE_CACHE, default /var/cache/nova-lite/test-image) makes
reruns fast.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Iterator

import pytest
from oslo_config import cfg

if TYPE_CHECKING:
    from tests.functional import harness

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
URI = "qemu:///system"
CONSOLE_TOKEN_TTL = 40  # seconds: long enough for a browser to connect, short to expire


def build_test_image(conf_path: str, name: str = "") -> str:
    """tools/build-test-image (built once per machine, in NOVA_LITE_TEST_IMAGE_CACHE)
    registered through the deployment of ``conf_path``: the bootable image's id. The
    test fails with the tool's error otherwise."""
    from tests.functional import harness

    cmd = [sys.executable, os.path.join(REPO, "tools", "build-test-image"), "--config-file",
           conf_path, "--work-dir",
           os.environ.get("NOVA_LITE_TEST_IMAGE_CACHE", "/var/cache/nova-lite/test-image")]
    path = harness.BIN + os.pathsep + os.environ["PATH"]
    proc = subprocess.run(cmd + (["--name", name] if name else []), capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PATH": path})
    if proc.returncode != 0:
        pytest.fail(f"tools/build-test-image failed:\n{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1]


if os.environ.get("NOVA_LITE_REQUIRE_LIBVIRT") == "1":
    # the test modules importorskip libvirt; that must not turn into a silent skip
    import libvirt  # noqa: F401


def _unavailable(reason: str) -> None:
    """Skip, or fail where libvirt was set up on purpose (CI exports
    NOVA_LITE_REQUIRE_LIBVIRT=1 after tools/setup-libvirt succeeded)."""
    if os.environ.get("NOVA_LITE_REQUIRE_LIBVIRT") == "1":
        pytest.fail(f"{reason}, but NOVA_LITE_REQUIRE_LIBVIRT=1")
    pytest.skip(reason)


def _require_libvirtd() -> None:
    try:
        import libvirt
    except ImportError:
        _unavailable("libvirt-python is not installed (run tools/setup-libvirt)")
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        libvirt.open(URI).close()
    except libvirt.libvirtError as err:
        _unavailable(f"{URI} is not reachable ({err.get_error_message()}); "
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
    try:
        image_id = build_test_image(conf_path)
    except BaseException:
        shutil.rmtree(state, ignore_errors=True)
        raise
    try:
        yield {"conf_path": conf_path, "state": state, "image_id": image_id,
               "virt_type": virt_type}
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _make_conf(conf_path: str) -> cfg.ConfigOpts:
    """A private ConfigOpts (the global CONF stays untouched for other tests)."""
    from nova_lite.conf import compute, console, default, image, libvirt, metadata, network

    conf = cfg.ConfigOpts()
    for mod in (default, compute, image, libvirt, console, metadata, network):
        mod.register_opts(conf)
    conf(["--config-file", conf_path], project="nova-lite-test")
    return conf


class RealDriver:
    """The driver under test plus what the tests need around it."""

    def __init__(self, env: dict) -> None:
        from nova_lite.image.api import HostImageSource
        from nova_lite.image.local import LocalImageStore
        from nova_lite.virt.libvirt import LibvirtDriver

        self.conf = _make_conf(env["conf_path"])
        self.store = LocalImageStore(self.conf.image.local_store_path)
        self.driver = LibvirtDriver("functional-host", HostImageSource(self.store), self.conf)
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


class ApiEnv:
    """A real deployment whose only compute host runs the libvirt driver."""

    def __init__(self, dep, host: str, image_id: str, virt_type: str) -> None:
        self.dep, self.host, self.image_id, self.virt_type = dep, host, image_id, virt_type
        import libvirt

        self.lv = libvirt
        self.conn = libvirt.open(URI)
        self.novncproxy_url: str = ""

    def start_novncproxy(self) -> str:
        """Start nova-lite-novncproxy for this deployment (once); its base URL."""
        import time

        import requests

        if not self.novncproxy_url:
            self.dep.start_proc("novncproxy", "nova-lite-novncproxy")
            port = self.dep.vnc_port
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(url + "/vnc_lite.html", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("nova-lite-novncproxy did not come up:\n"
                                       + self.dep.logs("novncproxy"))
                time.sleep(0.2)
            self.novncproxy_url = url
        return self.novncproxy_url

    def our_domains(self) -> list:
        """Domains nova_lite created for this deployment's compute host."""
        from nova_lite.virt.libvirt import config as vconfig

        out = []
        for dom in self.conn.listAllDomains(0):
            try:
                meta = dom.metadata(self.lv.VIR_DOMAIN_METADATA_ELEMENT, vconfig.METADATA_NS)
            except self.lv.libvirtError:  # no nova_lite metadata: not ours
                continue
            if vconfig.metadata_host(meta) == self.host:
                out.append(dom)
        return out

    def destroy_leftovers(self) -> None:
        for dom in self.our_domains():
            try:
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(self.lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
            except self.lv.libvirtError:  # best effort
                pass


@contextlib.contextmanager
def running(dep: harness.Deployment, host: str, virt_type: str, workdir: str
            ) -> Iterator[ApiEnv]:
    """Start the deployment ``dep`` (one libvirt ``host``) with the test image
    registered; afterwards stop it, destroy the guests it left on libvirtd (domain names
    are global there) and remove its ``workdir``, whatever happened."""
    env = None
    try:
        dep.setup()
        env = ApiEnv(dep, host, build_test_image(dep.common_conf), virt_type)
        yield env
    finally:
        dep.teardown()
        if env is not None:
            env.destroy_leftovers()
            env.conn.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def api_env() -> Iterator[ApiEnv]:
    """conductor, scheduler, API and ONE libvirt compute (separate processes), with the
    test image built into that deployment's image store."""
    from tests.functional import harness

    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    _require_libvirtd()
    from nova_lite.virt.libvirt import host as vhost

    virt_type = "kvm" if vhost.kvm_usable()[0] else "qemu"
    # Under /var/tmp, world-readable: QEMU (libvirt-qemu) must reach the instance files.
    workdir = tempfile.mkdtemp(prefix="nova-lite-api-guests-", dir="/var/tmp")
    os.chmod(workdir, 0o755)
    suffix = os.path.basename(workdir).rsplit("-", 1)[-1].lower()
    host = f"lv-{suffix}"
    vnc_port = harness.free_port()
    # Domain names are global on a libvirtd: keep ours apart from any other deployment's.
    dep = harness.Deployment(
        workdir, {host: {}},
        extra_conf=f"shutdown_timeout = 30\n[DEFAULT]\n"
                   f"instance_name_template = nlt-{suffix}-%08x\n"
                   # one compute host: a resize stays on it
                   "allow_resize_to_same_host = True\n"
                   # nova-lite-novncproxy, when a test starts it (env.start_novncproxy)
                   f"[vnc]\nnovncproxy_host = 127.0.0.1\nnovncproxy_port = {vnc_port}\n"
                   f"novncproxy_base_url = http://127.0.0.1:{vnc_port}/vnc_lite.html\n"
                   f"[consoleauth]\ntoken_ttl = {CONSOLE_TOKEN_TTL}\n",
        host_conf={host: f"[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n"
                         f"[libvirt]\nvirt_type = {virt_type}\nconnection_uri = {URI}\n"})
    dep.vnc_port = vnc_port  # type: ignore[attr-defined]
    with running(dep, host, virt_type, workdir) as env:
        yield env
