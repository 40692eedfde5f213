"""nova-lite-metadata-api as its own process beside a real deployment (RabbitMQ,
MariaDB, conductor): requests signed as Neutron's metadata proxy signs them get the
instance's data from the conductor; the service itself has no database settings."""

from __future__ import annotations

import base64
import statistics
import time
from typing import Iterator

import pytest
import requests

from nova_lite.api.metadata.handler import sign
from tests.functional import harness

SECRET = "functional-metadata-secret"


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    port = harness.free_port()
    dep = harness.Deployment(
        str(tmp_path_factory.mktemp("metadata")), {"m1": {}},
        extra_conf=f"[DEFAULT]\nmetadata_listen = 127.0.0.1\nmetadata_listen_port = {port}\n"
                   f"[neutron]\nmetadata_proxy_shared_secret = {SECRET}\n")
    dep.metadata_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    try:
        dep.setup()
        # Only the common file: no [database] / [api_database] settings at all.
        dep.start_proc("metadata", "nova-lite-metadata-api")
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(dep.metadata_url + "/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, dep.logs("metadata")
            time.sleep(0.2)
        yield dep
    finally:
        dep.teardown()


def _get(dep, path: str, uuid: str, project: str, secret: str = SECRET,
         **kw) -> requests.Response:
    headers = {"X-Instance-ID": uuid, "X-Tenant-ID": project,
               "X-Instance-ID-Signature": sign(secret, uuid)}
    return requests.request(kw.pop("method", "GET"), dep.metadata_url + path,
                            headers=headers, timeout=30, **kw)


def test_metadata_through_the_conductor(dep):
    user_data = b"#cloud-config\nhostname: md-vm\n"
    r = dep.post("/os-keypairs", {"keypair": {"name": "md-key"}})  # generated (< 2.92)
    assert r.status_code == 200, r.text
    public_key = r.json()["keypair"]["public_key"]
    r = dep.post("/servers", {"server": {
        "name": "md-vm", "imageRef": _image(dep), "flavorRef": "42", "key_name": "md-key",
        "metadata": {"tier": "db"}, "user_data": base64.b64encode(user_data).decode()}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    server = dep.wait_for_servers([sid])[sid]
    assert server["status"] == "ACTIVE"
    project = server["tenant_id"]

    md = _get(dep, "/openstack/latest/meta_data.json", sid, project)
    assert md.status_code == 200, md.text
    body = md.json()
    assert (body["uuid"], body["name"], body["meta"], body["project_id"],
            body["availability_zone"]) == (sid, "md-vm", {"tier": "db"}, project, "nova")
    assert body["public_keys"] == {"md-key": public_key}
    assert body["keys"] == [{"name": "md-key", "type": "ssh", "data": public_key}]
    assert _get(dep, "/latest/meta-data/public-keys/0/openssh-key", sid,
                project).text == public_key
    assert _get(dep, "/openstack/latest/user_data", sid, project).content == user_data
    assert _get(dep, "/latest/meta-data/instance-id", sid, project).text.startswith("i-")
    assert _get(dep, "/openstack/latest/meta_data.json", sid, project,
                secret="not-the-secret").status_code == 403
    assert _get(dep, "/openstack/latest/meta_data.json", sid, "other").status_code == 404

    # the guest posts its password once; the owner reads and clears it through the API
    assert _get(dep, "/openstack/latest/password", sid, project, method="POST",
                data=b"c2VjcmV0").status_code == 200
    assert _get(dep, "/openstack/latest/password", sid, project, method="POST",
                data=b"again").status_code == 409
    url = f"/servers/{sid}/os-server-password"
    assert dep.get(url).json() == {"password": "c2VjcmV0"}
    assert dep.delete(url).status_code == 204
    assert dep.get(url).json() == {"password": ""}

    # latency: the first request of an instance reads the conductor, the next are cached
    cold, warm = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        assert _get(dep, "/openstack/latest/network_data.json", sid, project).json() == {
            "links": [], "networks": [], "services": []}
        warm.append(time.perf_counter() - t0)
    for _ in range(3):
        requests.post(dep.metadata_url + "/openstack/latest/password", timeout=30,
                      headers={"X-Instance-ID": sid, "X-Tenant-ID": project,
                               "X-Instance-ID-Signature": sign(SECRET, sid)},
                      data=b"")  # a POST drops the cached copy
        t0 = time.perf_counter()
        _get(dep, "/openstack/latest/meta_data.json", sid, project)
        cold.append(time.perf_counter() - t0)
    print(f"\nmetadata request latency: cached median {statistics.median(warm) * 1000:.1f} ms,"
          f" through the conductor median {statistics.median(cold) * 1000:.1f} ms")

    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid])
    assert "Traceback" not in dep.logs("metadata")


def _image(dep) -> str:
    import os

    path = os.path.join(dep.workdir, "md.raw")
    with open(path, "wb") as f:
        f.write(b"\0" * 4096)
    return dep.manage("image", "import", "--name", "md", path).stdout.strip().splitlines()[-1]
