"""A real guest reads what the cloud says about it: a config drive (ISO 9660, config-2)
built on the compute host from the conductor's metadata, attached read-only, mounted by
the guest, whose /init prints its uuid, hostname and key on the serial console; and it
shows its console through VNC.

One deployment (separate daemons, RabbitMQ, MariaDB, one libvirt compute) and one TCG
guest for the whole module.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

pytestmark = [pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 180
USER_DATA = b"NOVA-LITE-USER-DATA-LINE from the functional test\nsecond line\n"


def _console(env, sid: str) -> str:
    r = env.dep.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert r.status_code == 200, r.text
    return r.json()["output"]


def _wait_line(env, sid: str, pattern: str, timeout: float = BOOT_TIMEOUT) -> tuple[str, float]:
    start = time.monotonic()
    rx = re.compile(pattern)
    while time.monotonic() - start < timeout:
        for line in _console(env, sid).splitlines():
            if rx.search(line):
                return line, time.monotonic() - start
        time.sleep(0.5)
    pytest.fail(f"{pattern!r} not on the console of {sid} within {timeout}s:\n"
                f"{_console(env, sid)[-3000:]}")


@pytest.fixture(scope="module")
def guest(api_env) -> dict:
    env = api_env
    t0 = time.monotonic()
    r = env.dep.post("/servers", {"server": {
        "name": "cd-guest", "imageRef": env.image_id, "flavorRef": "42",
        "config_drive": True, "metadata": {"purpose": "config-drive-test"},
        "user_data": base64.b64encode(USER_DATA).decode()}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    server = env.dep.wait_for_servers([sid], timeout=BOOT_TIMEOUT)[sid]
    assert server["status"] == "ACTIVE", server
    return {"id": sid, "posted": t0}


def test_guest_reads_its_config_drive(api_env, guest):
    env, sid = api_env, guest["id"]
    line, _ = _wait_line(env, sid, r"NOVA-LITE-CONFIG-DRIVE uuid=")
    took = time.monotonic() - guest["posted"]
    print(f"\nPOST /servers -> config drive marker: {took:.1f} s ({line})")
    assert f"uuid={sid}" in line and "hostname=cd-guest.novalocal" in line
    ud, _ = _wait_line(env, sid, r"NOVA-LITE-USER-DATA ")
    assert ud.endswith("NOVA-LITE-USER-DATA NOVA-LITE-USER-DATA-LINE from the functional test")

    server = env.dep.get(f"/servers/{sid}").json()["server"]
    assert server["config_drive"] == "True"


def test_config_drive_image_on_the_host(api_env, guest):
    env, sid = api_env, guest["id"]
    dom = env.conn.lookupByUUIDString(sid)
    xml = ET.fromstring(dom.XMLDesc(0))
    drive = [d for d in xml.findall("./devices/disk") if d.find("target").get("dev") == "vdb"]
    assert drive and drive[0].find("readonly") is not None
    path = drive[0].find("source").get("file")
    assert path == os.path.join(env.dep.state_path, "instances", sid, "disk.config")
    isoinfo = shutil.which("isoinfo")
    assert isoinfo, "isoinfo is missing (tools/setup-consoles installs genisoimage)"
    info = subprocess.run([isoinfo, "-d", "-i", path], capture_output=True, text=True,
                          check=True).stdout
    assert "Volume id: config-2" in info
    md = json.loads(subprocess.run(
        [isoinfo, "-R", "-x", "/openstack/latest/meta_data.json", "-i", path],
        capture_output=True, check=True).stdout)
    assert md["uuid"] == sid and md["meta"] == {"purpose": "config-drive-test"}
    assert subprocess.run([isoinfo, "-R", "-x", "/openstack/latest/user_data", "-i", path],
                          capture_output=True, check=True).stdout == USER_DATA
    nd = json.loads(subprocess.run(
        [isoinfo, "-R", "-x", "/openstack/latest/network_data.json", "-i", path],
        capture_output=True, check=True).stdout)
    assert set(nd) == {"links", "networks", "services"}


def test_delete_removes_the_drive(api_env, guest):
    env, sid = api_env, guest["id"]
    inst_dir = os.path.join(env.dep.state_path, "instances", sid)
    assert os.path.exists(os.path.join(inst_dir, "disk.config"))
    assert env.dep.delete(f"/servers/{sid}").status_code == 204
    env.dep.wait_gone([sid])
    assert not os.path.exists(inst_dir)
