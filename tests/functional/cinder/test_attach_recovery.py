"""A compute host killed (kill -9) in the middle of attaching a real Cinder volume: when
it starts again it finds the attach it did not finish and undoes it, so the volume is
available again at once (not only after the API's call times out) and the server has
no mapping for it. The host is fake (no guest); Cinder, Keystone and Glance are real.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Iterator

import pytest
import requests

from tests.functional import harness
from tests.functional.cinder.conftest import fake_hosts
from tests.functional.keystone import conftest as ks

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

HOST = "cr1"
RPC_TIMEOUT = 90  # the API's call outlives the test: only the restart can free the volume


@pytest.fixture(scope="module")
def dep(keystone: ks.KeystoneEnv, glance: ks.GlanceEnv, cinder_url: str,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    workdir = str(tmp_path_factory.mktemp("attach-recovery"))
    with fake_hosts(keystone, glance, workdir, [HOST],
                    f"[DEFAULT]\nrpc_response_timeout = {RPC_TIMEOUT}\n") as d:
        yield d


def test_restart_undoes_an_attach_the_host_died_in(dep: harness.Deployment,
                                                   keystone: ks.KeystoneEnv,
                                                   cinder_url: str):
    me = ks.login(keystone, "member-a")
    nova = {"X-Auth-Token": me.token, "OpenStack-API-Version": "compute 2.89"}
    cinder = {"X-Auth-Token": me.token}
    resp = requests.post(f"{dep.url}/v2.1/servers", headers=nova, timeout=30, json={
        "server": {"name": "hang", "imageRef": dep.image_id, "flavorRef": "42",
                   "networks": "none", "metadata": {"fake_volume_attach_hang": "1"}}})
    assert resp.status_code == 202, resp.text
    sid = resp.json()["server"]["id"]
    dep.wait_for_servers([sid], ("ACTIVE",))
    vid = requests.post(f"{cinder_url}/volumes", headers=cinder, timeout=30, json={
        "volume": {"size": 1, "name": "recovery"}}).json()["volume"]["id"]

    def volume() -> dict:
        return requests.get(f"{cinder_url}/volumes/{vid}", headers=cinder,
                            timeout=30).json()["volume"]

    def wait(status: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while volume()["status"] != status:
            assert time.monotonic() < deadline, (status, volume()["status"])
            time.sleep(0.3)
        return time.monotonic()

    try:
        wait("available", 60)
        def attach_call() -> None:  # answers only after the test (or never)
            try:
                requests.post(f"{dep.url}/v2.1/servers/{sid}/os-volume_attachments",
                              headers=nova, json={"volumeAttachment": {"volumeId": vid}},
                              timeout=RPC_TIMEOUT + 30)
            except requests.RequestException:
                pass
        attach = threading.Thread(target=attach_call, daemon=True)
        attach.start()
        wait("attaching", 30)  # exported to the host, which hangs plugging it in
        dep.stop_proc(f"compute-{HOST}", signal.SIGKILL)
        killed = time.monotonic()
        dep.start_proc(f"compute-{HOST}", "nova-lite-compute", dep.host_confs[HOST])
        freed = wait("available", 45)
        assert freed - killed < RPC_TIMEOUT / 2, freed - killed
        assert volume()["attachments"] == []
        listed = requests.get(f"{dep.url}/v2.1/servers/{sid}/os-volume_attachments",
                              headers=nova, timeout=30).json()["volumeAttachments"]
        assert listed == []
        log = open(os.path.join(dep.workdir, f"compute-{HOST}.log")).read()
        assert f"attach of volume {vid} was interrupted" in log
        print(f"\nvolume available {freed - killed:.1f} s after kill -9 of the host")
    finally:
        requests.delete(f"{dep.url}/v2.1/servers/{sid}", headers=nova, timeout=30)
        dep.wait_gone([sid])
        requests.delete(f"{cinder_url}/volumes/{vid}", headers=cinder, timeout=30)
