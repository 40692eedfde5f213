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

from tests.functional import guest_console

libvirt = pytest.importorskip("libvirt")

pytestmark = [pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 180
USER_DATA = b"NOVA-LITE-USER-DATA-LINE from the functional test\nsecond line\n"


def _console(env, sid: str) -> str:
    r = env.dep.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert r.status_code == 200, r.text
    return r.json()["output"]


# A kernel message ("[    7.728149] [drm] ...", up to its newline) that the guest's
# kernel wrote into the middle of a line its /init was printing.
KERNEL_MESSAGE = re.compile(r"\[\s*\d+\.\d+\] [^\n]*\n?")


def _wait_line(env, sid: str, pattern: str, timeout: float = BOOT_TIMEOUT) -> tuple[str, float]:
    """The first console line matching ``pattern``, as /init printed it (without the
    kernel's messages written into it meanwhile)."""
    start = time.monotonic()
    rx = re.compile(pattern)
    while time.monotonic() - start < timeout:
        for line in KERNEL_MESSAGE.sub("", _console(env, sid)).splitlines():
            if rx.search(line):
                return line, time.monotonic() - start
        time.sleep(0.5)
    pytest.fail(f"{pattern!r} not on the console of {sid} within {timeout}s:\n"
                f"{_console(env, sid)[-3000:]}")


KEY_COMMENT = "nova-lite-test@example"


def _public_key(directory) -> str:
    path = os.path.join(str(directory), "id")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", KEY_COMMENT, "-f",
                    path], check=True, capture_output=True, timeout=30)
    with open(path + ".pub") as f:
        return f.read().strip()


@pytest.fixture(scope="module")
def guest(api_env, tmp_path_factory) -> dict:
    env = api_env
    key = _public_key(tmp_path_factory.mktemp("key"))
    r = env.dep.post("/os-keypairs", {"keypair": {"name": "cd-key", "public_key": key}})
    assert r.status_code == 200, r.text
    t0 = time.monotonic()
    r = env.dep.post("/servers", {"server": {
        "name": "cd-guest", "imageRef": env.image_id, "flavorRef": "42",
        "key_name": "cd-key",
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
    assert f"key=cd-key comment={KEY_COMMENT}" in line, line
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
    assert md["public_keys"]["cd-key"].endswith(KEY_COMMENT)
    assert md["keys"][0]["name"] == "cd-key" and md["keys"][0]["type"] == "ssh"
    assert subprocess.run([isoinfo, "-R", "-x", "/openstack/latest/user_data", "-i", path],
                          capture_output=True, check=True).stdout == USER_DATA
    nd = json.loads(subprocess.run(
        [isoinfo, "-R", "-x", "/openstack/latest/network_data.json", "-i", path],
        capture_output=True, check=True).stdout)
    assert set(nd) == {"links", "networks", "services"}


def _token(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


def test_vnc_console_in_a_browser(api_env, guest, tmp_path_factory):
    """The URL from POST remote-consoles opens noVNC in headless Chromium, which shows the
    guest's screen; the token leads to the guest's VNC server; an unknown token and,
    after [consoleauth] token_ttl, an expired one are refused."""
    from tests.functional.libvirt.conftest import CONSOLE_TOKEN_TTL

    env, sid = api_env, guest["id"]
    proxy = env.start_novncproxy()
    _wait_line(env, sid, r"NOVA-LITE-CONFIG-DRIVE uuid=")  # booted: the screen has text
    body = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    hdr = {"OpenStack-API-Version": "compute 2.6"}
    r = env.dep.post(f"/servers/{sid}/remote-consoles", body, headers=hdr)
    assert r.status_code == 200, r.text
    first_url = r.json()["remote_console"]["url"]
    first_made = time.monotonic()
    assert first_url.startswith(proxy + "/vnc_lite.html?path=%3Ftoken%3D")

    # the admin's view of the token: this host's VNC port of the guest
    r = env.dep.get(f"/os-console-auth-tokens/{_token(first_url)}",
                    headers={"OpenStack-API-Version": "compute 2.31"})
    assert r.status_code == 200, r.text
    info = r.json()["console"]
    dom = env.conn.lookupByUUIDString(sid)
    port = int(ET.fromstring(dom.XMLDesc(0)).find("./devices/graphics").get("port"))
    assert (info["instance_uuid"], info["host"], info["port"]) == (sid, "127.0.0.1", port)

    # the websocket reaches QEMU's VNC server (its RFB greeting); bad tokens get a 403
    status, greeting = guest_console.ws_open(proxy, f"/?token={_token(first_url)}")
    assert status == 101 and greeting.startswith(b"RFB 003.008"), (status, greeting)
    assert guest_console.ws_open(proxy, "/?token=not-a-token")[0] == 403
    assert guest_console.ws_open(proxy, "/")[0] == 403

    # the legacy action gives a working URL too
    r = env.dep.post(f"/servers/{sid}/action", {"os-getVNCConsole": {"type": "novnc"}},
                     headers={"OpenStack-API-Version": "compute 2.5"})
    assert r.status_code == 200, r.text
    url = r.json()["console"]["url"]

    shot_dir = os.environ.get("NOVA_LITE_SCREENSHOT_DIR")  # to keep the picture
    shot = (tmp_path_factory.mktemp("vnc") if not shot_dir
            else __import__("pathlib").Path(shot_dir)) / "vnc-console.png"
    colours, status_text = guest_console.browser_screenshot(url, str(shot))
    print(f"\nnoVNC status {status_text!r}, {colours} colours on the canvas; "
          f"screenshot {shot}")
    assert status_text.startswith("Connected"), status_text
    assert colours >= 2  # the guest's text console, not a blank screen

    left = CONSOLE_TOKEN_TTL - (time.monotonic() - first_made) + 1.5
    if left > 0:
        time.sleep(left)
    assert guest_console.ws_open(proxy, f"/?token={_token(first_url)}")[0] == 403  # expired
    r = env.dep.get(f"/os-console-auth-tokens/{_token(first_url)}",
                    headers={"OpenStack-API-Version": "compute 2.31"})
    assert r.status_code == 404
    assert "Traceback" not in env.dep.logs("novncproxy")


def test_delete_removes_the_drive(api_env, guest):
    env, sid = api_env, guest["id"]
    inst_dir = os.path.join(env.dep.state_path, "instances", sid)
    assert os.path.exists(os.path.join(inst_dir, "disk.config"))
    assert env.dep.delete(f"/servers/{sid}").status_code == 204
    env.dep.wait_gone([sid])
    assert not os.path.exists(inst_dir)
