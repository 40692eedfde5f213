"""Cold migration and migration records through unmodified python-openstackclient,
against real daemons (fake driver, three hosts) with real Keystone tokens: `server
migrate` (to a host the scheduler picks, then to a named one), `server migrate confirm`
and `revert`, `server migration list` (filters) and `show` (live migrations only); a
member may neither migrate nor list. Claims are accounted after the moves."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.functional import accounting
from tests.functional.keystone.conftest import Cloud

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

ADMIN = "admin"
OWNER = "member-a"


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _host(cloud: Cloud, sid: str) -> str:
    return cloud.call(ADMIN, "GET", f"/servers/{sid}").json()["server"][
        "OS-EXT-SRV-ATTR:host"]


def _listed(cloud: Cloud, *args: str) -> list[dict]:
    return json.loads(_ok(cloud.cli(ADMIN, "server", "migration", "list", "-f", "json",
                                    *args)))


def test_migrate_confirm_revert_and_list_with_openstackclient(cloud: Cloud):
    created = json.loads(_ok(cloud.cli(
        OWNER, "server", "create", "--flavor", "m1.nano", "--image", cloud.image_id,
        "--nic", "none", "--wait", "-f", "json", "cli-migrate")))
    sid = created["id"]
    first = _host(cloud, sid)

    proc = cloud.cli(OWNER, "server", "migrate", sid)
    assert proc.returncode != 0 and "403" in proc.stderr + proc.stdout
    proc = cloud.cli(OWNER, "server", "migration", "list")
    assert proc.returncode != 0 and "403" in proc.stderr + proc.stdout

    # the scheduler picks the destination: any host but the server's own
    _ok(cloud.cli(ADMIN, "server", "migrate", "--wait", sid))
    assert cloud.wait_status(sid, "VERIFY_RESIZE")["OS-EXT-SRV-ATTR:host"] != first
    second = _host(cloud, sid)
    [row] = _listed(cloud, "--server", sid)
    assert (row["Type"], row["Status"], row["Source Compute"], row["Dest Compute"]) == (
        "migration", "finished", first, second)
    assert row["Server UUID"] == sid and row["Old Flavor"] == row["New Flavor"]
    accounting.assert_consistent(cloud.dep)
    _ok(cloud.cli(ADMIN, "server", "migrate", "confirm", sid))
    cloud.wait_status(sid, "ACTIVE")
    assert [r["Status"] for r in _listed(cloud, "--server", sid)] == ["confirmed"]

    # to a named host, then back by a revert
    _ok(cloud.cli(ADMIN, "server", "migrate", "--host", first, "--wait", sid))
    assert cloud.wait_status(sid, "VERIFY_RESIZE")["OS-EXT-SRV-ATTR:host"] == first
    _ok(cloud.cli(ADMIN, "server", "migrate", "revert", sid))
    assert cloud.wait_status(sid, "ACTIVE")["OS-EXT-SRV-ATTR:host"] == second
    rows = _listed(cloud, "--server", sid)
    assert [(r["Status"], r["Dest Compute"]) for r in rows] == [
        ("reverted", first), ("confirmed", second)]
    assert [r["Id"] for r in _listed(cloud, "--type", "cold-migration", "--host", first,
                                     "--status", "reverted")] == [rows[0]["Id"]]
    assert _listed(cloud, "--server", sid, "--type", "live-migration") == []
    paged = _listed(cloud, "--server", sid, "--limit", "1")
    assert [r["Id"] for r in paged] == [rows[0]["Id"]]

    # a cold migration is not among a server's (live) migrations; by UUID (2.59) the
    # client looks it up in GET /servers/{id}/migrations (this client's lookup by
    # integer ID passes the server and migration ids in the wrong order)
    mig_uuid = rows[0]["UUID"]
    proc = cloud.cli(ADMIN, "server", "migration", "show", sid, mig_uuid)
    assert proc.returncode != 0
    assert f"In-progress live migration {mig_uuid} is not found" in proc.stderr
    r = cloud.call(ADMIN, "GET", f"/servers/{sid}/migrations/{rows[0]['Id']}",
                   **{"OpenStack-API-Version": "compute 2.80"})
    assert r.status_code == 404 and "is not live-migration" in r.text
    proc = cloud.cli(ADMIN, "server", "migrate", "--host", "no-such-host", sid)
    assert proc.returncode != 0 and "Compute host no-such-host could not be found" in (
        proc.stderr + proc.stdout)
    accounting.assert_consistent(cloud.dep)
    _ok(cloud.cli(OWNER, "server", "delete", "--wait", sid))
