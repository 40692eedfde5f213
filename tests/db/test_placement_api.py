"""The Placement API over the conductor's placement endpoint and a real API database:
shapes per microversion, generation checks, capacity, filters, policy and errors."""

from __future__ import annotations

import json
import types
import uuid
from typing import Any, Optional

import pytest
import webob

from nova_lite.conductor.placement import PlacementEndpoint
from nova_lite.db import placement
from nova_lite.placement import app as placement_app

ADMIN = "admin:admin"
ALICE = "alice:proj-a"
LATEST = "1.39"


class _NoCells:
    def real_cells(self) -> list:
        return []


class Client:
    def __init__(self, app: Any) -> None:
        self.app = app

    def call(self, method: str, path: str, body: Any = None, version: Optional[str] = LATEST,
             token: Optional[str] = ADMIN, raw: Optional[bytes] = None) -> webob.Response:
        req = webob.Request.blank(path, method=method)
        if token:
            req.headers["X-Auth-Token"] = token
        if version:
            req.headers["OpenStack-API-Version"] = f"placement {version}"
        if body is not None or raw is not None:
            req.body = raw if raw is not None else json.dumps(body).encode()
            req.content_type = "application/json"
        resp = req.get_response(self.app)
        assert resp.status_int < 500, resp.text
        if resp.status_int >= 400:
            err = resp.json["errors"][0]
            assert err["status"] == resp.status_int and err["detail"], resp.text
            assert err["request_id"].startswith("req-")
        return resp


@pytest.fixture
def env(api_url: str) -> types.SimpleNamespace:
    inv = {"total": 8, "reserved": 0, "allocation_ratio": 1.0}
    rp1 = placement.provider_ensure(api_url, "node1", "host1", None, {
        "VCPU": inv, "MEMORY_MB": {**inv, "total": 4096}, "DISK_GB": {**inv, "total": 50}})
    rp2 = placement.provider_ensure(api_url, "node2", "host2", None, {
        "VCPU": {**inv, "total": 2}, "MEMORY_MB": {**inv, "total": 1024}})
    consumer = str(uuid.uuid4())
    placement.claim(api_url, rp1, consumer, {"VCPU": 2, "MEMORY_MB": 512})
    conf = types.SimpleNamespace(api=types.SimpleNamespace(auth_strategy="noauth2"))
    endpoint = PlacementEndpoint(api_url, _NoCells())
    client = Client(placement_app.build_app(conf, conductor=endpoint))
    return types.SimpleNamespace(api_url=api_url, rp1=rp1, rp2=rp2, consumer=consumer,
                                 client=client)


def test_root_needs_no_token_and_names_the_range(env: Any) -> None:
    resp = env.client.call("GET", "/", token=None, version=None)
    assert resp.status_int == 200
    assert resp.json["versions"][0]["max_version"] == "1.39"
    assert resp.json["versions"][0]["min_version"] == "1.0"
    assert resp.headers["OpenStack-API-Version"] == "placement 1.0"
    bad = env.client.call("GET", "/", token=None, version="1.40")
    assert bad.status_int == 406
    assert bad.json["errors"][0]["max_version"] == "1.39"
    assert env.client.call("GET", "/", token=None, version="one").status_int == 400


def test_resources_need_a_token_and_the_admin(env: Any) -> None:
    resp = env.client.call("GET", "/resource_providers", token=None)
    assert resp.status_int == 401
    resp = env.client.call("GET", "/resource_providers", token=ALICE)
    assert resp.status_int == 403
    assert resp.json["errors"][0]["code"] == "placement.undefined_code"


def test_provider_list_and_show_per_microversion(env: Any) -> None:
    resp = env.client.call("GET", "/resource_providers", version="1.0")
    rps = resp.json["resource_providers"]
    assert {p["name"] for p in rps} == {"node1", "node2"}
    assert "root_provider_uuid" not in rps[0]
    assert {link["rel"] for link in rps[0]["links"]} == {"self", "inventories", "usages"}
    one = env.client.call("GET", f"/resource_providers/{env.rp1}").json
    assert one["root_provider_uuid"] == env.rp1 and one["parent_provider_uuid"] is None
    assert {link["rel"] for link in one["links"]} == {
        "self", "inventories", "usages", "aggregates", "traits", "allocations"}
    assert env.client.call("GET", f"/resource_providers/{uuid.uuid4()}").status_int == 404


def test_provider_list_filters(env: Any) -> None:
    def names(query: str, version: str = LATEST) -> set[str]:
        resp = env.client.call("GET", f"/resource_providers?{query}", version=version)
        assert resp.status_int == 200, resp.text
        return {p["name"] for p in resp.json["resource_providers"]}

    assert names("name=node2") == {"node2"}
    assert names(f"uuid={env.rp1}") == {"node1"}
    assert names("resources=VCPU:6") == {"node1"}  # 8 - 2 used
    assert names("resources=VCPU:7") == set()
    assert names("resources=DISK_GB:1") == {"node1"}
    bad = env.client.call("GET", "/resource_providers?resources=VCPU:1", version="1.3")
    assert bad.status_int == 400 and "resources" in bad.json["errors"][0]["detail"]
    bad = env.client.call("GET", "/resource_providers?resources=VCPU")
    assert bad.status_int == 400
    assert bad.json["errors"][0]["code"] == "placement.query.bad_value"
    assert env.client.call("GET", "/resource_providers?bogus=1").status_int == 400
    assert env.client.call("GET", "/resource_providers?uuid=nope").status_int == 400
    assert names(f"in_tree={env.rp2}") == {"node2"}
    assert names(f"in_tree={env.rp2}&uuid={env.rp1}") == set()
    assert env.client.call("GET", "/resource_providers?in_tree=x").status_int == 400


def test_inventories_replace_with_generation_check(env: Any) -> None:
    base = f"/resource_providers/{env.rp2}/inventories"
    got = env.client.call("GET", base).json
    gen = got["resource_provider_generation"]
    assert got["inventories"]["VCPU"] == {"allocation_ratio": 1.0, "max_unit": 2,
                                          "min_unit": 1, "reserved": 0, "step_size": 1,
                                          "total": 2}
    body = {"resource_provider_generation": gen, "inventories": {
        "VCPU": {"total": 4, "allocation_ratio": 2.0}, "MEMORY_MB": {"total": 2048}}}
    resp = env.client.call("PUT", base, body)
    assert resp.status_int == 200, resp.text
    assert resp.json["resource_provider_generation"] == gen + 1
    stale = env.client.call("PUT", base, body)
    assert stale.status_int == 409
    assert stale.json["errors"][0]["code"] == "placement.concurrent_update"
    one = env.client.call("GET", base + "/VCPU").json
    assert one["total"] == 4 and one["allocation_ratio"] == 2.0
    bad = env.client.call("PUT", base, {"resource_provider_generation": gen + 1,
                                        "inventories": {"VCPU": {"total": 1, "reserved": 2}}})
    assert bad.status_int == 400
    schema = env.client.call("PUT", base, {"inventories": {}})
    assert schema.status_int == 400
    assert "JSON does not validate" in schema.json["errors"][0]["detail"]


def test_inventory_in_use_cannot_go(env: Any) -> None:
    base = f"/resource_providers/{env.rp1}/inventories"
    gen = env.client.call("GET", base).json["resource_provider_generation"]
    resp = env.client.call("PUT", base, {"resource_provider_generation": gen,
                                         "inventories": {"DISK_GB": {"total": 10}}})
    assert resp.status_int == 409
    assert resp.json["errors"][0]["code"] == "placement.inventory.inuse"
    assert env.client.call("DELETE", base + "/VCPU").status_int == 409
    assert env.client.call("DELETE", base + "/DISK_GB").status_int == 204
    assert env.client.call("GET", base + "/DISK_GB").status_int == 404


def test_usages_and_provider_allocations(env: Any) -> None:
    usages = env.client.call("GET", f"/resource_providers/{env.rp1}/usages").json
    assert usages["usages"] == {"VCPU": 2, "MEMORY_MB": 512, "DISK_GB": 0}
    allocs = env.client.call("GET", f"/resource_providers/{env.rp1}/allocations").json
    assert allocs["allocations"] == {env.consumer: {"resources": {"VCPU": 2,
                                                                  "MEMORY_MB": 512}}}


def test_consumer_allocations_put_get_delete(env: Any) -> None:
    consumer = str(uuid.uuid4())
    path = f"/allocations/{consumer}"
    assert env.client.call("GET", path).json == {"allocations": {}}
    body = {"allocations": {env.rp2: {"resources": {"VCPU": 1}}},
            "project_id": "p", "user_id": "u", "consumer_generation": None,
            "consumer_type": "INSTANCE"}
    assert env.client.call("PUT", path, body).status_int == 204
    got = env.client.call("GET", path).json
    assert got["allocations"][env.rp2]["resources"] == {"VCPU": 1}
    # A second PUT claiming a new consumer, and one beyond the capacity, are refused.
    assert env.client.call("PUT", path, body).status_int == 409
    over = dict(body, consumer_generation=1,
                allocations={env.rp2: {"resources": {"VCPU": 3}}})
    resp = env.client.call("PUT", path, over)
    assert resp.status_int == 409 and "capacity" in resp.json["errors"][0]["detail"]
    old = {"allocations": [{"resource_provider": {"uuid": env.rp2},
                            "resources": {"VCPU": 2}}]}
    assert env.client.call("PUT", path, old, version="1.0").status_int == 204
    assert env.client.call("DELETE", path).status_int == 204
    assert env.client.call("DELETE", path).status_int == 404
    assert env.client.call("GET", "/allocations/not-a-uuid").status_int == 400
    nowhere = dict(body, allocations={str(uuid.uuid4()): {"resources": {"VCPU": 1}}})
    resp = env.client.call("PUT", path, nowhere)
    assert resp.status_int == 400 and "does not exist" in resp.json["errors"][0]["detail"]


def test_traits(env: Any) -> None:
    base = f"/resource_providers/{env.rp1}/traits"
    got = env.client.call("GET", base).json
    assert got["traits"] == []
    gen = got["resource_provider_generation"]
    unknown = env.client.call("PUT", base, {"traits": ["CUSTOM_GOLD"],
                                            "resource_provider_generation": gen})
    assert unknown.status_int == 400
    assert env.client.call("PUT", "/traits/CUSTOM_GOLD").status_int == 201
    assert env.client.call("PUT", "/traits/CUSTOM_GOLD").status_int == 204
    assert env.client.call("PUT", "/traits/HW_CPU_X86_AVX").status_int == 400
    resp = env.client.call("PUT", base, {"traits": ["CUSTOM_GOLD", "HW_CPU_X86_AVX"],
                                         "resource_provider_generation": gen})
    assert resp.status_int == 200, resp.text
    assert resp.json["traits"] == ["CUSTOM_GOLD", "HW_CPU_X86_AVX"]
    listed = env.client.call("GET", "/traits?name=startswith:CUSTOM_").json["traits"]
    assert listed == ["CUSTOM_GOLD"]
    assert "HW_CPU_X86_AVX" in env.client.call("GET", "/traits?associated=true").json[
        "traits"]
    assert env.client.call("GET", "/traits/HW_CPU_X86_SSE").status_int == 204
    assert env.client.call("DELETE", "/traits/CUSTOM_GOLD").status_int == 400  # in use

    def names(query: str) -> set[str]:
        return {p["name"] for p in env.client.call(
            "GET", f"/resource_providers?{query}").json["resource_providers"]}

    assert names("required=CUSTOM_GOLD") == {"node1"}
    assert names("required=!CUSTOM_GOLD") == {"node2"}
    assert names("required=in:CUSTOM_GOLD,HW_CPU_X86_SSE") == {"node1"}
    assert env.client.call("GET", "/resource_providers?required=in:A",
                           version="1.38").status_int == 400
    assert env.client.call("GET", base, version="1.5").status_int == 404


def test_aggregates_and_member_of(env: Any) -> None:
    agg = str(uuid.uuid4())
    base = f"/resource_providers/{env.rp2}/aggregates"
    old = env.client.call("GET", base, version="1.1").json
    assert old == {"aggregates": []}
    assert env.client.call("PUT", base, [agg], version="1.1").status_int == 200
    got = env.client.call("GET", base).json
    assert got["aggregates"] == [agg]
    gen = got["resource_provider_generation"]
    stale = env.client.call("PUT", base, {"aggregates": [],
                                          "resource_provider_generation": gen - 1})
    assert stale.status_int == 409
    names = {p["name"] for p in env.client.call(
        "GET", f"/resource_providers?member_of=in:{agg}").json["resource_providers"]}
    assert names == {"node2"}
    names = {p["name"] for p in env.client.call(
        "GET", f"/resource_providers?member_of=!{agg}").json["resource_providers"]}
    assert names == {"node1"}
    assert env.client.call("GET", "/resource_providers?member_of=x").status_int == 400
    assert env.client.call("PUT", base, {"aggregates": ["x"],
                                         "resource_provider_generation": gen}
                           ).status_int == 400


def test_project_usages(env: Any) -> None:
    assert env.client.call("GET", "/usages", version="1.8").status_int == 404
    assert env.client.call("GET", "/usages").status_int == 400
    resp = env.client.call("GET", "/usages?project_id=nobody", version="1.9")
    assert resp.json == {"usages": {}}
    resp = env.client.call("GET", "/usages?project_id=nobody")
    assert resp.json == {"usages": {"all": {"consumer_count": 0}}}


def test_resource_classes(env: Any) -> None:
    got = env.client.call("GET", "/resource_classes").json["resource_classes"]
    assert got[0] == {"name": "VCPU", "links": [{"rel": "self",
                                                  "href": "/resource_classes/VCPU"}]}
    assert env.client.call("GET", "/resource_classes/PCPU").status_int == 200
    assert env.client.call("GET", "/resource_classes/CUSTOM_X").status_int == 404
    assert env.client.call("GET", "/resource_classes", version="1.1").status_int == 404


def test_allocation_candidates(env: Any) -> None:
    resp = env.client.call("GET", "/allocation_candidates?resources=VCPU:1,MEMORY_MB:512")
    assert resp.status_int == 200, resp.text
    body = resp.json
    assert {tuple(r["allocations"]) for r in body["allocation_requests"]} == {
        (env.rp1,), (env.rp2,)}
    assert body["allocation_requests"][0]["mappings"] == {
        "": list(body["allocation_requests"][0]["allocations"])}
    s1 = body["provider_summaries"][env.rp1]
    assert s1["resources"]["VCPU"] == {"capacity": 8, "used": 2}
    assert s1["resources"]["DISK_GB"] == {"capacity": 50, "used": 0}  # 1.27: every class
    assert s1["root_provider_uuid"] == env.rp1 and s1["traits"] == []
    few = env.client.call("GET", "/allocation_candidates?resources=VCPU:1&limit=1").json
    assert len(few["allocation_requests"]) == 1
    old = env.client.call("GET", "/allocation_candidates?resources=VCPU:4",
                          version="1.10").json
    assert old["allocation_requests"] == [{"allocations": [{
        "resource_provider": {"uuid": env.rp1}, "resources": {"VCPU": 4}}]}]
    assert list(old["provider_summaries"][env.rp1]["resources"]) == ["VCPU"]
    assert env.client.call("GET", "/allocation_candidates").status_int == 400
    assert env.client.call("GET", "/allocation_candidates?resources=VCPU:1",
                           version="1.9").status_int == 404


def test_method_not_allowed_and_unknown_path(env: Any) -> None:
    resp = env.client.call("POST", "/traits")
    assert resp.status_int == 405 and resp.headers["Allow"] == "GET"
    assert env.client.call("GET", "/nothing").status_int == 404
    resp = env.client.call("DELETE", f"/resource_providers/{env.rp2}/inventories",
                           version="1.4")
    assert resp.status_int == 405
    bad = env.client.call("PUT", f"/resource_providers/{env.rp2}/traits", raw=b"{")
    assert bad.status_int == 400


def test_a_claim_committed_during_a_write_makes_it_a_conflict(env: Any, backend: str
                                                              ) -> None:
    """The write's compare-and-swap is against the generation read before its checks."""
    if backend == "sqlite":
        pytest.skip("not applicable: SQLite runs one writing transaction at a time")
    from nova_lite import exception
    from nova_lite.db import engine as db_engine
    from nova_lite.db import placement_query as pq
    from nova_lite.db import placement_write as pw

    with pytest.raises(exception.ProviderGenerationConflict):
        with db_engine.session_scope(env.api_url) as session:
            rp = pq.provider_row(session, env.rp2)  # read: the checks would start here
            placement.claim(env.api_url, env.rp2, str(uuid.uuid4()), {"VCPU": 2})
            pw._bump(session, rp, None)
    # Nothing was written by the loser; the claim stands.
    assert pq.provider_detail(env.api_url, env.rp2, "usages")["usages"]["VCPU"] == 2
