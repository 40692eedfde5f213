"""The metadata service: Neutron proxy signatures, every path of the OpenStack and EC2
trees, the password a guest posts, the cache; and /servers/{id}/os-server-password."""

from __future__ import annotations

import base64
import json
import types
from typing import Any

import pytest
import webob

from nova_lite.api.metadata import base, handler
from tests.unit.api.fake_conductor import FakeConductor

SECRET = "s3cret"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests alice@example"
USER_DATA = b"#!/bin/sh\necho hello\n"
VIF = {
    "id": "0c8f2b3e-aaaa-4bbb-8ccc-111122223333", "address": "fa:16:3e:11:22:33",
    "type": "ovs", "devname": "tap0c8f2b3e-aa",
    "network": {"id": "net-1", "label": "private", "mtu": 1442, "subnets": [{
        "id": "sub-1", "cidr": "10.1.0.0/24", "ip_version": 4, "gateway": "10.1.0.1",
        "dns": ["10.1.0.2"], "enable_dhcp": True,
        "host_routes": [{"destination": "192.168.7.0/24", "nexthop": "10.1.0.9"}],
        "ips": [{"address": "10.1.0.5", "type": "fixed",
                 "floating_ips": [{"address": "203.0.113.7", "type": "floating"}]}]}]},
}


def _conf(ttl: int = 15, vendordata: str | None = None) -> Any:
    return types.SimpleNamespace(
        api=types.SimpleNamespace(metadata_cache_expiration=ttl, dhcp_domain="novalocal",
                                  vendordata_jsonfile_path=vendordata),
        neutron=types.SimpleNamespace(metadata_proxy_shared_secret=SECRET))


@pytest.fixture
def conductor() -> FakeConductor:
    cond = FakeConductor()
    inst = cond.add_server(name="web-1", hostname="web-1",
                           user_data=base64.b64encode(USER_DATA).decode(),
                           metadata={"role": "web"})
    cond.keypairs[inst.uuid] = [{"name": "alice-key", "type": "ssh", "public_key": KEY}]
    cond.network_info[inst.uuid] = [VIF]
    return cond


@pytest.fixture
def inst(conductor: FakeConductor) -> Any:
    return next(iter(conductor.servers.values()))


class Meta:
    def __init__(self, app: handler.MetadataApp) -> None:
        self.app = app

    def __call__(self, path: str, inst: Any = None, method: str = "GET",
                 body: bytes | None = None, headers: dict | None = None,
                 tenant: str | None = None, signature: str | None = None) -> webob.Response:
        req = webob.Request.blank(path, method=method)
        if inst is not None:
            req.headers["X-Instance-ID"] = inst.uuid
            req.headers["X-Tenant-ID"] = tenant or inst.project_id
            req.headers["X-Instance-ID-Signature"] = signature or handler.sign(
                SECRET, inst.uuid)
        for k, v in (headers or {}).items():
            req.headers[k] = v
        if body is not None:
            req.body = body
        resp = req.get_response(self.app)
        assert resp.status_int < 500, resp.text
        return resp


@pytest.fixture
def meta(conductor: FakeConductor) -> Meta:
    return Meta(handler.MetadataApp(_conf(), conductor))


# -- who is asking ------------------------------------------------------------------------

def test_signature_is_neutrons_hmac_sha256() -> None:
    import hashlib
    import hmac

    want = hmac.new(b"k", b"abc", hashlib.sha256).hexdigest()
    assert handler.sign("k", "abc") == want


@pytest.mark.parametrize("drop", ["X-Instance-ID", "X-Tenant-ID", "X-Instance-ID-Signature"])
def test_missing_proxy_header_is_400(meta: Meta, inst: Any, drop: str) -> None:
    headers = {"X-Instance-ID": inst.uuid, "X-Tenant-ID": inst.project_id,
               "X-Instance-ID-Signature": handler.sign(SECRET, inst.uuid)}
    headers.pop(drop)
    resp = meta("/openstack/latest/meta_data.json", headers=headers)
    assert resp.status_int == 400
    assert f"{drop} header is missing" in resp.text


def test_bad_signature_is_403_and_reads_nothing(meta: Meta, inst: Any,
                                                conductor: FakeConductor) -> None:
    resp = meta("/openstack/latest/meta_data.json", inst,
                signature=handler.sign("wrong-secret", inst.uuid))
    assert resp.status_int == 403
    assert "instance_metadata" not in conductor.calls


def test_signature_of_another_instance_is_403(meta: Meta, inst: Any,
                                              conductor: FakeConductor) -> None:
    other = conductor.add_server(name="other")
    resp = meta("/openstack/latest/meta_data.json", inst,
                signature=handler.sign(SECRET, other.uuid))
    assert resp.status_int == 403


def test_empty_shared_secret_refuses_everything(conductor: FakeConductor, inst: Any) -> None:
    conf = _conf()
    conf.neutron.metadata_proxy_shared_secret = ""
    resp = Meta(handler.MetadataApp(conf, conductor))(
        "/openstack/latest/meta_data.json", inst, signature=handler.sign("", inst.uuid))
    assert resp.status_int == 403


def test_tenant_mismatch_is_404(meta: Meta, inst: Any) -> None:
    assert meta("/openstack/latest/meta_data.json", inst, tenant="proj-b").status_int == 404


def test_unknown_instance_is_404(meta: Meta) -> None:
    ghost = types.SimpleNamespace(uuid="6f0e7f5e-0000-4000-8000-000000000000",
                                  project_id="proj-a")
    assert meta("/openstack/latest/meta_data.json", ghost).status_int == 404


def test_root_lists_versions_without_headers(meta: Meta) -> None:
    resp = meta("/")
    assert resp.status_int == 200
    assert resp.text.splitlines() == list(base.EC2_VERSIONS) + ["latest"]


# -- the OpenStack tree ----------------------------------------------------------------------

def test_openstack_versions_and_listing(meta: Meta, inst: Any) -> None:
    assert meta("/openstack", inst).text.splitlines() == list(base.OPENSTACK_VERSIONS) + [
        "latest"]
    latest = meta("/openstack/latest", inst).text.splitlines()
    assert latest == ["meta_data.json", "password", "vendor_data.json", "network_data.json",
                      "vendor_data2.json", "user_data"]
    assert meta("/openstack/2012-08-10/", inst).text.splitlines() == [
        "meta_data.json", "password", "vendor_data.json", "user_data"]
    assert meta("/openstack/1999-01-01/meta_data.json", inst).status_int == 404


def test_meta_data_json(meta: Meta, inst: Any) -> None:
    resp = meta("/openstack/latest/meta_data.json", inst)
    assert resp.status_int == 200 and resp.content_type == "application/json"
    md = resp.json
    assert md["uuid"] == inst.uuid
    assert md["name"] == "web-1"
    assert md["hostname"] == "web-1.novalocal"
    assert md["public_keys"] == {"alice-key": KEY}
    assert md["keys"] == [{"name": "alice-key", "type": "ssh", "data": KEY}]
    assert md["availability_zone"] == "nova"
    assert md["project_id"] == inst.project_id
    assert md["meta"] == {"role": "web"}
    assert md["launch_index"] == 0
    assert len(base64.b64decode(md["random_seed"])) == 512
    assert md["devices"] == []
    old = meta("/openstack/2012-08-10/meta_data.json", inst).json
    assert "project_id" not in old and "keys" not in old and "random_seed" not in old


def test_network_data_json(meta: Meta, inst: Any) -> None:
    nd = meta("/openstack/latest/network_data.json", inst).json
    assert nd["links"] == [{"id": "tap0c8f2b3e-aa",
                            "vif_id": "0c8f2b3e-aaaa-4bbb-8ccc-111122223333",
                            "type": "ovs", "mtu": 1442,
                            "ethernet_mac_address": "fa:16:3e:11:22:33"}]
    [net] = nd["networks"]
    assert net["type"] == "ipv4_dhcp" and net["ip_address"] == "10.1.0.5"
    assert net["netmask"] == "255.255.255.0" and net["network_id"] == "net-1"
    assert net["routes"] == [{"network": "0.0.0.0", "netmask": "0.0.0.0",
                              "gateway": "10.1.0.1"},
                             {"network": "192.168.7.0", "netmask": "255.255.255.0",
                              "gateway": "10.1.0.9"}]
    assert nd["services"] == [{"type": "dns", "address": "10.1.0.2"}]


def test_network_data_without_ports_is_empty(meta: Meta, conductor: FakeConductor) -> None:
    bare = conductor.add_server(name="bare")
    assert meta("/openstack/latest/network_data.json", bare).json == {
        "links": [], "networks": [], "services": []}
    assert meta("/latest/meta-data/local-ipv4", bare).text == ""
    assert meta("/openstack/latest/user_data", bare).status_int == 404
    assert "user_data" not in meta("/openstack/latest", bare).text


def test_user_data_and_vendor_data(conductor: FakeConductor, inst: Any, tmp_path) -> None:
    vd = tmp_path / "vendor.json"
    vd.write_text(json.dumps({"region": "lab"}))
    meta = Meta(handler.MetadataApp(_conf(vendordata=str(vd)), conductor))
    assert meta("/openstack/latest/user_data", inst).body == USER_DATA
    assert meta("/openstack/latest/vendor_data.json", inst).json == {"region": "lab"}
    assert meta("/openstack/latest/vendor_data2.json", inst).json == {}
    assert meta("/openstack/2016-06-30/vendor_data2.json", inst).status_int == 404


def test_password_post_once_then_conflict(meta: Meta, inst: Any,
                                          conductor: FakeConductor) -> None:
    assert meta("/openstack/latest/password", inst).text == ""
    assert meta("/openstack/latest/password", inst, method="POST",
                body=b"ENCRYPTED").status_int == 200
    assert conductor.passwords[inst.uuid] == "ENCRYPTED"
    assert meta("/openstack/latest/password", inst).text == "ENCRYPTED"  # not cached stale
    again = meta("/openstack/latest/password", inst, method="POST", body=b"OTHER")
    assert again.status_int == 409
    too_big = meta("/openstack/latest/password", inst, method="POST", body=b"x" * 257)
    assert too_big.status_int == 400
    assert meta("/openstack/latest/meta_data.json", inst, method="POST",
                body=b"x").status_int == 405


# -- the EC2 tree ------------------------------------------------------------------------

def test_ec2_tree(meta: Meta, inst: Any) -> None:
    assert meta("/latest", inst).text.splitlines() == ["meta-data/", "user-data"]
    listing = meta("/latest/meta-data/", inst).text.splitlines()
    for name in ("ami-id", "hostname", "instance-id", "local-ipv4", "placement/",
                 "public-keys/", "reservation-id", "instance-type"):
        assert name in listing
    assert meta("/latest/meta-data/instance-id", inst).text == f"i-{inst.id:08x}"
    assert meta("/latest/meta-data/local-ipv4", inst).text == "10.1.0.5"
    assert meta("/latest/meta-data/public-ipv4", inst).text == "203.0.113.7"
    assert meta("/latest/meta-data/hostname", inst).text == "web-1.novalocal"
    assert meta("/latest/meta-data/placement/availability-zone", inst).text == "nova"
    assert meta("/latest/meta-data/public-keys", inst).text == "0=alice-key"
    assert meta("/latest/meta-data/public-keys/0", inst).text == "openssh-key"
    assert meta("/latest/meta-data/public-keys/0/openssh-key", inst).text == KEY
    assert meta("/2009-04-04/user-data", inst).body == USER_DATA
    assert meta("/latest/meta-data/nope", inst).status_int == 404
    assert meta("/latest/meta-data/public-keys/0/_name", inst).status_int == 404
    assert meta("/1234/meta-data/", inst).status_int == 404


def test_head_has_no_body(meta: Meta, inst: Any) -> None:
    resp = meta("/openstack/latest/meta_data.json", inst, method="HEAD")
    assert resp.status_int == 200 and resp.body == b""


# -- the cache -------------------------------------------------------------------------------

def test_metadata_is_cached_for_its_ttl(conductor: FakeConductor, inst: Any) -> None:
    meta = Meta(handler.MetadataApp(_conf(ttl=60), conductor))
    for _ in range(3):
        assert meta("/openstack/latest/meta_data.json", inst).status_int == 200
    assert conductor.calls.count("instance_metadata") == 1
    uncached = Meta(handler.MetadataApp(_conf(ttl=0), conductor))
    for _ in range(2):
        uncached("/openstack/latest/meta_data.json", inst)
    assert conductor.calls.count("instance_metadata") == 3


def test_cache_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(handler.time, "monotonic", lambda: clock[0])
    cache = handler.MetadataCache(15)
    cache.put("u", "md")  # type: ignore[arg-type]
    assert cache.get("u") == "md"
    clock[0] += 16
    assert cache.get("u") is None


# -- the config drive content ----------------------------------------------------------------

def test_config_drive_files_match_the_service(conductor: FakeConductor, inst: Any) -> None:
    source = conductor.instance_metadata(None, inst.uuid)
    md = base.InstanceMetadata(source, "novalocal", for_config_drive=True)
    files = dict(md.files())
    assert json.loads(files["openstack/latest/meta_data.json"])["uuid"] == inst.uuid
    assert files["openstack/latest/user_data"] == USER_DATA
    assert json.loads(files["openstack/latest/network_data.json"])["links"][0][
        "ethernet_mac_address"] == "fa:16:3e:11:22:33"
    assert "openstack/latest/password" not in files  # the service's only
    assert "openstack/2012-08-10/meta_data.json" in files
    ec2 = json.loads(files["ec2/latest/meta-data.json"])
    assert ec2["public-keys"] == {"alice-key": [KEY]}
    assert files["ec2/2009-04-04/user-data"] == USER_DATA


# -- /servers/{id}/os-server-password -----------------------------------------------------------

def test_server_password_show_and_clear(client, conductor: FakeConductor) -> None:
    inst = conductor.add_server(project_id="proj-a")
    conductor.passwords[inst.uuid] = "ENC"
    url = f"/v2.1/servers/{inst.uuid}/os-server-password"
    assert client.get(url, token="alice:proj-a").json == {"password": "ENC"}
    assert client.delete(url, token="alice:proj-a").status_int == 204
    assert client.get(url).json == {"password": ""}
    assert client.get(url, token="bob:proj-b").status_int == 404
