"""Hostile input: every route and server action at 2.1, a middle and the newest
microversion, with valid and mutated bodies from the handlers' own schemas, raw hostile
bodies (broken UTF-8, 1 MiB, nested 100,000 deep), hostile paths, query strings and
headers. No answer may be a 5xx or carry a traceback, and nothing may be logged as an
error. tools/fuzz-api runs longer campaigns, also against a running deployment."""

from __future__ import annotations

import os

from tests.fuzz.campaign import VERSIONS, Campaign
from tests.fuzz.targets import InProcess

SEED = int(os.environ.get("NOVA_LITE_FUZZ_SEED", "20261130"))


def test_no_route_answers_hostile_input_with_a_5xx() -> None:
    target = InProcess()
    campaign = Campaign(target, SEED)
    campaign.trace = []
    try:
        report = campaign.run(max_requests=4000)
    finally:
        campaign.close()
        target.close()
    cases = list(campaign.cases())
    # the whole walk ran: every route, method and action key at every version
    assert report.requests > len(cases) * len(VERSIONS) * 5, report.requests
    walked = {(m, p.split("?")[0].count("/")) for m, p, _ in campaign.trace}
    assert {m for m, _ in walked} == {"GET", "POST", "PUT", "DELETE"}
    assert not report.findings, "\n".join(f"{r} => {w}" for r, w in report.findings[:20])
    assert not target.watch.bad, "\n".join(target.watch.bad[:20])
    # the bodies are good enough to get past validation often, not only to be refused
    ok = sum(n for status, n in report.statuses.items() if status < 300)
    assert ok > report.requests // 5, report.statuses


def test_cases_cover_every_route_and_server_action() -> None:
    from nova_lite.api import app as api_app
    from nova_lite.api.handlers import server_actions

    campaign = Campaign(InProcess(), 1)
    try:
        cases = list(campaign.cases())
    finally:
        campaign.close()
        campaign.target.close()
    for path, methods in api_app.ROUTES:
        for method in methods:
            assert any(c[0] == path and c[1] == method for c in cases), (path, method)
    actions = {c[2] for c in cases if c[0] == "/servers/{id}/action"}
    assert set(server_actions.HANDLERS) <= actions
    assert {"reboot", "os-getConsoleOutput", "os-start", "addSecurityGroup"} <= actions
