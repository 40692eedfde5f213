"""A name filter built to backtrack (ReDoS) costs one request a bounded time and a 400."""

from __future__ import annotations

import time

from tests.unit.api.conftest import ADMIN


def test_catastrophic_name_pattern_is_refused_quickly(client, conductor):
    for n in range(20):
        conductor.add_server(name="a" * 60 + f"!{n}")
    start = time.monotonic()
    resp = client.get("/v2.1/servers?all_tenants=1&name=(a|aa)%2B$", token=ADMIN)
    assert time.monotonic() - start < 15  # Python's re would take years here
    assert resp.status_int == 400
    assert "too expensive" in resp.json["badRequest"]["message"]


def test_ordinary_patterns_still_filter(client, conductor):
    conductor.add_server(name="web-1")
    conductor.add_server(name="db-1")
    resp = client.get("/v2.1/servers?all_tenants=1&name=^web", token=ADMIN)
    assert [s["name"] for s in resp.json["servers"]] == ["web-1"]
    # not a regular expression: matched as a plain string
    resp = client.get("/v2.1/servers?all_tenants=1&name=[unclosed", token=ADMIN)
    assert resp.status_int == 200 and resp.json["servers"] == []


def test_pattern_that_unrolls_huge_is_refused_before_compiling(client, conductor):
    """Compiling (?:a{10000}){10000} takes the regex module minutes and gigabytes."""
    conductor.add_server(name="a" * 30)
    for pattern in ("(%3F:a{10000}){10000}", "((a{50}){50}){50}", "a{" + "9" * 5000 + "}",
                    "(a{0,65535}){65535}"):
        start = time.monotonic()
        resp = client.get(f"/v2.1/servers?all_tenants=1&name={pattern}", token=ADMIN)
        assert time.monotonic() - start < 5
        assert resp.status_int == 400
        assert "too expensive" in resp.json["badRequest"]["message"]
    resp = client.get("/v2.1/servers?all_tenants=1&name=^a{2,30}$", token=ADMIN)
    assert [s["name"] for s in resp.json["servers"]] == ["a" * 30]
