"""Server properties (metadata) and tags through unmodified python-openstackclient."""

from __future__ import annotations

import json

import pytest

from tests.functional.keystone.conftest import Cloud
from tests.functional.keystone.test_cli_server_groups import _boot, _json, _ok, _parallel

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def test_properties_tags_and_tag_filters(cloud: Cloud):
    ids = {name: _boot(cloud, "member-a", name) for name in ("tag-1", "tag-2")}
    for server_id in ids.values():
        cloud.wait_status(server_id, "ACTIVE")
    one, two = ids["tag-1"], ids["tag-2"]
    out = _parallel(cloud, {
        "one": ("member-a", "server", "set", "--property", "env=prod", "--property",
                "team=db", "--tag", "red", "--tag", "blue", one),
        "two": ("member-a", "server", "set", "--tag", "red", two),
    })
    _ok(out["one"])
    _ok(out["two"])
    _ok(cloud.cli("member-a", "server", "unset", "--property", "team", "--tag", "blue", one))
    out = _parallel(cloud, {
        "show": ("member-a", "server", "show", "-f", "json", one),
        "red": ("member-a", "server", "list", "--tags", "red", "-f", "json"),
        "red-blue": ("member-a", "server", "list", "--tags", "red,blue", "-f", "json"),
        "not-red": ("member-a", "server", "list", "--not-tags", "red", "-f", "json"),
        "b-show": ("member-b", "server", "show", one),
        "b-set": ("member-b", "server", "set", "--property", "x=y", one),
        "reader-set": ("reader-a", "server", "set", "--property", "x=y", one),
        "reader-show": ("reader-a", "server", "show", "-f", "json", one),
        "admin-list": ("admin", "server", "list", "--all-projects", "--tags", "red",
                       "-f", "json"),
    })
    shown = json.loads(_ok(out["show"]))
    props = shown["properties"]
    assert (props == {"env": "prod"} if isinstance(props, dict) else props == "env='prod'")
    tags = shown["tags"]
    assert (tags == ["red"] if isinstance(tags, list) else tags == "red")
    assert {s["ID"] for s in json.loads(_ok(out["red"]))} == {one, two}
    assert {s["ID"] for s in json.loads(_ok(out["red-blue"]))} == set()
    assert {one, two}.isdisjoint({s["ID"] for s in json.loads(_ok(out["not-red"]))})
    # another project sees nothing of the server, its metadata or tags
    assert out["b-show"].returncode != 0 and out["b-set"].returncode != 0
    assert out["reader-set"].returncode != 0 and "403" in out["reader-set"].stderr
    assert json.loads(_ok(out["reader-show"]))["id"] == one
    assert {one, two} <= {s["ID"] for s in json.loads(_ok(out["admin-list"]))}

    # the raw API: Nova's fault format for bad input
    bad = cloud.call("member-a", "PUT", f"/servers/{one}/metadata/a", {"meta": {"b": "1"}})
    assert bad.status_code == 400
    assert bad.json()["badRequest"]["message"] == "Request body and URI mismatch"
    bad = cloud.call("member-a", "PUT", f"/servers/{one}/tags/a,b",
                     **{"OpenStack-API-Version": "compute 2.26"})
    assert bad.status_code == 400 and "badRequest" in bad.json()
    assert cloud.call("member-b", "GET", f"/servers/{one}/metadata").status_code == 404
    _ok(cloud.cli("member-a", "server", "delete", "--wait", one, two))


def test_create_with_properties_and_tags(cloud: Cloud):
    server_id = _json(cloud.cli(
        "member-a", "--os-compute-api-version", "2.52", "server", "create", "--flavor",
        "m1.nano", "--image", cloud.image_id, "--nic", "none", "--property", "k=v",
        "--tag", "born-tagged", "-f", "json", "created-tagged"))["id"]
    server = cloud.wait_status(server_id, "ACTIVE")
    assert server["metadata"] == {"k": "v"}
    listed = _json(cloud.cli("member-a", "server", "list", "--tags", "born-tagged",
                             "-f", "json"))
    assert [s["ID"] for s in listed] == [server_id]
    _ok(cloud.cli("member-a", "server", "delete", "--wait", server_id))
