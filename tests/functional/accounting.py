"""Claims accounting check for functional tests: allocations == live usage, exactly.

``assert_consistent(dep)`` compares three views of one deployment and fails with the
differences when they disagree:

* the allocations in the API database (what the scheduler claimed), per consumer and
  provider;
* what should be claimed: every live server that has a host holds its flavor on its
  node's provider (servers are read through the API, soft-deleted ones included), and
  every move in progress (a ``migrations`` row in a cell database whose status is not
  final) holds the server's old flavor on the source node under the migration's uuid;
* the usage each compute host reports (GET /os-hypervisors/detail), which must equal the
  sum of the allocations against its provider.

Any allocation whose consumer is neither a live server nor a move in progress is an
orphaned claim. Compute hosts report their usage periodically, so the check polls until
the views agree or ``timeout`` passes.
"""

from __future__ import annotations

import json
import time
from typing import Any, Optional

import pymysql

from tests.functional import harness

# Migration statuses after which the move holds nothing any more (Nova's values).
FINAL_MIGRATION_STATUSES = frozenset(("confirmed", "reverted", "error", "failed",
                                      "completed", "cancelled", "done"))
# Microversion with the flavor embedded in the server (vcpus, ram, disk, ...).
FLAVOR_VERSION = {"OpenStack-API-Version": "compute 2.47"}
# Statuses the default server list hides; listed on their own.
HIDDEN_STATUSES = ("SOFT_DELETED",)


def flavor_resources(flavor: dict) -> dict[str, int]:
    """What a flavor claims (as nova_lite's RequestSpec.resources counts it)."""
    disk = int(flavor.get("disk", flavor.get("root_gb", 0)) or 0)
    disk += int(flavor.get("ephemeral", flavor.get("ephemeral_gb", 0)) or 0)
    disk += (int(flavor.get("swap", 0) or 0) + 1023) // 1024
    ram = int(flavor.get("ram", flavor.get("memory_mb", 0)) or 0)
    out = {"VCPU": int(flavor["vcpus"]), "MEMORY_MB": ram, "DISK_GB": disk}
    return {rc: v for rc, v in out.items() if v > 0}


def _query(dep: harness.Deployment, suffix: str, sql: str) -> list[dict]:
    conn = pymysql.connect(**harness.MYSQL, database=f"{dep.db_prefix}{suffix}",
                           cursorclass=pymysql.cursors.DictCursor)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            tables = {next(iter(r.values())) for r in cur.fetchall()}
            needed = {w.strip("`") for w in sql.split() if w.startswith("`")}
            if not needed <= tables:
                return []  # a table this schema does not have (yet)
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def allocations(dep: harness.Deployment) -> dict[tuple[str, str], dict[str, int]]:
    """{(consumer, provider name): {resource class: amount}} from the API database."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for row in _query(dep, "_api", "SELECT a.consumer_id, p.name, a.resource_class, a.used "
                                   "FROM `allocations` a JOIN `resource_providers` p "
                                   "ON p.id = a.resource_provider_id"):
        key = (row["consumer_id"], row["name"])
        out.setdefault(key, {})[row["resource_class"]] = int(row["used"])
    return out


def live_servers(dep: harness.Deployment) -> list[dict]:
    """Every server of every project, as the API shows it to an admin."""
    servers: dict[str, dict] = {}
    queries = ["/servers/detail?all_tenants=1"] + [
        f"/servers/detail?all_tenants=1&status={s}" for s in HIDDEN_STATUSES]
    for path in queries:
        r = dep.get(path, headers=FLAVOR_VERSION)
        if r.status_code == 400 and "status=" in path:
            continue  # a status this API does not know (yet)
        assert r.status_code == 200, (path, r.status_code, r.text)
        for s in r.json()["servers"]:
            servers[s["id"]] = s
    return list(servers.values())


def moves_in_progress(dep: harness.Deployment) -> list[dict]:
    """Migrations not yet final, with the old flavor their instance records."""
    rows = _query(dep, "", "SELECT m.uuid, m.instance_uuid, m.source_node, m.status, "
                           "i.old_flavor, i.flavor FROM `migrations` m JOIN `instances` i "
                           "ON i.uuid = m.instance_uuid WHERE m.deleted = 0 AND i.deleted = 0")
    out = []
    for row in rows:
        if row["status"] in FINAL_MIGRATION_STATUSES:
            continue
        flavor = json.loads(row["old_flavor"] or row["flavor"])
        out.append({"uuid": row["uuid"], "instance_uuid": row["instance_uuid"],
                    "source_node": row["source_node"], "status": row["status"],
                    "resources": flavor_resources(flavor)})
    return out


def expected_allocations(dep: harness.Deployment) -> dict[tuple[str, str], dict[str, int]]:
    out: dict[tuple[str, str], dict[str, int]] = {}
    for s in live_servers(dep):
        node = s.get("OS-EXT-SRV-ATTR:hypervisor_hostname")
        if not node or s["status"] == "DELETED":
            continue
        res = flavor_resources(s["flavor"])
        if res:
            out[(s["id"], node)] = res
    for mig in moves_in_progress(dep):
        if mig["source_node"] and mig["resources"]:
            out[(mig["uuid"], mig["source_node"])] = mig["resources"]
    return out


def hypervisor_usage(dep: harness.Deployment) -> dict[str, dict[str, int]]:
    r = dep.get("/os-hypervisors/detail")
    assert r.status_code == 200, r.text
    out = {}
    for h in r.json()["hypervisors"]:
        out[h["hypervisor_hostname"]] = {"VCPU": h["vcpus_used"],
                                         "MEMORY_MB": h["memory_mb_used"],
                                         "DISK_GB": h["local_gb_used"]}
    return out


def _provider_sums(allocs: dict[tuple[str, str], dict[str, int]]) -> dict[str, dict[str, int]]:
    sums: dict[str, dict[str, int]] = {}
    for (_consumer, provider), res in allocs.items():
        total = sums.setdefault(provider, {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0})
        for rc, amount in res.items():
            total[rc] = total.get(rc, 0) + amount
    return sums


def differences(dep: harness.Deployment) -> list[str]:
    """Every way the three views disagree (empty when consistent)."""
    have = allocations(dep)
    want = expected_allocations(dep)
    problems = []
    for key in sorted(set(have) | set(want)):
        if have.get(key) != want.get(key):
            consumer, provider = key
            if key not in want:
                kind = "orphaned claim"
            elif key not in have:
                kind = "missing claim"
            else:
                kind = "wrong claim"
            problems.append(f"{kind}: consumer {consumer} on {provider}: allocated "
                            f"{have.get(key)}, expected {want.get(key)}")
    sums = _provider_sums(have)
    for node, used in sorted(hypervisor_usage(dep).items()):
        alloc = sums.get(node, {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0})
        if {rc: used[rc] for rc in alloc} != alloc:
            problems.append(f"hypervisor {node} reports used {used}, its provider's "
                            f"allocations sum to {alloc}")
    return problems


def orphaned_claims(dep: harness.Deployment) -> list[tuple[str, str]]:
    want = expected_allocations(dep)
    return sorted(k for k in allocations(dep) if k not in want)


def assert_consistent(dep: harness.Deployment, timeout: float = 30.0,
                      expect_servers: Optional[int] = None) -> dict[str, Any]:
    """Poll until allocations, live servers and hypervisor usage agree; return a summary.

    ``expect_servers``: also require exactly this many live servers holding claims.
    """
    deadline = time.monotonic() + timeout
    while True:
        problems = differences(dep)
        want = expected_allocations(dep)
        servers = {c for c, _p in want if c not in {m["uuid"] for m in
                                                     moves_in_progress(dep)}}
        if expect_servers is not None and len(servers) != expect_servers:
            problems.append(f"{len(servers)} servers hold claims, expected {expect_servers}")
        if not problems:
            sums = _provider_sums(allocations(dep))
            zero = {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
            return {"claims": len(want), "servers": len(servers),
                    "providers": {node: sums.get(node, dict(zero))
                                  for node in hypervisor_usage(dep)}}
        if time.monotonic() > deadline:
            raise AssertionError("claims accounting is inconsistent:\n  "
                                 + "\n  ".join(problems))
        time.sleep(0.5)
