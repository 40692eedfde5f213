"""Key pairs through unmodified python-openstackclient against real Keystone and real
daemons: import and generate, list/show/delete, `server create --key-name`, and another
project's member seeing none of them."""

from __future__ import annotations

import concurrent.futures
import json
import pathlib
import subprocess

import pytest

from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _json(proc: subprocess.CompletedProcess) -> object:
    return json.loads(_ok(proc))


def _cli_all(cloud: Cloud, commands: dict) -> dict:
    with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(cloud.cli, *cmd) for k, cmd in commands.items()}
        return {k: f.result() for k, f in futures.items()}


def test_keypairs_and_server_key_name(cloud: Cloud, tmp_path: pathlib.Path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "id")], check=True)
    fingerprint = subprocess.run(
        ["ssh-keygen", "-E", "md5", "-lf", str(tmp_path / "id.pub")], check=True,
        capture_output=True, text=True).stdout.split()[1].removeprefix("MD5:")
    member_a = cloud.logins["member-a"]
    out = _cli_all(cloud, {
        "import": ("member-a", "keypair", "create", "--public-key", str(tmp_path / "id.pub"),
                   "-f", "json", "ka"),
        "generate": ("member-a", "keypair", "create", "--private-key",
                     str(tmp_path / "gen"), "-f", "json", "kgen"),
        "b_import": ("member-b", "keypair", "create", "--public-key",
                     str(tmp_path / "id.pub"), "-f", "json", "kb"),
    })
    imported = _json(out["import"])
    assert imported["name"] == "ka" and imported["fingerprint"] == fingerprint
    assert _json(out["generate"])["name"] == "kgen"
    assert (tmp_path / "gen").read_text().startswith("-----BEGIN")
    _ok(out["b_import"])
    try:
        out = _cli_all(cloud, {
            "list": ("member-a", "keypair", "list", "-f", "json"),
            "show": ("member-a", "keypair", "show", "-f", "json", "ka"),
            "b_list": ("member-b", "keypair", "list", "-f", "json"),
            "b_show": ("member-b", "keypair", "show", "ka"),
            "admin_list": ("admin", "keypair", "list", "--user", member_a.user_id,
                           "-f", "json"),
            "dup": ("member-a", "keypair", "create", "--public-key",
                    str(tmp_path / "id.pub"), "ka"),
            "server": ("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                       cloud.image_id, "--nic", "none", "--key-name", "ka", "-f", "json",
                       "keyed"),
            "bad_key": ("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                        cloud.image_id, "--nic", "none", "--key-name", "kb", "unkeyed"),
        })
        assert {k["Name"] for k in _json(out["list"])} == {"ka", "kgen"}
        shown = _json(out["show"])
        assert shown["fingerprint"] == fingerprint and shown["user_id"] == member_a.user_id
        assert {k["Name"] for k in _json(out["b_list"])} == {"kb"}
        assert out["b_show"].returncode != 0
        assert "No Keypair found for ka" in out["b_show"].stderr
        assert {k["Name"] for k in _json(out["admin_list"])} == {"ka", "kgen"}
        assert out["dup"].returncode != 0 and "409" in out["dup"].stderr
        assert "already exists" in out["dup"].stderr
        # another user's key pair is not the caller's to use
        assert out["bad_key"].returncode != 0
        assert "Invalid key_name provided." in out["bad_key"].stderr
        server_id = _json(out["server"])["id"]
        server = cloud.wait_status(server_id, "ACTIVE")
        assert server["key_name"] == "ka"
        shown = _json(cloud.cli("member-a", "server", "show", "-f", "json", server_id))
        assert shown["key_name"] == "ka"
        _ok(cloud.cli("member-a", "server", "delete", "--wait", server_id))
    finally:
        out = _cli_all(cloud, {
            "ka": ("member-a", "keypair", "delete", "ka"),
            "kgen": ("member-a", "keypair", "delete", "kgen"),
            "kb": ("member-b", "keypair", "delete", "kb"),
        })
    for proc in out.values():
        _ok(proc)
    assert _json(cloud.cli("member-a", "keypair", "list", "-f", "json")) == []
