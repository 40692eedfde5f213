"""os-keypairs: import and generation, fingerprints, microversion shapes and codes,
paging, policy, quota, and key_name on server create."""

from __future__ import annotations

import pytest

from nova_lite import crypto
from tests.unit.api.conftest import ALICE, BOB

KP = "/v2.1/os-keypairs"
# An ed25519 key and its MD5 fingerprint as `ssh-keygen -E md5 -lf` prints it.
SSH_KEY = None


@pytest.fixture(scope="module")
def ssh_key() -> tuple[str, str]:
    """A real public key (from ssh-keygen) and the fingerprint ssh-keygen gives it."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@host",
                        "-f", f"{d}/k"], check=True)
        public = open(f"{d}/k.pub").read().strip()
        out = subprocess.run(["ssh-keygen", "-E", "md5", "-lf", f"{d}/k.pub"], check=True,
                             capture_output=True, text=True).stdout
    return public, out.split()[1].removeprefix("MD5:")


def _import(client, name, key, token=ALICE, version="2.2", **extra):
    body = {"keypair": {"name": name, "public_key": key, **extra}}
    return client.post(KP, body, token=token, version=version)


def test_import_list_show_delete(client, ssh_key):
    public, fingerprint = ssh_key
    resp = _import(client, "mykey", public)
    assert resp.status_int == 201, resp.text
    kp = resp.json["keypair"]
    assert kp == {"name": "mykey", "public_key": public, "fingerprint": fingerprint,
                  "type": "ssh", "user_id": "alice"}
    listed = client.get(KP, token=ALICE, version="2.2").json
    assert listed == {"keypairs": [{"keypair": {"name": "mykey", "public_key": public,
                                                "fingerprint": fingerprint,
                                                "type": "ssh"}}]}
    shown = client.get(f"{KP}/mykey", token=ALICE, version="2.2").json["keypair"]
    assert shown["user_id"] == "alice" and shown["deleted"] is False
    assert shown["deleted_at"] is None and isinstance(shown["id"], int)
    assert shown["created_at"] and shown["type"] == "ssh"
    # another user sees none of it
    assert client.get(KP, token=BOB).json == {"keypairs": []}
    resp = client.get(f"{KP}/mykey", token=BOB)
    assert resp.status_int == 404
    assert resp.json["itemNotFound"]["message"] == "Keypair mykey not found for user bob"
    assert client.delete(f"{KP}/mykey", token=BOB).status_int == 404
    assert client.delete(f"{KP}/mykey", token=ALICE, version="2.2").status_int == 204
    assert client.get(f"{KP}/mykey", token=ALICE).status_int == 404


def test_21_shapes_and_codes(client, ssh_key):
    public, _ = ssh_key
    resp = _import(client, "old", public, version=None)
    assert resp.status_int == 200 and "type" not in resp.json["keypair"]
    assert "type" not in client.get(KP, token=ALICE).json["keypairs"][0]["keypair"]
    assert "type" not in client.get(f"{KP}/old", token=ALICE).json["keypair"]
    assert client.delete(f"{KP}/old", token=ALICE).status_int == 202


def test_duplicate_is_409(client, ssh_key):
    public, _ = ssh_key
    assert _import(client, "dup", public).status_int == 201
    resp = _import(client, "dup", public)
    assert resp.status_int == 409
    assert resp.json["conflictingRequest"]["message"] == "Key pair 'dup' already exists."
    assert _import(client, "dup", public, token=BOB).status_int == 201  # per user


@pytest.mark.parametrize("key", ["ssh-rsa AAAAnotbase64!", "not a key", "",
                                 "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ"])
def test_malformed_key_is_400(client, key):
    resp = _import(client, "bad", key)
    assert resp.status_int == 400, resp.text
    assert resp.json["badRequest"]["message"].startswith(
        "Keypair data is invalid: failed to generate fingerprint")


def test_malformed_certificate_is_400(client):
    resp = _import(client, "bad", "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                  "-----END CERTIFICATE-----", type="x509")
    assert resp.status_int == 400
    assert "failed to generate X509 fingerprint" in resp.json["badRequest"]["message"]


@pytest.mark.parametrize("body,version,fragment", [
    ({"keypair": {"name": "a/b", "public_key": "x"}}, "2.2", "name"),
    ({"keypair": {"name": "a@b.c", "public_key": "x"}}, "2.91", "name"),
    ({"keypair": {"name": " lead", "public_key": "x"}}, "2.2", "name"),
    ({"keypair": {"name": "", "public_key": "x"}}, "2.2", "name"),
    ({"keypair": {"name": "k", "type": "pgp", "public_key": "x"}}, "2.2", "type"),
    ({"keypair": {"name": "k", "type": "ssh", "public_key": "x"}}, None, "type"),
    ({"keypair": {"name": "k", "user_id": "u", "public_key": "x"}}, "2.9", "user_id"),
    ({"keypair": {"name": "k"}}, "2.92", "'public_key' is a required property"),
    ({"keypair": {"name": "k", "bogus": 1}}, "2.2", "bogus"),
    ({"kp": {}}, "2.2", "'keypair' is a required property"),
])
def test_schema_errors_are_400(client, body, version, fragment):
    resp = client.post(KP, body, token=ALICE, version=version)
    assert resp.status_int == 400, resp.text
    assert fragment in resp.json["badRequest"]["message"]


def test_292_allows_at_and_dot(client, ssh_key):
    assert _import(client, "me@host.example", ssh_key[0], version="2.92").status_int == 201


@pytest.mark.parametrize("key_type", ["ssh", "x509"])
def test_generation_below_292(client, key_type):
    resp = client.post(KP, {"keypair": {"name": f"gen-{key_type}", "type": key_type}},
                       token=ALICE, version="2.91")
    assert resp.status_int == 201, resp.text
    kp = resp.json["keypair"]
    assert kp["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert kp["fingerprint"] == crypto.fingerprint(key_type, kp["public_key"])
    if key_type == "ssh":
        assert kp["public_key"].startswith("ssh-rsa ")
    else:
        assert kp["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    shown = client.get(f"{KP}/gen-{key_type}", token=ALICE, version="2.91").json["keypair"]
    assert "private_key" not in shown and shown["type"] == key_type


def test_x509_import(client):
    _private, cert, fingerprint = crypto.generate("x509", "alice")
    resp = _import(client, "cert", cert, type="x509")
    assert resp.status_int == 201
    assert resp.json["keypair"]["fingerprint"] == fingerprint
    assert len(fingerprint.split(":")) == 20  # SHA-1


def test_admin_acts_for_another_user_from_210(client, ssh_key):
    public = ssh_key[0]
    assert _import(client, "forbob", public, token="admin:admin", version="2.10",
                   user_id="bob").status_int == 201
    assert [k["keypair"]["name"] for k in client.get(KP, token=BOB).json["keypairs"]] == [
        "forbob"]
    assert client.get(f"{KP}?user_id=bob", version="2.10").json["keypairs"]
    assert client.get(f"{KP}/forbob?user_id=bob", version="2.10").status_int == 200
    # below 2.10 user_id is ignored: the admin's own (empty) list
    assert client.get(f"{KP}?user_id=bob", version="2.9").json["keypairs"] == []
    # a member may not
    resp = _import(client, "x", public, token=ALICE, version="2.10", user_id="bob")
    assert resp.status_int == 403
    assert client.get(f"{KP}?user_id=bob", token=ALICE, version="2.10").status_int == 403
    assert client.delete(f"{KP}/forbob?user_id=bob", token=ALICE,
                         version="2.10").status_int == 403
    assert client.delete(f"{KP}/forbob?user_id=bob", version="2.10").status_int == 204


def test_paging_from_235(client, ssh_key):
    for n in range(5):
        assert _import(client, f"k{n}", ssh_key[0]).status_int == 201
    page = client.get(f"{KP}?limit=2", token=ALICE, version="2.35").json
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["k0", "k1"]
    assert "marker=k1" in page["keypairs_links"][0]["href"]
    page = client.get(f"{KP}?limit=2&marker=k3", token=ALICE, version="2.35").json
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["k4"]
    assert "keypairs_links" not in page
    assert client.get(f"{KP}?marker=nope", token=ALICE, version="2.35").status_int == 400
    assert client.get(f"{KP}?limit=-1", token=ALICE, version="2.35").status_int == 400
    assert client.get(f"{KP}?foo=1", token=ALICE, version="2.75").status_int == 400


def test_quota(client, ssh_key):
    client.put("/v2.1/os-quota-sets/proj-a", {"quota_set": {"key_pairs": 1}})
    assert _import(client, "one", ssh_key[0]).status_int == 201
    resp = _import(client, "two", ssh_key[0])
    assert resp.status_int == 403
    assert resp.json["forbidden"]["message"] == "Quota exceeded, too many key pairs."


def test_server_create_with_key_name(client, conductor, image_id, ssh_key):
    _import(client, "mykey", ssh_key[0])
    body = {"server": {"name": "vm", "imageRef": image_id, "flavorRef": "1",
                       "key_name": "mykey"}}
    resp = client.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 202, resp.text
    inst = conductor.servers[resp.json["server"]["id"]]
    assert inst.key_name == "mykey"
    assert inst.keypairs == [{"name": "mykey", "type": "ssh", "public_key": ssh_key[0],
                              "fingerprint": ssh_key[1], "user_id": "alice"}]
    shown = client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE).json["server"]
    assert shown["key_name"] == "mykey"
    # another user's key is not usable, and an unknown one is a 400
    resp = client.post("/v2.1/servers", body, token=BOB)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Invalid key_name provided."
