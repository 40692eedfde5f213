"""Unmodified python-openstackclient moves a server with real Cinder volumes (Ceph RBD)
between two compute hosts (fake hypervisors: the libvirt driver moves guests within one
host only): `server migrate --wait` then `server migration confirm`, `server migrate
--live-migration --wait`, and `server evacuate` away from a host whose compute is dead
and forced down. Cinder is the witness: after each move every volume of the
server has exactly one attachment, attached, and it is not the one it had before
the move, on the host the server runs on (the volume's attachment names the host of the
connector it was exported with); the root volume and the data volume stay the server's."""

from __future__ import annotations

import signal
import time
from typing import Iterator

import pytest

from tests.functional.cinder.conftest import VolumeCloud, fake_hosts
from tests.functional.keystone import conftest as ks

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

TIMEOUT = 180


@pytest.fixture(scope="module")
def two_hosts(keystone: ks.KeystoneEnv, glance: ks.GlanceEnv, cinder_url: str,
              tmp_path_factory) -> Iterator[VolumeCloud]:
    """Two fake compute hosts with Keystone, Glance and the real Cinder."""
    with fake_hosts(keystone, glance, str(tmp_path_factory.mktemp("volume-moves")),
                    ["vm1", "vm2"]) as dep:
        env = type("Env", (), {"image_id": dep.image_id})()
        yield VolumeCloud(dep, keystone, env, cinder_url)  # type: ignore[arg-type]


def _attachments(c: VolumeCloud, sid: str, vids: list[str]) -> dict[str, str]:
    """{volume: its one attachment}: Cinder lists exactly one, attached, for each volume
    of the server, and it is the one the server's mapping names."""
    nova = c.compute("member-a", "GET", f"/servers/{sid}/os-volume_attachments")
    assert nova.status_code == 200, nova.text
    named = {a["volumeId"]: a["attachment_id"] for a in nova.json()["volumeAttachments"]}
    out = {}
    for vid in vids:
        listed = c.cinder("member-a", f"/attachments?volume_id={vid}")["attachments"]
        assert [(a["instance"], a["status"]) for a in listed] == [(sid, "attached")], listed
        assert listed[0]["id"] == named[vid], (listed, named)
        assert c.cinder("member-a", f"/volumes/{vid}")["volume"]["status"] == "in-use"
        out[vid] = listed[0]["id"]
    return out


def _on_host(c: VolumeCloud, vids: list[str], host: str) -> None:
    """Cinder has each volume attached on ``host`` (its connector's host)."""
    for vid in vids:
        atts = c.cinder("admin", f"/volumes/{vid}")["volume"]["attachments"]
        assert [a["host_name"] for a in atts] == [host], atts


def _all_new(before: dict, after: dict) -> None:
    assert set(after) == set(before) and not set(after.values()) & set(before.values()), \
        (before, after)


def test_migrate_and_live_migrate_keep_the_volumes(two_hosts: VolumeCloud):
    c = two_hosts
    sid, data = c.volume_backed_with_data("vm-mover", TIMEOUT)
    try:
        [root] = [v["id"] for v in c.server_status(sid, "ACTIVE", TIMEOUT)[
            "os-extended-volumes:volumes_attached"] if v["id"] != data]
        vids = [root, data]
        host = c.server_status(sid, "ACTIVE", TIMEOUT)["OS-EXT-SRV-ATTR:host"]
        before = _attachments(c, sid, vids)

        t0 = time.monotonic()
        c.cli("admin", "server", "migrate", "--wait", sid, timeout=TIMEOUT)
        shown = c.server_status(sid, "VERIFY_RESIZE", TIMEOUT)
        migrate_s = time.monotonic() - t0
        other = shown["OS-EXT-SRV-ATTR:host"]
        assert other != host
        during = _attachments(c, sid, vids)
        _all_new(before, during)
        c.cli("admin", "server", "migration", "confirm", sid)
        c.server_status(sid, "ACTIVE", TIMEOUT)
        assert _attachments(c, sid, vids) == during

        t0 = time.monotonic()
        c.cli("admin", "server", "migrate", "--live-migration", "--wait", sid,
              timeout=TIMEOUT)
        shown = c.server_status(sid, "ACTIVE", TIMEOUT)
        live_s = time.monotonic() - t0
        assert shown["OS-EXT-SRV-ATTR:host"] == host
        _all_new(during, _attachments(c, sid, vids))
        print(f"\nmoves with two volumes (fake hosts, real Cinder): migrate "
              f"{migrate_s:.1f} s, live migration {live_s:.1f} s")
    finally:
        c.run("member-a", "server", "delete", "--wait", sid, timeout=TIMEOUT)
        c.wait_volume("member-a", data, "available")
        c.run("member-a", "volume", "delete", data)


def test_evacuate_takes_the_volumes_to_the_new_host(two_hosts: VolumeCloud):
    c, dep = two_hosts, two_hosts.dep
    v = ("--os-compute-api-version", "2.29")  # evacuated servers come back ACTIVE
    sid, data = c.volume_backed_with_data("vm-evacuee", TIMEOUT)
    victim = None
    try:
        shown = c.server_status(sid, "ACTIVE", TIMEOUT)
        [root] = [x["id"] for x in shown["os-extended-volumes:volumes_attached"]
                  if x["id"] != data]
        vids, victim = [root, data], shown["OS-EXT-SRV-ATTR:host"]
        before = _attachments(c, sid, vids)
        _on_host(c, vids, victim)

        dep.stop_proc(f"compute-{victim}", signal.SIGKILL)
        c.cli("admin", *v, "compute", "service", "set", "--down", victim, "nova-compute")
        t0 = time.monotonic()
        # (this openstackclient's --wait never sees the ACTIVE it waits for: its
        # success status is upper case, the one it compares lower case)
        c.cli("admin", *v, "server", "evacuate", sid, timeout=TIMEOUT)
        shown = c.server_status(sid, "ACTIVE", TIMEOUT)
        evacuate_s = time.monotonic() - t0
        other = shown["OS-EXT-SRV-ATTR:host"]
        assert other not in (victim, None), shown
        after = _attachments(c, sid, vids)
        _all_new(before, after)
        _on_host(c, vids, other)
        for vid in vids:
            assert c.wait_volume("member-a", vid, "in-use")["attachments"][0][
                "server_id"] == sid
        print(f"\nevacuation with two volumes (fake hosts, real Cinder): {evacuate_s:.1f} s")
    finally:
        if victim:
            dep.start_proc(f"compute-{victim}", "nova-lite-compute",
                           dep.host_confs[victim])
            c.run("admin", *v, "compute", "service", "set", "--up", victim,
                  "nova-compute")
        c.run("member-a", "server", "delete", "--wait", sid, timeout=TIMEOUT)
        c.wait_volume("member-a", data, "available")
        c.run("member-a", "volume", "delete", data)
