"""Flavor extra specs and access, aggregates and availability zones through unmodified
python-openstackclient, as admin and as project members."""

from __future__ import annotations

import json

import pytest

from tests.functional.keystone.conftest import Cloud
from tests.functional.keystone.test_cli_server_groups import _boot, _json, _ok, _parallel

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def test_flavor_properties_and_private_access(cloud: Cloud):
    project_a = cloud.logins["member-a"].project_id
    flavor = _json(cloud.cli("admin", "flavor", "create", "--ram", "64", "--vcpus", "1",
                             "--disk", "1", "--private", "--property", "hw:cpu_policy=shared",
                             "-f", "json", "cli-private"))
    _ok(cloud.cli("admin", "flavor", "set", "--property", "custom:tier=gold",
                  "--description", "for project a", flavor["id"]))
    out = _parallel(cloud, {
        "show": ("admin", "flavor", "show", "-f", "json", flavor["id"]),
        "long": ("admin", "flavor", "list", "--all", "--long", "-f", "json"),
        "a-before": ("member-a", "flavor", "list", "-f", "json"),
        "member-set": ("member-a", "flavor", "set", "--property", "x=y", "m1.nano"),
    })
    shown = json.loads(_ok(out["show"]))
    props = shown["properties"]
    want = {"hw:cpu_policy": "shared", "custom:tier": "gold"}
    assert props == want or all(f"{k}='{v}'" in props for k, v in want.items())
    assert shown["description"] == "for project a"
    listed = {f["ID"]: f for f in json.loads(_ok(out["long"]))}
    assert flavor["id"] in listed and "Properties" in listed[flavor["id"]]
    assert flavor["id"] not in {f["ID"] for f in json.loads(_ok(out["a-before"]))}
    bad = cloud.call("admin", "POST", f"/flavors/{flavor['id']}/os-extra_specs",
                     {"extra_specs": {"hw:cpu_policy": "sometimes"}},
                     **{"OpenStack-API-Version": "compute 2.86"})
    assert bad.status_code == 400
    assert bad.json()["badRequest"]["message"].startswith("Validation failed; extra spec")
    assert out["member-set"].returncode != 0 and "403" in out["member-set"].stderr

    # unusable before access is given, usable after, never by project b
    boot = {"server": {"name": "p", "imageRef": cloud.image_id, "flavorRef": flavor["id"]}}
    resp = cloud.call("member-a", "POST", "/servers", boot)
    assert resp.status_code == 400 and "badRequest" in resp.json()
    _ok(cloud.cli("admin", "flavor", "set", "--project", project_a, flavor["id"]))
    out = _parallel(cloud, {
        "a-list": ("member-a", "flavor", "list", "-f", "json"),
        "b-list": ("member-b", "flavor", "list", "-f", "json"),
        "b-show": ("member-b", "flavor", "show", flavor["id"]),
        "access": ("admin", "flavor", "show", "-f", "json", flavor["id"]),
    })
    assert flavor["id"] in {f["ID"] for f in json.loads(_ok(out["a-list"]))}
    assert flavor["id"] not in {f["ID"] for f in json.loads(_ok(out["b-list"]))}
    assert out["b-show"].returncode != 0
    access = json.loads(_ok(out["access"]))["access_project_ids"]
    assert project_a in (access if isinstance(access, list) else str(access))
    server_id = _boot(cloud, "member-a", "on-private", "--flavor", flavor["id"])
    try:
        cloud.wait_status(server_id, "ACTIVE")
        server = cloud.call("member-a", "GET", f"/servers/{server_id}",
                            **{"OpenStack-API-Version": "compute 2.47"}).json()["server"]
        assert server["flavor"]["extra_specs"] == want
        assert cloud.call("member-b", "POST", "/servers", boot).status_code == 400
    finally:
        _ok(cloud.cli("member-a", "server", "delete", "--wait", server_id))
    _ok(cloud.cli("admin", "flavor", "unset", "--project", project_a, flavor["id"]))
    assert cloud.call("member-a", "POST", "/servers", boot).status_code == 400
    _ok(cloud.cli("admin", "flavor", "delete", flavor["id"]))


def test_aggregate_zone_and_server_placement(cloud: Cloud):
    agg = _json(cloud.cli("admin", "aggregate", "create", "--zone", "cli-az", "-f", "json",
                          "cli-agg"))
    _ok(cloud.cli("admin", "aggregate", "add", "host", "cli-agg", "kc3"))
    _ok(cloud.cli("admin", "aggregate", "set", "--property", "ssd=true", "cli-agg"))
    out = _parallel(cloud, {
        "zones": ("member-a", "availability", "zone", "list", "-f", "json"),
        "zones-long": ("admin", "availability", "zone", "list", "--long", "-f", "json"),
        "show": ("admin", "aggregate", "show", "-f", "json", "cli-agg"),
        "member-aggs": ("member-a", "aggregate", "list"),
        "dup": ("admin", "aggregate", "create", "cli-agg"),
        "no-host": ("admin", "aggregate", "add", "host", "cli-agg", "no-such-host"),
    })
    zones = {z["Zone Name"]: z["Zone Status"] for z in json.loads(_ok(out["zones"]))}
    assert zones == {"cli-az": "available", "nova": "available"}
    long_rows = json.loads(_ok(out["zones-long"]))
    assert {(r["Zone Name"], r["Host Name"]) for r in long_rows
            if r.get("Service Name") == "nova-compute"} == {
        ("cli-az", "kc3"), ("nova", "kc1"), ("nova", "kc2")}
    shown = json.loads(_ok(out["show"]))
    assert shown["availability_zone"] == "cli-az"
    assert "kc3" in str(shown["hosts"]) and "ssd" in str(shown["properties"])
    assert out["member-aggs"].returncode != 0 and "403" in out["member-aggs"].stderr
    assert out["dup"].returncode != 0 and "409" in out["dup"].stderr
    assert out["no-host"].returncode != 0 and "404" in out["no-host"].stderr

    created = _parallel(cloud, {
        who: (who, "server", "create", "--flavor", "m1.nano", "--image", cloud.image_id,
              "--nic", "none", "--availability-zone", "cli-az", "-f", "json", f"in-az-{who}")
        for who in ("member-a", "admin")})
    ids = {who: json.loads(_ok(proc))["id"] for who, proc in created.items()}
    for server_id in ids.values():
        server = cloud.wait_status(server_id, "ACTIVE")
        assert server["OS-EXT-SRV-ATTR:host"] == "kc3"
        assert server["OS-EXT-AZ:availability_zone"] == "cli-az"
    pinned = cloud.call("member-a", "GET", f"/servers/{ids['member-a']}",
                        **{"OpenStack-API-Version": "compute 2.96"}).json()["server"]
    assert pinned["pinned_availability_zone"] == "cli-az"
    # admins may force a host inside a zone; members may not
    forced = _boot(cloud, "admin", "forced", "--availability-zone", "nova:kc2")
    assert cloud.wait_status(forced, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == "kc2"
    denied = cloud.cli("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                       cloud.image_id, "--nic", "none", "--availability-zone", "nova:kc2",
                       "denied")
    assert denied.returncode != 0 and "403" in denied.stderr
    bad = cloud.cli("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                    cloud.image_id, "--nic", "none", "--availability-zone", "nowhere", "bad")
    assert bad.returncode != 0 and "availability zone is not available" in bad.stderr
    # a zone cannot move under running servers
    moved = cloud.cli("admin", "aggregate", "set", "--zone", "other-az", "cli-agg")
    assert moved.returncode != 0 and "contain instances" in moved.stderr

    _ok(cloud.cli("admin", "server", "delete", "--wait", forced, *ids.values()))
    _ok(cloud.cli("admin", "aggregate", "remove", "host", "cli-agg", "kc3"))
    _ok(cloud.cli("admin", "aggregate", "delete", "cli-agg"))
    assert cloud.call("admin", "GET", f"/os-aggregates/{agg['id']}").status_code == 404
