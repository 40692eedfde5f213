"""Real guests on a real Neutron network: ports, VIF plugging, events, DHCP, ping.

One deployment (every daemon its own process) whose only compute host runs the libvirt
driver under the OVN chassis' host name, so Neutron binds its ports; the API listens on
the fixed URL Neutron sends events to. Two guests boot on one network (one on a port
created by nova_lite, one on a port the test created), get DHCP addresses equal to
the API's ``addresses`` and ping each other (console marker lines). Then a port is
attached and detached, the servers are deleted (the created port goes, the
pre-created one stays, unbound), and a guest whose network-vif-plugged never comes
(the API refuses Neutron's events) goes to ERROR with a fault after the timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from typing import Any, Iterator

import pytest

from tests.functional import harness
from tests.functional.libvirt import conftest as lv
from tests.functional.neutron.conftest import (CHASSIS, EVENTS_PORT, NeutronAdmin,
                                               neutron_lock, nova_neutron_conf)

libvirt = pytest.importorskip("libvirt")

# The first test also pays for the module's deployment, image and two TCG boots.
pytestmark = [pytest.mark.libvirt, pytest.mark.slow, pytest.mark.timeout(1500)]

URI = "qemu:///system"
BOOT_TIMEOUT = 240
VIF_TIMEOUT = 40  # [DEFAULT] vif_plugging_timeout of the deployment
IP_RE = re.compile(r"NOVA-LITE-GUEST-IP eth0 (\S+)/(\d+) mac (\S+)")
PROJECT = "nlt-net-" + uuid.uuid4().hex[:8]
TOKEN = f"user1:{PROJECT}"
MAX = {"OpenStack-API-Version": "compute 2.90"}


class Env:
    def __init__(self, dep: harness.Deployment, neutron: NeutronAdmin, image_id: str,
                 policy_file: str) -> None:
        self.dep, self.neutron, self.image_id = dep, neutron, image_id
        self.policy_file = policy_file
        self.conn = libvirt.open(URI)
        self.figures: dict[str, float] = {}

    def call(self, method: str, path: str, body: Any = None, token: str = TOKEN) -> Any:
        return self.dep.request(method, path, token=token, body=body, headers=MAX)

    def server(self, sid: str) -> dict:
        r = self.call("GET", f"/servers/{sid}")
        assert r.status_code == 200, r.text
        return r.json()["server"]

    def wait(self, sid: str, status: str, timeout: float = BOOT_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            s = self.server(sid)
            if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
                return s
            if s["status"] == "ERROR" and status != "ERROR" or time.monotonic() > deadline:
                pytest.fail(f"{sid}: {s['status']} {s.get('fault')}\n"
                            f"{self.dep.logs('compute-' + CHASSIS)[-4000:]}")
            time.sleep(0.3)

    def console(self, sid: str) -> str:
        r = self.call("POST", f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
        assert r.status_code == 200, r.text
        return r.json()["output"]

    def wait_console(self, sid: str, pattern: str, timeout: float = BOOT_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.console(sid)
            if re.search(pattern, out):
                return out
            time.sleep(1)
        pytest.fail(f"{sid}: {pattern!r} not on the console:\n{self.console(sid)[-3000:]}")

    def domain_xml(self, sid: str) -> str:
        return self.conn.lookupByUUIDString(sid).XMLDesc(0)

    def destroy_leftovers(self) -> None:
        from nova_lite.virt.libvirt import config as vconfig

        prefix = os.path.basename(self.dep.workdir)
        for dom in self.conn.listAllDomains(0):
            try:
                meta = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, vconfig.METADATA_NS)
            except libvirt.libvirtError:
                continue
            if vconfig.metadata_host(meta) == CHASSIS and prefix[-6:] in dom.name():
                try:
                    if dom.isActive():
                        dom.destroy()
                    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
                except libvirt.libvirtError:
                    pass


@pytest.fixture(scope="module")
def env(neutron_stack: str, keystone_env: Any) -> Iterator[Env]:
    from tests.functional.libvirt.conftest import _require_libvirtd

    if not harness.mariadb_available() or not harness.rabbit_available():
        pytest.skip("MariaDB or RabbitMQ is not reachable")
    _require_libvirtd()
    from nova_lite.virt.libvirt import host as vhost

    virt_type = "kvm" if vhost.kvm_usable()[0] else "qemu"
    workdir = tempfile.mkdtemp(prefix="nova-lite-neutron-", dir="/var/tmp")
    os.chmod(workdir, 0o755)
    suffix = os.path.basename(workdir).rsplit("-", 1)[-1].lower()[-6:]
    policy_file = os.path.join(workdir, "policy.yaml")
    with open(policy_file, "w") as f:
        f.write("{}\n")
    with neutron_lock():
        dep = harness.Deployment(
            workdir, {CHASSIS: {}},
            extra_conf=f"[DEFAULT]\ninstance_name_template = nlt-{suffix}-%08x\n"
                       f"vif_plugging_timeout = {VIF_TIMEOUT}\n"
                       f"[oslo_policy]\npolicy_file = {policy_file}\n"
                       + nova_neutron_conf(keystone_env),
            host_conf={CHASSIS: f"[DEFAULT]\ncompute_driver = libvirt.LibvirtDriver\n"
                                f"[libvirt]\nvirt_type = {virt_type}\n"
                                f"connection_uri = {URI}\n"})
        dep.port, dep.url = EVENTS_PORT, f"http://127.0.0.1:{EVENTS_PORT}"
        neutron = NeutronAdmin(keystone_env)
        env = None
        try:
            dep.setup()
            env = Env(dep, neutron, lv.build_test_image(dep.common_conf), policy_file)
            yield env
            print("\nfigures:", env.figures)
        finally:
            dep.teardown()
            if env is not None:
                env.destroy_leftovers()
                env.conn.close()
            neutron.cleanup()
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def net(env: Env) -> dict:
    network, subnet = env.neutron.network_with_subnet(PROJECT, "10.42.0.0/28")
    return {"network": network, "subnet": subnet}


@pytest.fixture(scope="module")
def guests(env: Env, net: dict) -> dict:
    """a: a port nova_lite creates; b: a port the test created first."""
    pre = env.neutron.create("ports", {"network_id": net["network"]["id"],
                                       "project_id": PROJECT, "name": "precreated"})
    started = time.monotonic()
    ids = {}
    # c has no network: the same boot without ports, for comparison
    for name, networks in (("a", [{"uuid": net["network"]["id"]}]),
                           ("b", [{"port": pre["id"]}]), ("c", "none")):
        r = env.call("POST", "/servers", {"server": {
            "name": f"net-{name}", "imageRef": env.image_id, "flavorRef": "42",
            "networks": networks}})
        assert r.status_code == 202, r.text
        ids[name] = r.json()["server"]["id"]
    return {"ids": ids, "pre": pre, "started": started}


def test_guests_get_dhcp_addresses_that_match_the_api_and_ping_each_other(env, net,
                                                                           guests):
    ids = dict(guests["ids"])
    plain = ids.pop("c")
    # Poll every console at once: when each guest is up (all three), when a and b have
    # their DHCP address, seconds after the POSTs.
    wanted = {(n, "up"): "NOVA-LITE-GUEST-UP" for n in ("a", "b", "c")}
    wanted.update({(n, "ip"): "NOVA-LITE-GUEST-IP eth0" for n in ids})
    seen: dict = {}
    deadline = time.monotonic() + BOOT_TIMEOUT
    while len(seen) < len(wanted) and time.monotonic() < deadline:
        for name in ("a", "b", "c"):
            if all(k in seen for k in wanted if k[0] == name):
                continue
            server = env.server(guests["ids"][name])
            if server["status"] == "ERROR":  # no use waiting for its console
                pytest.fail(f"{name}: ERROR {server.get('fault')}\n"
                            f"{env.dep.logs('compute-' + CHASSIS)[-4000:]}")
            if server["status"] != "ACTIVE":
                continue
            out = env.console(guests["ids"][name])
            for key, marker in wanted.items():
                if key[0] == name and key not in seen and marker in out:
                    seen[key] = round(time.monotonic() - guests["started"], 1)
        time.sleep(1)
    env.figures.update({f"post_to_{k[1]}_marker_{k[0]}": v for k, v in seen.items()})
    assert len(seen) == len(wanted), (seen, env.dep.logs("compute-" + CHASSIS)[-3000:])
    addrs = {}
    for name, sid in ids.items():
        s = env.wait(sid, "ACTIVE")
        [entry] = s["addresses"][net["network"]["name"]]
        assert entry["OS-EXT-IPS:type"] == "fixed" and entry["version"] == 4
        out = env.console(sid)
        ip, prefix, mac = IP_RE.search(out).groups()
        assert (ip, mac) == (entry["addr"], entry["OS-EXT-IPS-MAC:mac_addr"]), out
        assert prefix == "28"
        addrs[name] = ip
        xml = env.domain_xml(sid)
        assert "<virtualport type='openvswitch'>" in xml and f"address='{mac}'" in xml
        assert "<mtu size='1442'/>" in xml
        port = env.neutron.get("/ports", device_id=sid)["ports"][0]
        assert port["binding:host_id"] == CHASSIS and port["status"] == "ACTIVE"
        assert port["device_owner"] == "compute:nova"
    assert env.neutron.port(guests["pre"]["id"])["device_id"] == ids["b"]
    for me, peer in (("a", "b"), ("b", "a")):
        env.wait_console(ids[me], rf"NOVA-LITE-GUEST-PING {re.escape(addrs[peer])} ok",
                         timeout=120)
    env.figures["post_to_pings"] = round(time.monotonic() - guests["started"], 1)
    out = env.console(plain)
    assert "NOVA-LITE-GUEST-IP" not in out and "<interface" not in env.domain_xml(plain)
    assert env.server(plain)["addresses"] == {}
    # ips and the ip filter agree
    r = env.call("GET", f"/servers/{ids['a']}/ips")
    assert r.json()["addresses"] == {net["network"]["name"]: [{"version": 4,
                                                               "addr": addrs["a"]}]}
    r = env.call("GET", f"/servers?ip={re.escape(addrs['b'])}$")
    assert [s["id"] for s in r.json()["servers"]] == [ids["b"]]


def test_events_neutron_sent_were_routed_to_the_compute_host(env, guests):
    with open(os.path.join(env.dep.workdir, f"compute-{CHASSIS}.log")) as f:
        log = f.read()
    seen = re.findall(r"instance \S+: event (\S+) (\S*) ?(\S+)$", log, re.M)
    env.figures["events_seen"] = sorted({f"{n} {s}" for n, _, s in seen})  # type: ignore
    assert any(n == "network-vif-plugged" for n, _, _ in seen), log[-3000:]


def test_attach_and_detach_a_port(env, net, guests):
    sid = guests["ids"]["a"]
    extra = env.neutron.create("ports", {"network_id": net["network"]["id"],
                                         "project_id": PROJECT, "name": "hotplug"})
    base = f"/servers/{sid}/os-interface"
    r = env.call("POST", base, {"interfaceAttachment": {"port_id": extra["id"]}})
    assert r.status_code == 200, r.text
    assert r.json()["interfaceAttachment"]["port_id"] == extra["id"]
    assert f"address='{extra['mac_address']}'" in env.domain_xml(sid)
    assert env.neutron.port(extra["id"])["binding:host_id"] == CHASSIS
    ports = {a["port_id"] for a in env.call("GET", base).json()["interfaceAttachments"]}
    assert extra["id"] in ports and len(ports) == 2
    assert len(env.server(sid)["addresses"][net["network"]["name"]]) == 2

    assert env.call("DELETE", f"{base}/{extra['id']}").status_code == 202
    deadline = time.monotonic() + 60
    while f"address='{extra['mac_address']}'" in env.domain_xml(sid):
        assert time.monotonic() < deadline, "the NIC was not unplugged"
        time.sleep(0.5)
    deadline = time.monotonic() + 30
    while env.neutron.port(extra["id"])["device_id"]:
        assert time.monotonic() < deadline, "the port was not unbound"
        time.sleep(0.5)
    assert env.neutron.port(extra["id"]) is not None  # the user's port is kept


def test_delete_removes_created_ports_and_keeps_the_precreated_one(env, guests):
    ids = guests["ids"]
    created = [p["id"] for p in env.neutron.get("/ports", device_id=ids["a"])["ports"]]
    assert created
    for sid in ids.values():
        assert env.call("DELETE", f"/servers/{sid}").status_code == 204
    env.dep.wait_gone(list(ids.values()), timeout=120)
    for port_id in created:
        assert env.neutron.port(port_id) is None
    pre = env.neutron.port(guests["pre"]["id"])
    assert pre is not None and pre["device_id"] == "" and pre["device_owner"] == ""


def test_a_guest_whose_vif_plugged_never_comes_goes_to_error(env, net):
    with open(env.policy_file, "w") as f:
        f.write('"os_compute_api:os-server-external-events:create": "!"\n')
    time.sleep(1.1)  # the policy file is re-read when its mtime changes
    try:
        started = time.monotonic()
        r = env.call("POST", "/servers", {"server": {
            "name": "net-timeout", "imageRef": env.image_id, "flavorRef": "42",
            "networks": [{"uuid": net["network"]["id"]}]}})
        assert r.status_code == 202, r.text
        sid = r.json()["server"]["id"]
        s = env.wait(sid, "ERROR", timeout=VIF_TIMEOUT + 120)
        env.figures["post_to_error_on_vif_timeout"] = round(time.monotonic() - started, 1)
        assert time.monotonic() - started >= VIF_TIMEOUT
        assert "Virtual Interface creation failed" in s["fault"]["message"], s["fault"]
        assert env.neutron.get("/ports", device_id=sid)["ports"] == []  # released
        assert env.call("DELETE", f"/servers/{sid}").status_code == 204
        env.dep.wait_gone([sid])
    finally:
        with open(env.policy_file, "w") as f:
            f.write("{}\n")
