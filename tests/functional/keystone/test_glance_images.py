"""Images from the real Glance: uploaded with openstackclient, downloaded over HTTP by
compute hosts that share no directory, verified, refused when tampered with, and seen
through Nova's image proxy. Glance is shared by every test run on the machine, so every
image here has a unique name and is deleted by the test that made it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import uuid
from typing import Iterator

import pytest

from tests.functional.keystone.conftest import Cloud, glance_delete, login

V235 = {"OpenStack-API-Version": "compute 2.35", "X-OpenStack-Nova-API-Version": "2.35"}
V298 = {"OpenStack-API-Version": "compute 2.98", "X-OpenStack-Nova-API-Version": "2.98"}


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, (proc.args, proc.stdout, proc.stderr)
    return proc.stdout


class Images:
    """Images one test uploads, and servers it boots; all removed at its end."""

    def __init__(self, cloud: Cloud, tmp_path) -> None:
        self.cloud, self.tmp_path = cloud, tmp_path
        self.ids: list[str] = []
        self.servers: list[str] = []

    def upload(self, who: str = "member-a", size: int = 1024 * 1024,
               *extra: str) -> dict:
        path = self.tmp_path / f"{uuid.uuid4().hex}.raw"
        path.write_bytes(os.urandom(size))
        name = f"glance-test-{uuid.uuid4().hex[:10]}"
        image = json.loads(_ok(self.cloud.cli(
            who, "image", "create", "--file", str(path), "--disk-format", "raw",
            "--container-format", "bare", *extra, "-f", "json", name)))
        self.ids.append(image["id"])
        assert image["status"] == "active" and image["name"] == name
        image["data"] = path.read_bytes()
        return image

    def boot(self, who: str, image_id: str, host: str | None = None, count: int = 1,
             **extra: object) -> list[str]:
        server: dict = {"name": f"g-{uuid.uuid4().hex[:6]}", "imageRef": image_id,
                        "flavorRef": "42", "min_count": count, "max_count": count, **extra}
        if host:
            server["availability_zone"] = f"nova:{host}"
        resp = self.cloud.call(who, "POST", "/servers",
                               {"server": {**server, "return_reservation_id": True}})
        assert resp.status_code == 202, resp.text
        rid = resp.json()["reservation_id"]
        found = self.cloud.call("admin", "GET",
                                f"/servers?all_tenants=1&reservation_id={rid}").json()
        ids = [s["id"] for s in found["servers"]]
        assert len(ids) == count
        self.servers.extend(ids)
        return ids

    def settle(self, ids: list[str]) -> dict:
        return self.cloud.dep.wait_for_servers(ids, timeout=120)

    def cleanup(self) -> None:
        for server_id in self.servers:
            self.cloud.call("admin", "DELETE", f"/servers/{server_id}")
        if self.servers:
            self.cloud.dep.wait_gone(self.servers)
        token = login(self.cloud.keystone, "admin").token
        for image_id in self.ids:
            glance_delete(self.cloud.glance.url, token, image_id)


@pytest.fixture
def images(cloud: Cloud, tmp_path) -> Iterator[Images]:
    made = Images(cloud, tmp_path)
    try:
        yield made
    finally:
        made.cleanup()


def _base(cloud: Cloud, host: str, image_id: str) -> str:
    name = hashlib.sha1(image_id.encode(), usedforsecurity=False).hexdigest()
    return os.path.join(cloud.dep.host_state(host), "instances", "_base", name)


def _downloads(cloud: Cloud, image_id: str) -> int:
    """GETs of the image's data that Glance served (its access log)."""
    with open(cloud.glance.access_log) as f:
        return sum(1 for line in f
                   if re.search(rf'"GET /v2/images/{image_id}/file HTTP', line))


def test_boot_from_glance_on_hosts_that_share_no_directory(cloud: Cloud, images: Images):
    image = images.upload("member-a")
    # Three boots at once on kc1 and one on kc2: each host downloads the image once,
    # the boots on kc1 wait for the one download.
    on_kc1 = images.boot("admin", image["id"], host="kc1", count=3)
    on_kc2 = images.boot("admin", image["id"], host="kc2")
    servers = images.settle(on_kc1 + on_kc2)
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}, servers
    assert _downloads(cloud, image["id"]) == 2
    # member-a's own boot, as a user would: by image name, waiting for ACTIVE
    created = json.loads(_ok(cloud.cli(
        "member-a", "server", "create", "--image", image["name"], "--flavor", "m1.nano",
        "--nic", "none", "--wait", "-f", "json", f"gl-{uuid.uuid4().hex[:6]}",
        timeout=180)))
    images.servers.append(created["id"])
    assert created["status"] == "ACTIVE"
    shown = json.loads(_ok(cloud.cli("member-a", "server", "show", created["id"],
                                     "-f", "json")))
    assert shown["image"] == f"{image['name']} ({image['id']})"
    host = cloud.call("admin", "GET", f"/servers/{created['id']}").json()["server"][
        "OS-EXT-SRV-ATTR:host"]
    # from the host's cache on kc1 or kc2; a first download on any other host
    assert _downloads(cloud, image["id"]) == len({"kc1", "kc2", host})
    hosts = {cloud.dep.host_state("kc1"), cloud.dep.host_state("kc2")}
    assert len(hosts) == 2
    for host in ("kc1", "kc2"):
        with open(_base(cloud, host, image["id"]), "rb") as f:
            assert f.read() == image["data"]
        # no image store on a compute host: everything came over HTTP
        assert not os.path.exists(os.path.join(cloud.dep.host_state(host), "images"))
        leftovers = [n for n in os.listdir(os.path.dirname(_base(cloud, host, image["id"])))
                     if n.endswith(".download") or n.endswith(".part")]
        assert leftovers == []


def test_private_image_of_another_project_is_refused(cloud: Cloud, images: Images):
    image = images.upload("member-b", 4096, "--private")
    resp = cloud.call("member-a", "POST", "/servers", {"server": {
        "name": "not-mine", "imageRef": image["id"], "flavorRef": "42"}})
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == "Can not find requested image"
    # openstackclient does not even find it for member-a
    proc = cloud.cli("member-a", "server", "create", "--image", image["id"], "--flavor",
                     "m1.nano", "--nic", "none", "nope")
    assert proc.returncode != 0
    [server] = images.boot("member-b", image["id"])
    assert images.settle([server])[server]["status"] == "ACTIVE"


def test_tampered_image_data_in_glance_is_refused(cloud: Cloud, images: Images):
    image = images.upload("member-a", 65536)
    stored = os.path.join(cloud.glance.store_dir, image["id"])
    with open(stored, "r+b") as f:  # same size, different bytes: only a hash tells
        f.seek(100)
        f.write(b"tampered")
    [server] = images.boot("admin", image["id"], host="kc2")
    failed = images.settle([server])[server]
    assert failed["status"] == "ERROR"
    assert "failed its size or checksum verification" in failed["fault"]["message"]
    base = _base(cloud, "kc2", image["id"])
    assert not os.path.exists(base)
    assert [n for n in os.listdir(os.path.dirname(base)) if n.endswith(".download")] == []


def test_tampered_cached_base_is_refused_then_fetched_again(cloud: Cloud, images: Images):
    image = images.upload("member-a", 65536)
    [first] = images.boot("admin", image["id"], host="kc1")
    assert images.settle([first])[first]["status"] == "ACTIVE"
    base = _base(cloud, "kc1", image["id"])
    with open(base, "r+b") as f:
        f.write(b"tampered")
    [second] = images.boot("admin", image["id"], host="kc1")
    failed = images.settle([second])[second]
    assert failed["status"] == "ERROR"
    assert "failed verification and was removed" in failed["fault"]["message"]
    assert not os.path.exists(base)
    [third] = images.boot("admin", image["id"], host="kc1")
    assert images.settle([third])[third]["status"] == "ACTIVE"
    with open(base, "rb") as f:
        assert f.read() == image["data"]
    assert _downloads(cloud, image["id"]) == 2


def test_image_properties_at_boot_are_what_298_shows(cloud: Cloud, images: Images):
    image = images.upload("member-a", 4096, "--property", "os_distro=debian",
                          "--property", "hw_vif_model=e1000")
    [server] = images.boot("member-a", image["id"])
    assert images.settle([server])[server]["status"] == "ACTIVE"
    _ok(cloud.cli("member-a", "image", "set", "--property", "os_distro=changed",
                  image["id"]))
    shown = cloud.call("member-a", "GET", f"/servers/{server}", **V298).json()["server"]
    props = shown["image"]["properties"]
    assert props["os_distro"] == "debian" and props["hw_vif_model"] == "e1000"


def test_image_proxy_is_backed_by_glance(cloud: Cloud, images: Images):
    mine = images.upload("member-a", 4096, "--property", "os_distro=debian")
    theirs = images.upload("member-b", 4096, "--private")
    listed = cloud.call("member-a", "GET", "/images/detail", **V235).json()["images"]
    by_id = {i["id"]: i for i in listed}
    assert mine["id"] in by_id and theirs["id"] not in by_id
    assert by_id[mine["id"]]["status"] == "ACTIVE"
    assert by_id[mine["id"]]["OS-EXT-IMG-SIZE:size"] == 4096
    assert by_id[mine["id"]]["metadata"]["os_distro"] == "debian"
    base = f"/images/{mine['id']}/metadata"
    resp = cloud.call("member-a", "POST", base, {"metadata": {"a": "1"}}, **V235)
    assert resp.status_code == 200 and resp.json()["metadata"]["a"] == "1"
    resp = cloud.call("member-a", "DELETE", f"{base}/os_distro", **V235)
    assert resp.status_code == 204
    shown = json.loads(_ok(cloud.cli("member-a", "image", "show", mine["id"], "-f", "json")))
    assert shown["properties"]["a"] == "1" and "os_distro" not in shown["properties"]
    assert cloud.call("member-a", "GET", f"/images/{theirs['id']}",
                      **V235).status_code == 404
    assert cloud.call("member-a", "DELETE", f"/images/{theirs['id']}",
                      **V235).status_code == 404
    assert cloud.call("member-a", "DELETE", f"/images/{mine['id']}",
                      **V235).status_code == 204
    proc = cloud.cli("member-a", "image", "show", mine["id"])
    assert proc.returncode != 0
    assert cloud.call("member-a", "GET", "/images", **{
        "OpenStack-API-Version": "compute 2.36"}).status_code == 404
