"""The claims accounting check itself: it passes on a consistent deployment and names
every kind of inconsistency it is there to catch."""

from __future__ import annotations

import uuid

import pymysql

from tests.functional import accounting, harness
from tests.functional.test_boot_flow import boot_many, delete_all, image_id


def _api_db(dep: harness.Deployment, sql: str, args: tuple = ()) -> None:
    conn = pymysql.connect(**harness.MYSQL, database=f"{dep.db_prefix}_api", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
    finally:
        conn.close()


def test_accounting_after_boots_failures_and_deletes(three_hosts, tmp_path_factory):
    dep = three_hosts
    image = image_id(dep, tmp_path_factory)
    ids = boot_many(dep, 6, image, "1")
    r = dep.post("/servers", {"server": {"name": "broken", "imageRef": image,
                                         "flavorRef": "1",
                                         "metadata": {"fake_spawn_error": "1"}}})
    assert r.status_code == 202, r.text
    broken = r.json()["server"]["id"]
    servers = dep.wait_for_servers(ids + [broken])
    assert servers[broken]["status"] == "ERROR"
    # a failed build holds no claim and, as with Nova, is on no host
    assert servers[broken]["OS-EXT-SRV-ATTR:host"] is None
    summary = accounting.assert_consistent(dep, expect_servers=6)
    assert summary["claims"] == 6
    used = summary["providers"]
    assert sum(p["MEMORY_MB"] for p in used.values()) == 6 * 512

    delete_all(dep, ids[:3] + [broken])
    accounting.assert_consistent(dep, expect_servers=3)

    # an allocation nobody owns is reported as orphaned, with the hypervisor mismatch
    orphan = str(uuid.uuid4())
    _api_db(dep, "INSERT INTO allocations (resource_provider_id, consumer_id, "
                 "resource_class, used, created_at) SELECT id, %s, 'MEMORY_MB', 64, NOW() "
                 "FROM resource_providers WHERE name = 'c1'", (orphan,))
    try:
        problems = accounting.differences(dep)
        assert any(p.startswith(f"orphaned claim: consumer {orphan} on c1") for p in problems)
        assert any(p.startswith("hypervisor c1 reports used") for p in problems), problems
        assert accounting.orphaned_claims(dep) == [(orphan, "c1")]
    finally:
        _api_db(dep, "DELETE FROM allocations WHERE consumer_id = %s", (orphan,))
    # a server whose claim went missing is reported too
    victim = ids[3]
    _api_db(dep, "UPDATE allocations SET consumer_id = %s WHERE consumer_id = %s",
            (orphan, victim))
    try:
        problems = accounting.differences(dep)
        assert any(p.startswith(f"missing claim: consumer {victim}") for p in problems)
    finally:
        _api_db(dep, "UPDATE allocations SET consumer_id = %s WHERE consumer_id = %s",
                (victim, orphan))
    accounting.assert_consistent(dep, expect_servers=3)
    delete_all(dep, ids[3:])
    accounting.assert_consistent(dep, expect_servers=0)
