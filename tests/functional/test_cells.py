"""Two cells laid out as Nova lays them out: the API, scheduler and super conductor on the
top message bus with the API database (and cell0 as [database]); each cell its own
database, its own RabbitMQ vhost, its own conductor (only that cell's [database]) and a
fake compute on that vhost. Servers boot in both cells, lists page across both in any
order, and with cell2's database cut (a relay in front of it) lists and shows give
2.69's minimal records, and older microversions leave cell2's servers out. Unmodified
openstackclient lists and pages across both cells too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Iterator

import pymysql
import pytest
import requests

from tests.functional import harness
from tests.functional.conftest import require_services
from tests.functional.relay import Relay
from tests.functional.test_boot_flow import image_id

CELLS = ("cell1", "cell2")
HOSTS = {"cell1": "cc-host1", "cell2": "cc-host2"}
PER_CELL = 4
OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")


class TwoCells(harness.Deployment):
    """A Deployment whose computes are split over two cells with their own buses."""

    def __init__(self, workdir: str) -> None:
        sizes = {"vcpus": 16, "memory_mb": 65536, "local_gb": 1000}
        super().__init__(workdir, {HOSTS[c]: sizes for c in CELLS})
        self.relay = Relay(harness.MYSQL["host"] + ":" + str(harness.MYSQL["port"]))

    def cell_vhost(self, cell: str) -> str:
        return f"{self.vhost}_{cell}"

    def cell_transport(self, cell: str) -> str:
        return f"rabbit://guest:guest@{self.rabbit_addr}/{self.cell_vhost(cell)}"

    def cell_db(self, cell: str) -> str:
        if cell == "cell2":  # through the relay, which the test cuts
            return (f"mysql+pymysql://root@{self.relay.addr}/{self.db_prefix}_{cell}"
                    "?charset=utf8mb4")
        return self.db_url(f"_{cell}")

    def write_configs(self) -> None:
        super().write_configs()
        # The super conductor: API database, cell0 as its own [database] (as Nova's).
        self.db_conf = self._write_conf("nova-db.conf", f"""[api_database]
connection = {self.db_url('_api')}
[database]
connection = {self.db_url('_cell0')}
[conductor]
workers = 1
""")
        self.cell_confs = {c: self._write_conf(f"nova-{c}.conf", f"""[DEFAULT]
transport_url = {self.cell_transport(c)}
[api_database]
connection = {self.db_url('_api')}
[database]
connection = {self.cell_db(c)}
[conductor]
workers = 1
""") for c in CELLS}
        for cell in CELLS:
            host = HOSTS[cell]
            with open(self.host_confs[host], "a") as f:
                f.write(f"[DEFAULT]\ntransport_url = {self.cell_transport(cell)}\n")

    def prepare_databases(self) -> None:
        from nova_lite.db import bootstrap
        from nova_lite.db import cells as cells_db
        from nova_lite.db import flavors as flavors_db

        api, cell0 = self.db_url("_api"), self.db_url("_cell0")
        bootstrap.sync("api", api)
        bootstrap.map_cell0(api, cell0)
        bootstrap.sync("main", cell0)
        for cell in CELLS:
            bootstrap.sync("main", self.cell_db(cell))
        cells_db.cell_create(api, "cell1", self.cell_transport("cell1"), self.cell_db("cell1"))
        flavors_db.ensure_default_flavors(api)

    def setup(self) -> "TwoCells":
        for vhost in (self.vhost, *(self.cell_vhost(c) for c in CELLS)):
            harness._rabbitmqctl("add_vhost", vhost)
            harness._rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        self.write_configs()
        self.prepare_databases()
        # cell2 the operator's way: Nova's flags, --verbose prints the new cell's uuid.
        res = self.manage("cell_v2", "create_cell", "--name", "cell2",
                          "--database_connection", self.cell_db("cell2"),
                          "--transport-url", self.cell_transport("cell2"), "--verbose")
        self.cell2_uuid = res.stdout.strip().splitlines()[-1]
        self.start_proc("conductor", "nova-lite-conductor", self.db_conf)
        for cell in CELLS:
            self.start_proc(f"conductor-{cell}", "nova-lite-conductor", self.cell_confs[cell])
        self.start_proc("scheduler", "nova-lite-scheduler")
        self.start_proc("api", "nova-lite-api")
        for host, path in self.host_confs.items():
            self.start_proc(f"compute-{host}", "nova-lite-compute", path)
        self.wait_for_api()
        self.wait_for_nodes()
        self.manage("cell_v2", "discover_hosts", "--verbose")
        self.wait_for_computes(list(self.computes))
        return self

    def wait_for_nodes(self, timeout: float = 60) -> None:
        """Each cell's compute node is in its own cell database (its report went to its
        cell conductor)."""
        deadline = time.monotonic() + timeout
        while True:
            found = {c: query(self, c, "SELECT host FROM compute_nodes") for c in CELLS}
            if all([(HOSTS[c],)] == [tuple(r) for r in found[c]] for c in CELLS):
                return
            self._check_alive()
            assert time.monotonic() < deadline, f"nodes not reported: {found}\n" + \
                self.logs("conductor-cell2")
            time.sleep(0.3)

    def teardown(self) -> None:
        self.stop_all()
        self.relay.close()
        try:
            conn = pymysql.connect(**harness.MYSQL, connect_timeout=10, read_timeout=120)
            with conn.cursor() as cur:
                for cell in CELLS:
                    cur.execute(f"DROP DATABASE IF EXISTS `{self.db_prefix}_{cell}`")
            conn.close()
        except Exception:
            pass
        for cell in CELLS:
            try:
                harness._rabbitmqctl("delete_vhost", self.cell_vhost(cell))
            except Exception:
                pass
        super().teardown()


def query(dep: harness.Deployment, cell: str, sql: str) -> list:
    conn = pymysql.connect(**harness.MYSQL, database=f"{dep.db_prefix}_{cell}",
                           connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def two_cells(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoCells]:
    require_services()
    dep = TwoCells(str(tmp_path_factory.mktemp("cells")))
    try:
        dep.setup()
        yield dep
    finally:
        dep.teardown()


def _v(version: str) -> dict:
    return {"OpenStack-API-Version": f"compute {version}"}


def _pages(dep: harness.Deployment, query_: str, limit: int) -> list[dict]:
    out: list[dict] = []
    marker = ""
    while True:
        r = dep.get(f"/servers/detail?{query_}&limit={limit}{marker}")
        assert r.status_code == 200, r.text
        page = r.json()["servers"]
        out += page
        if len(page) < limit:
            return out
        marker = f"&marker={page[-1]['id']}"


def _boot_alternating(dep: harness.Deployment, image: str, names: list[str]
                      ) -> tuple[dict[str, str], dict[str, dict]]:
    """One server per name, cell1 and cell2 in turn; their cells and ACTIVE views."""
    ids: dict[str, str] = {}
    for n, name in enumerate(names):
        cell = CELLS[n % 2]
        r = dep.post("/servers", {"server": {
            "name": name, "imageRef": image, "flavorRef": "1",
            "availability_zone": f"nova:{HOSTS[cell]}"}})
        assert r.status_code == 202, r.text
        ids[r.json()["server"]["id"]] = cell
    servers = dep.wait_for_servers(list(ids))
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}, [
        (s["status"], s.get("fault")) for s in servers.values()]
    return ids, servers


def test_two_cells_boot_list_page_and_survive_a_down_cell(two_cells, tmp_path_factory):
    dep = two_cells
    hosts = dep.manage("cell_v2", "list_hosts").stdout
    for cell in CELLS:
        assert any(cell in line and HOSTS[cell] in line for line in hosts.splitlines()), hosts
    image = image_id(dep, tmp_path_factory)
    names = ["m", "c", "x", "a", "q", "b", "z", "k"]
    ids, servers = _boot_alternating(dep, image, names)
    for sid, cell in ids.items():
        assert servers[sid]["OS-EXT-SRV-ATTR:host"] == HOSTS[cell]
    # Each server lives in its own cell's database, written by that cell's conductor.
    for cell in CELLS:
        rows = query(dep, cell, "SELECT uuid, vm_state FROM instances WHERE deleted = 0")
        assert {u for u, _ in rows} == {s for s, c in ids.items() if c == cell}
        assert {v for _, v in rows} == {"active"}

    # Paging across both cells, in any order, equals one global sort.
    by_name = sorted(names)
    for limit in (1, 3):
        got = _pages(dep, "sort_key=display_name&sort_dir=asc", limit)
        assert [s["name"] for s in got] == by_name
        got = _pages(dep, "sort_key=display_name&sort_dir=desc", limit)
        assert [s["name"] for s in got] == by_name[::-1]
    everything = _pages(dep, "", 100)
    assert {s["id"] for s in everything} == set(ids)
    assert [s["id"] for s in _pages(dep, "", 3)] == [s["id"] for s in everything]
    # Filters apply in every cell.
    assert {s["name"] for s in _pages(dep, "name=^[a-c]$", 2)} == {"a", "b", "c"}
    in_cell2 = _pages(dep, f"host={HOSTS['cell2']}&sort_key=display_name", 2)
    assert {s["id"] for s in in_cell2} == {s for s, c in ids.items() if c == "cell2"}

    # cell2's database becomes unreachable.
    dep.relay.cut()
    try:
        cell2_ids = {s for s, c in ids.items() if c == "cell2"}
        r = dep.get("/servers", headers=_v("2.69"))
        assert r.status_code == 200, r.text
        listed = {s["id"]: s for s in r.json()["servers"]}
        assert set(listed) == set(ids)
        for sid in cell2_ids:
            assert listed[sid]["status"] == "UNKNOWN" and set(listed[sid]) == {
                "id", "status", "links"}
        r = dep.get("/servers/detail", headers=_v("2.69"))
        assert r.status_code == 200, r.text
        detail = {s["id"]: s for s in r.json()["servers"]}
        for sid in cell2_ids:
            assert set(detail[sid]) == {"id", "status", "tenant_id", "created", "links"}
        assert all(detail[s]["status"] == "ACTIVE" for s in set(ids) - cell2_ids)
        one = next(iter(cell2_ids))
        r = dep.get(f"/servers/{one}", headers=_v("2.69"))
        assert r.status_code == 200, r.text
        shown = r.json()["server"]
        assert shown["status"] == "UNKNOWN" and shown["OS-EXT-STS:power_state"] == 0
        assert shown["image"]["id"] == image and shown["tenant_id"] == "admin"
        assert shown["flavor"]["original_name"] and shown["user_id"] == "admin"
        # Before 2.69, and with paging at 2.69, cell2's servers are left out.
        for path, ver in (("/servers/detail", "2.68"), ("/servers?limit=50", "2.69")):
            r = dep.get(path, headers=_v(ver))
            assert r.status_code == 200, r.text
            assert {s["id"] for s in r.json()["servers"]} == set(ids) - cell2_ids, path
        r = dep.get(f"/servers/{one}", headers=_v("2.68"))
        assert r.status_code == 503 and "itemNotFound" not in r.text, r.text
        # os-services: cell2's compute as Nova's minimal record from 2.69, else left out.
        svcs = dep.get("/os-services", headers=_v("2.69")).json()["services"]
        assert {"binary": "nova-compute", "host": HOSTS["cell2"], "status": "UNKNOWN"} in svcs
        assert any(s["host"] == HOSTS["cell1"] and s.get("state") == "up" for s in svcs)
        svcs = dep.get("/os-services", headers=_v("2.68")).json()["services"]
        assert HOSTS["cell2"] not in {s["host"] for s in svcs}
        # cell1's servers are still reachable whole.
        other = next(s for s, c in ids.items() if c == "cell1")
        assert dep.get(f"/servers/{other}", headers=_v("2.69")).json()[
            "server"]["status"] == "ACTIVE"
    finally:
        dep.relay.restore()
    deadline = time.monotonic() + 30
    while True:
        r = dep.get("/servers/detail", headers=_v("2.69"))
        if r.status_code == 200 and {s["status"] for s in r.json()["servers"]} == {"ACTIVE"}:
            break
        assert time.monotonic() < deadline, r.text
        time.sleep(0.5)


def osc(dep: TwoCells, *args: str, version: str = "2.1") -> list[dict]:
    """Unmodified python-openstackclient against the deployment's noauth2 API (its
    identity client, which ``server list`` requires, discovers the machine's Keystone)."""
    keystone = os.environ.get("KEYSTONE_URL", "http://127.0.0.1:5000/v3")
    try:
        requests.get(keystone, timeout=5).raise_for_status()
    except requests.RequestException as err:
        pytest.skip(f"Keystone is not reachable at {keystone} (tools/setup-keystone): {err}")
    clouds = os.path.join(dep.workdir, "clouds.yaml")
    with open(clouds, "w") as f:
        f.write(f"""clouds:
  cells:
    auth_type: admin_token
    auth: {{token: "admin:admin", endpoint: "{dep.url}/v2.1"}}
    compute_endpoint_override: {dep.url}/v2.1
    identity_endpoint_override: {keystone}
    identity_api_version: "3"
""")
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds)
    for name in [k for k in env if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        env.pop(name)
    proc = subprocess.run([OPENSTACK, "--os-cloud", "cells", "--os-compute-api-version",
                           version, *args, "-f", "json"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout)


def test_openstackclient_server_list_pages_across_cells(two_cells, tmp_path_factory):
    """``openstack server list`` merges both cells: whole (the SDK follows the pages),
    page by page with --limit/--marker in the API's order, sorted by a column (its
    own sort: it sends no sort key), and at 2.69 with cell2's database cut, cell2's
    servers as UNKNOWN."""
    dep = two_cells
    ids, _ = _boot_alternating(dep, image_id(dep, tmp_path_factory),
                               ["osc-e", "osc-b", "osc-f", "osc-a", "osc-d", "osc-c"])
    api_order = [s["id"] for s in _pages(dep, "name=^osc-", 100)]
    assert set(api_order) == set(ids)

    whole = osc(dep, "server", "list", "--name", "^osc-", "--long", "--no-name-lookup")
    assert [s["ID"] for s in whole] == api_order
    assert {s["Host"] for s in whole} == set(HOSTS.values())
    paged: list[str] = []
    marker: list[str] = []
    while True:
        page = osc(dep, "server", "list", "--name", "^osc-", "--limit", "4",
                   "--no-name-lookup", *marker)
        paged += [s["ID"] for s in page]
        if len(page) < 4:
            break
        marker = ["--marker", page[-1]["ID"]]
    assert paged == api_order
    by_name = osc(dep, "server", "list", "--name", "^osc-", "--no-name-lookup",
                  "--sort-column", "Name", "--sort-descending")
    assert [s["Name"] for s in by_name] == ["osc-f", "osc-e", "osc-d", "osc-c", "osc-b",
                                            "osc-a"]

    dep.relay.cut()
    try:
        listed = {s["ID"]: s for s in osc(dep, "server", "list", "--no-name-lookup",
                                          version="2.69")}
        for sid, cell in ids.items():
            assert listed[sid]["Status"] == ("UNKNOWN" if cell == "cell2" else "ACTIVE")
    finally:
        dep.relay.restore()


def test_update_cell_renames_a_cell(two_cells):
    """The command line (its exit codes are tested in tests/db/test_cell_layout.py)."""
    dep = two_cells
    res = dep.manage("cell_v2", "update_cell", "--cell_uuid", dep.cell2_uuid, "--name",
                     "cell-two", "--transport-url", dep.cell_transport("cell2"),
                     "--database_connection", dep.cell_db("cell2"), check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    from nova_lite.db import cells as cells_db

    cells = {c["uuid"]: c for c in cells_db.cell_list(dep.db_url("_api"))}
    assert cells[dep.cell2_uuid]["name"] == "cell-two"
    assert cells[dep.cell2_uuid]["disabled"] is False
