"""Unmodified python-openstackclient extends a volume attached to a real guest
(`volume set --size`, volume API 3.42): Cinder grows the RBD image and sends
volume-extended to this deployment (its [nova] section, the catalog's compute endpoint),
the compute host resizes the guest's disk, and the guest sees the new size (it prints
each disk's size as it changes). The server's actions record extend_volume."""

from __future__ import annotations

import json
import time

import pytest

from tests.functional.cinder.conftest import VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 180
CONSOLE_TIMEOUT = 90
SIZE_MARKER = "NOVA-LITE-GUEST-DISK-SIZE"
GiB = 1024 ** 3


def test_extend_an_attached_volume_with_openstackclient(volume_cloud: VolumeCloud):
    c = volume_cloud
    sid = json.loads(c.cli(
        "member-a", "server", "create", "--flavor", "m1.nano", "--image", c.image_id,
        "--nic", "none", "--wait", "-f", "json", "extend-guest",
        timeout=BOOT_TIMEOUT))["id"]
    vid = json.loads(c.cli("member-a", "volume", "create", "--size", "1", "-f", "json",
                           "osc-extend"))["id"]
    try:
        c.wait_volume("member-a", vid, "available")
        c.console_has(sid, "NOVA-LITE-GUEST-UP", BOOT_TIMEOUT)
        c.cli("member-a", "server", "add", "volume", sid, vid)
        c.wait_volume("member-a", vid, "in-use")
        c.console_has(sid, f"{SIZE_MARKER} vdb={GiB}", CONSOLE_TIMEOUT)

        c.point_catalog()  # Cinder finds this deployment there to send the event
        t0 = time.monotonic()
        c.cli("member-a", "--os-volume-api-version", "3.42", "volume", "set", "--size",
              "2", vid)
        c.console_has(sid, f"{SIZE_MARKER} vdb={2 * GiB}", CONSOLE_TIMEOUT)
        extend_s = time.monotonic() - t0
        vol = c.wait_volume("member-a", vid, "in-use")
        assert vol["size"] == 2, vol
        actions = json.loads(c.cli("member-a", "server", "event", "list", sid,
                                   "-f", "json"))
        assert "extend_volume" in [a["Action"] for a in actions], actions
        print(f"\nvolume set --size 2 of an attached volume -> the guest sees 2 GiB: "
              f"{extend_s:.1f} s")
    finally:
        if c.run("member-a", "server", "remove", "volume", sid, vid).returncode == 0:
            c.wait_volume("member-a", vid, "available")
        c.run("member-a", "server", "delete", "--wait", sid)
        c.run("member-a", "volume", "delete", vid)
