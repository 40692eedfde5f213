"""systemd: the units pass `systemd-analyze verify`, and a daemon tells systemd it is
ready (READY=1) and alive (WATCHDOG=1) through the NOTIFY_SOCKET it is given."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from tests.functional import harness

REPO = pathlib.Path(__file__).resolve().parents[2]
NOTIFYING = ("api", "conductor", "scheduler", "metadata-api", "placement-api", "compute")


@pytest.mark.parametrize("unit", NOTIFYING)
def test_unit_verifies_and_waits_for_readiness(unit, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    text = (REPO / "etc" / "systemd" / f"nova-lite-{unit}.service").read_text()
    assert "Type=notify" in text and "Restart=on-failure" in text
    assert "NotifyAccess=all" in text and "ExecReload=" in text
    # the installed commands of this environment stand in for /usr/local/bin
    path = tmp_path / f"nova-lite-{unit}.service"
    path.write_text(text.replace("/usr/local/bin/", harness.BIN + "/"))
    res = subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)],
                         capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning"))
    assert res.returncode == 0 and not res.stdout.strip(), res.stdout + res.stderr
    assert f"nova-lite-{unit}" not in res.stderr, res.stderr


def test_daemon_notifies_ready_and_watchdog(tmp_path):
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(1.0)
    conf = tmp_path / "nova.conf"
    placement_port = harness.free_port()  # nova-lite-all serves Placement too
    conf.write_text(f"[DEFAULT]\nosapi_compute_listen_port = {harness.free_port()}\n"
                    f"state_path = {tmp_path / 'state'}\n[embedded]\nplacement_api = true\n"
                    f"[placement_api]\nlisten = 127.0.0.1\nlisten_port = {placement_port}\n")
    env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000",
               NOVA_LITE_STATE_PATH=str(tmp_path / "state"))
    env.pop("WATCHDOG_PID", None)
    log = open(tmp_path / "all.log", "wb")
    proc = subprocess.Popen([os.path.join(harness.BIN, "nova-lite-all"), "--config-file",
                             str(conf)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    got: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (
                any("READY=1" in m for m in got) and "WATCHDOG=1" in got):
            try:
                got.append(sock.recv(4096).decode())
            except TimeoutError:
                assert proc.poll() is None, (tmp_path / "all.log").read_text()[-3000:]
        assert any(m.startswith("READY=1") for m in got), got
        assert "WATCHDOG=1" in got, got
        rps = requests.get(f"http://127.0.0.1:{placement_port}/resource_providers",
                           headers={"X-Auth-Token": "admin:admin"}, timeout=30)
        assert rps.status_code == 200 and len(rps.json()["resource_providers"]) == 1, rps.text
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "STOPPING=1" not in got:
            try:
                got.append(sock.recv(4096).decode())
            except TimeoutError:
                pass
        assert "STOPPING=1" in got, got
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        sock.close()


def test_all_is_not_ready_and_exits_when_an_api_cannot_listen(tmp_path):
    """READY=1 means every API listens: a Placement port already taken ends nova-lite-all
    with the reason instead of a daemon that says it is ready without it."""
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    conf = tmp_path / "nova.conf"
    conf.write_text(f"[DEFAULT]\nosapi_compute_listen_port = {harness.free_port()}\n"
                    f"state_path = {tmp_path / 'state'}\n[embedded]\nplacement_api = true\n"
                    f"[placement_api]\nlisten = 127.0.0.1\n"
                    f"listen_port = {taken.getsockname()[1]}\n")
    try:
        res = subprocess.run([os.path.join(harness.BIN, "nova-lite-all"), "--config-file",
                              str(conf)], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, NOTIFY_SOCKET=sock_path,
                                      NOVA_LITE_STATE_PATH=str(tmp_path / "state")))
        sock.setblocking(False)
        sent = []
        while True:
            try:
                sent.append(sock.recv(4096).decode())
            except BlockingIOError:
                break
    finally:
        taken.close()
        sock.close()
    assert res.returncode == 1, res.stderr[-2000:]
    assert "the Placement API could not start" in res.stderr, res.stderr[-2000:]
    assert not any("READY=1" in m for m in sent), sent
