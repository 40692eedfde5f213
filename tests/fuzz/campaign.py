"""A fuzz campaign over every route of nova_lite.api.app.ROUTES and every server action,
at three microversions: valid and mutated bodies from the schemas the handlers really
validate with, raw hostile bodies, hostile path segments, query strings and headers.

The schema (and the query parameters) each route accepts are found by asking the code:
one request per route and version through the in-process app, with
validation.validate and validation.reject_unknown_query_params recording what they are
given, so a new route or schema is fuzzed without anyone listing it here.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import random
import re
import urllib.parse
import uuid
from typing import Any, Iterator, Optional
from unittest import mock

from nova_lite.api import app as api_app
from nova_lite.api import microversion, validation
from nova_lite.api.handlers import aggregates, flavor_access, security_groups
from nova_lite.api.handlers import server_actions
from nova_lite.compute import states
from tests.fuzz import values
from tests.fuzz.targets import ADMIN, MEMBER, Answer, InProcess

VERSIONS = (microversion.MIN_STR, "2.47", microversion.MAX_STR)
SERVER_ACTIONS = sorted(set(server_actions.HANDLERS) | set(server_actions.schema.SIMPLE)
                        | set(states.BY_API_KEY) | set(security_groups.ACTIONS)
                        | {"reboot", "os-getConsoleOutput", "os-getVNCConsole"})
ACTION_KEYS = {"/servers/{id}/action": SERVER_ACTIONS,
               "/os-aggregates/{id}/action": sorted(aggregates.ACTIONS),
               "/flavors/{id}/action": sorted(flavor_access.ACTIONS)}
_COMMON_QUERY = ("limit", "marker", "name", "status", "changes-since", "sort_key",
                 "sort_dir", "all_tenants", "deleted", "host", "user_id", "start", "end")
_HOSTILE_SEGMENTS = ("%FF%FE", "%00", "a" * 3000, "%E2%80%AE", "..", "-1", "0",
                     "99999999999999999999", "%20", "null", "1.5", "%25", "(a%2B)%2B%24",
                     "%C3%28", "%F0%9F%92%A5")
_HOSTILE_QUERIES = (
    "status=%FF%FE", "%FF=1", "limit=-1", "limit=1e9", "limit=%00",
    "limit=99999999999999999999", "marker=%FF", "name=(a%2B)%2B%24", "name=((a*)*)*b",
    "name=(%3F:a{10000}){10000}", "ip=((a{50}){50}){50}", "name=" + "a" * 5000,
    "name=%5B", "sort_key=%FF", "changes-since=2026-13-45", "changes-since=%FF",
    "all_tenants=maybe", "a=1&a=2&a=3", "=", "&&&", "x" * 9000, "ip=%5B",
    "ip6=(a%2B)%2B%24", "start=%FF", "end=yesterday", "detailed=%FF", "minRam=-1",
    "minDisk=%FF", "is_public=%FF", "limit=1&marker=nope")
_BAD_VERSIONS = ("compute 2.9999", "compute 3.0", "compute 2.", "compute latest",
                 "compute \xff", "compute 2.01", "volume 2.50", "", "compute 1.0")


@dataclasses.dataclass
class Report:
    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    findings: list = dataclasses.field(default_factory=list)  # (request, what was wrong)
    requests: int = 0


def route_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


@functools.lru_cache(maxsize=1)
def _public_key() -> str:
    """One key for every seeded key pair (generating costs tens of milliseconds)."""
    from nova_lite import crypto

    return crypto.generate("ssh", "fuzz")[1]


def seed_ids(send: Any) -> dict[str, str]:
    """Ids of objects the routes name, made or found through the API itself."""
    def get(path: str, key: str, field: str = "id", version: str = microversion.MAX_STR
            ) -> Optional[str]:
        a = send("GET", path, None, ADMIN, version)
        try:
            items = json.loads(a.body)[key]
            return str(items[0][field]) if items else None
        except (ValueError, KeyError, IndexError, TypeError):
            return None

    def post(path: str, body: dict, key: str, field: str = "id") -> Optional[str]:
        a = send("POST", path, values.encode(body), ADMIN, microversion.MIN_STR)
        try:
            return str(json.loads(a.body)[key][field])
        except (ValueError, KeyError, TypeError):
            return None

    ids = {"server": get("/v2.1/servers?all_tenants=1&name=^vm$", "servers")
           or get("/v2.1/servers?all_tenants=1", "servers"), "flavor": get("/v2.1/flavors",
                                                                     "flavors"),
           "image": get("/v2.1/images", "images", version=microversion.MIN_STR),
           "service": get("/v2.1/os-services", "services"),
           "hypervisor": get("/v2.1/os-hypervisors", "hypervisors"),
           "migration": get("/v2.1/os-migrations", "migrations"),
           "keypair": post("/v2.1/os-keypairs", {"keypair": {
               "name": "fuzz-kp", "public_key": _public_key()}}, "keypair", "name")
           or "fuzz-kp",
           "aggregate": post("/v2.1/os-aggregates", {"aggregate": {"name": "fuzz-agg"}},
                             "aggregate"),
           "group": post("/v2.1/os-server-groups", {"server_group": {
               "name": "fuzz-g", "policy": "anti-affinity"}}, "server_group"),
           "project": "proj-a", "quota_class": "default", "key": "k1", "tag": "tag1",
           "network": "private", "spec": "hw:cpu_policy", "request": None}
    if not ids["server"] and ids["image"] and ids["flavor"]:
        ids["server"] = post("/v2.1/servers", {"server": {
            "name": "vm", "imageRef": ids["image"], "flavorRef": ids["flavor"]}}, "server")
    if ids["server"]:
        ids["request"] = get(f"/v2.1/servers/{ids['server']}/os-instance-actions",
                             "instanceActions", "request_id")
    return {k: v or str(uuid.uuid4()) for k, v in ids.items()}


# The collection a path parameter names, by the path segment before it.
_PARAM_KINDS = {"servers": "server", "flavors": "flavor", "os-server-groups": "group",
                "os-aggregates": "aggregate", "images": "image", "os-services": "service",
                "os-console-auth-tokens": "request", "os-hypervisors": "hypervisor",
                "os-quota-sets": "project", "os-quota-class-sets": "quota_class",
                "os-keypairs": "keypair", "os-simple-tenant-usage": "project",
                "ips": "network", "os-interface": "request", "metadata": "key",
                "tags": "tag", "os-instance-actions": "request", "migrations": "migration",
                "os-extra_specs": "spec"}


def fill(path: str, ids: dict, rng: random.Random, hostile: bool) -> str:
    parts = path.split("/")
    out = []
    for i, part in enumerate(parts):
        if part.startswith("{"):
            if hostile and rng.random() < 0.5:
                part = rng.choice(_HOSTILE_SEGMENTS)
            else:
                part = urllib.parse.quote(ids[_PARAM_KINDS.get(parts[i - 1], "server")],
                                          safe="")
        out.append(part)
    return "/v2.1" + "/".join(out)


class Campaign:
    """Sends the requests of one seeded campaign to a target and records what came back."""

    def __init__(self, target: Any, seed: int, per_case: int = 6) -> None:
        self.target = target
        self.rng = random.Random(seed)
        self.per_case = per_case
        self.report = Report()
        self._oracle = target if isinstance(target, InProcess) else InProcess()
        self._learned: dict[tuple, tuple[list, set]] = {}
        self.hints: dict = {}
        self._ids: Optional[dict] = None
        self.trace: Optional[list] = None  # (method, path, status) of every request

    def close(self) -> None:
        if self._oracle is not self.target:
            self._oracle.close()

    # -- sending -----------------------------------------------------------------------
    def _send(self, method: str, path: str, body: Optional[bytes], token: Optional[str],
              version: Optional[str], extra: Optional[dict] = None,
              target: Any = None) -> Answer:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["X-Auth-Token"] = token
        if version is not None:
            headers["OpenStack-API-Version"] = version if version.startswith(
                ("compute", "volume")) or not version else f"compute {version}"
        headers.update(extra or {})
        return (target or self.target).send(method, path, headers, body)

    def _check(self, method: str, path: str, body: Optional[bytes], answer: Answer) -> None:
        self.report.requests += 1
        self.report.statuses[answer.status] += 1
        if self.trace is not None:
            self.trace.append((method, path, answer.status))
        what = None
        if answer.status >= 500:
            what = f"{answer.status}: {answer.body[:300]!r}"
        elif b"Traceback" in answer.body:
            what = f"traceback in a {answer.status} answer"
        if what:
            self.report.findings.append((f"{method} {path[:200]} "
                                         f"{(body or b'')[:200]!r}", what))

    def hit(self, method: str, path: str, body: Optional[bytes] = None,
            token: str = ADMIN, version: Optional[str] = None,
            extra: Optional[dict] = None) -> Answer:
        answer = self._send(method, path, body, token, version, extra)
        self._check(method, path, body, answer)
        return answer

    # -- learning what a route validates -------------------------------------------------
    def learn(self, path: str, method: str, version: str, action: Optional[str]
              ) -> tuple[list, set]:
        key = (path, method, version, action)
        if key not in self._learned:
            schemas: list = []
            params: set = set()
            real_validate = validation.validate
            real_reject = validation.reject_unknown_query_params

            def validate(schema: dict, body: Any) -> None:
                schemas.append(schema)
                real_validate(schema, body)

            def reject(given: Any, allowed: Any) -> None:
                params.update(allowed)
                real_reject(given, allowed)

            oracle = self._oracle
            oracle.reset()
            ids = seed_ids(lambda *a: self._send(*a, target=oracle))
            body = None
            if method in ("POST", "PUT"):
                body = values.encode({action: None} if action else {})
            with mock.patch.object(validation, "validate", validate), \
                    mock.patch.object(validation, "reject_unknown_query_params", reject):
                self._send(method, fill(path, ids, self.rng, False), body, ADMIN, version,
                           target=oracle)
            self._learned[key] = (schemas, params)
        return self._learned[key]

    # -- generating ----------------------------------------------------------------------
    def bodies(self, schemas: list, action: Optional[str]) -> Iterator[bytes]:
        rng = self.rng
        schema = schemas[0] if schemas else None
        for n in range(self.per_case):
            if schema is not None:
                body = values.valid(schema, rng, hints=self.hints)
            else:
                body = {action: values.hostile(rng)} if action else {}
            if n % 2:
                body = values.mutate(body, rng)
            yield values.encode(body)
        yield rng.choice(values.RAW_BODIES)

    def query(self, params: set, ids: dict) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return rng.choice(_HOSTILE_QUERIES)
        names = sorted(params) or list(_COMMON_QUERY)
        picked = rng.sample(names, min(len(names), rng.randint(1, 3)))
        pairs = []
        for name in picked:
            value = rng.choice((ids["server"], "1", "0", "true", "a", "2026-01-01",
                                rng.choice(values.HOSTILE_STRINGS)[:2000]))
            pairs.append((name, value))
        return urllib.parse.urlencode(pairs, encoding="utf-8", errors="surrogatepass")

    # -- the walk ------------------------------------------------------------------------
    def cases(self) -> Iterator[tuple[str, str, Optional[str]]]:
        for path, methods in api_app.ROUTES:
            for method in sorted(methods):
                for action in ACTION_KEYS.get(path, [None]) if method == "POST" else [None]:
                    yield path, method, action

    def run(self, max_requests: int) -> Report:
        cases = list(self.cases())
        for version in VERSIONS:
            for path, method, action in cases:
                if self.report.requests >= max_requests:
                    return self.report
                self.run_case(path, method, action, version)
        return self.report

    def run_case(self, path: str, method: str, action: Optional[str], version: str) -> None:
        rng = self.rng
        schemas, params = self.learn(path, method, version, action)
        if self._ids is None or self.target is self._oracle:
            self.target.reset()  # a deployment keeps its state: seeded again only
            self._ids = seed_ids(lambda *a: self._send(*a))  # after deletes
        ids = self._ids
        if method == "DELETE":
            self._ids = None
        self.hints = {"imageRef": ids["image"], "flavorRef": ids["flavor"], "host": "c1",
                      "group": ids["group"], "key_name": ids["keypair"],
                      "tenant": ids["project"], "networks": "none",
                      "config_drive": True, "return_reservation_id": True,
                      **dict.fromkeys(("personality", "block_device_mapping",
                                       "block_device_mapping_v2", "availability_zone",
                                       "trusted_image_certificates", "min_count",
                                       "max_count"), values.OMIT)}
        has_body = method in ("POST", "PUT")
        if has_body:
            for body in self.bodies(schemas, action):
                token = MEMBER if rng.random() < 0.2 else ADMIN
                self.hit(method, fill(path, ids, rng, rng.random() < 0.15), body, token,
                         version)
        else:
            for _ in range(3):
                q = self.query(params, ids)
                self.hit(method, fill(path, ids, rng, rng.random() < 0.3) + "?" + q,
                         token=MEMBER if rng.random() < 0.2 else ADMIN, version=version)
        # Once per case: a hostile path, version header and content type.
        body = (values.encode(values.valid(schemas[0], rng, hints=self.hints))
                if has_body and schemas else None)
        self.hit(method, fill(path, ids, rng, True), body, version=version)
        self.hit(method, fill(path, ids, rng, False), body,
                 version=rng.choice(_BAD_VERSIONS))
        if has_body:
            self.hit(method, fill(path, ids, rng, False), body, version=version,
                     extra={"Content-Type": rng.choice(("text/plain", "application/xml",
                                                        "application/json; charset=latin-1",
                                                        ""))})
