"""Compute hosts in their own network namespaces (tools/multihost), the controller in the
root namespace: servers boot across three hosts that reach the control plane only over
the bridge, each host reports its namespace address as its host_ip, and `down` leaves
no namespace, link, relay or process behind."""

from __future__ import annotations

import collections
import os
import random
import subprocess
import sys
from typing import Iterator

import pytest

from tests.functional import accounting, harness
from tests.functional.conftest import require_services
from tests.functional.test_boot_flow import delete_all, image_id

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "multihost")


def require_netns() -> None:
    """Skip (a failure under CI=true) where namespaces cannot be made: not root, no ip."""
    if os.geteuid() != 0:
        pytest.skip("tools/multihost needs root (ip netns)")
    probe = f"nlprobe{os.getpid() % 10000}"
    res = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot create network namespaces: {res.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def free_subnet() -> str:
    """A 10.77.x.0/24 no interface of this machine uses (tools/multihost's default, .0,
    is left to an operator's own `up`)."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True,
                          text=True).stdout
    for x in random.sample(range(100, 250), 150):
        if f" 10.77.{x}." not in used:
            return f"10.77.{x}.0/24"
    raise RuntimeError("no free 10.77.x.0/24")


class Multihost:
    def __init__(self, workdir: str, run_id: str) -> None:
        self.state_dir = os.path.join(workdir, "multihost")
        self.prefix = f"nlt{run_id[:5]}"
        self.subnet = free_subnet()

    def run(self, *args: str) -> str:
        res = subprocess.run([sys.executable, TOOL, *args, "--state-dir", self.state_dir],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        return res.stdout

    def up(self, n: int, base_conf: str, host_conf: str) -> dict[str, str]:
        """{host: address} of the n hosts."""
        out = self.run("up", str(n), "--prefix", self.prefix, "--subnet", self.subnet,
                       "--config-file", base_conf, "--host-conf", host_conf,
                       "--host-prefix", f"{self.prefix}-",
                       "--compute", os.path.join(harness.BIN, "nova-lite-compute"))
        hosts = {}
        for line in out.splitlines():
            if " netns " in line:
                words = line.split()
                hosts[words[5]] = words[3]
        return hosts

    def leftovers(self) -> list[str]:
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True,
                               text=True).stdout
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        procs = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if self.state_dir.encode() in f.read():
                        procs.append(pid)
            except OSError:
                pass
        return ([line for line in netns.splitlines() if self.prefix in line]
                + [line for line in links.splitlines() if self.prefix in line]
                + [f"process {pid}" for pid in procs])


@pytest.fixture(scope="module")
def namespaced(tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[harness.Deployment, Multihost, dict[str, str]]]:
    """A controller in the root namespace (no computes of its own) and three fake
    compute hosts, each in its own namespace."""
    require_services()
    require_netns()
    workdir = str(tmp_path_factory.mktemp("multihost"))
    dep = harness.Deployment(workdir, {})
    mh = Multihost(workdir, dep.run_id)
    try:
        dep.setup()
        # The one thing that is not TCP: the hosts read images from the controller's local
        # image store, standing in for Glance (reached through the relay with --relay 9292).
        host_conf = os.path.join(workdir, "hosts-extra.conf")
        with open(host_conf, "w") as f:
            f.write(f"[image]\nbackend = local\n"
                    f"local_store_path = {dep.state_path}/images\n"
                    "[fake_driver]\nvcpus = 16\nmemory_mb = 32768\nlocal_gb = 500\n")
        hosts = mh.up(3, dep.common_conf, host_conf)
        dep.computes.update({h: {} for h in hosts})
        dep.wait_for_computes(list(hosts))
        dep.manage("cell_v2", "discover_hosts")
        yield dep, mh, hosts
    finally:
        try:
            mh.run("down")
        finally:
            dep.teardown()


def test_servers_boot_across_namespaced_hosts(namespaced, tmp_path_factory):
    dep, mh, hosts = namespaced
    assert len(hosts) == 3 and len(set(hosts.values())) == 3
    # each compute really runs in a namespace of its own, not the controller's
    own_ns = os.readlink("/proc/self/ns/net")
    for info_dir in ("h1", "h2", "h3"):
        assert os.path.exists(os.path.join(mh.state_dir, info_dir, "nova.conf"))
    pids = subprocess.run(["ip", "netns", "pids", f"{mh.prefix}-h1"], capture_output=True,
                          text=True).stdout.split()
    assert pids and all(os.readlink(f"/proc/{p}/ns/net") != own_ns for p in pids)

    hvs = dep.get("/os-hypervisors/detail").json()["hypervisors"]
    assert {hv["service"]["host"]: hv["host_ip"] for hv in hvs} == hosts

    image = image_id(dep, tmp_path_factory)
    ids = []
    for i in range(6):
        r = dep.post("/servers", {"server": {"name": f"ns-{i}", "imageRef": image,
                                             "flavorRef": "1"}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["server"]["id"])
    servers = dep.wait_for_servers(ids, timeout=60)
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}, [
        s.get("fault") for s in servers.values()]
    per_host = collections.Counter(s["OS-EXT-SRV-ATTR:host"] for s in servers.values())
    assert set(per_host) == set(hosts), per_host
    accounting.assert_consistent(dep)

    delete_all(dep, ids)
    accounting.assert_consistent(dep)

    # down takes everything away, and a second down finds nothing to do
    mh.run("down")
    assert mh.leftovers() == []
    mh.run("down")
