"""nova-lite-manage and nova-lite-status, run as an operator runs them: the installed
console scripts, a nova.conf on MariaDB (throwaway databases) and RabbitMQ."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from typing import Iterator

import pymysql
import pytest

from nova_lite.db import services as svc_db
from tests.functional import harness

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TRANSPORT = "rabbit://guest:guest@127.0.0.1:5672/"


def _script(name: str) -> str:
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.path.exists(path) else (shutil.which(name) or name)


class Operator:
    """Runs the commands against one nova.conf."""

    def __init__(self, conf: str) -> None:
        self.conf = conf

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        return subprocess.run([_script(script), "--config-file", self.conf, *args],
                              capture_output=True, text=True, timeout=120, env=env)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("nova-lite-manage", *args)

    def status(self) -> subprocess.CompletedProcess:
        return self.run("nova-lite-status", "upgrade", "check")


def _drop_databases(prefix: str) -> None:
    conn = pymysql.connect(**harness.MYSQL)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES LIKE %s", (prefix + "%",))
            for (name,) in cur.fetchall():
                cur.execute(f"DROP DATABASE `{name}`")
    finally:
        conn.close()


@pytest.fixture
def deployment(tmp_path) -> Iterator[dict]:
    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    prefix = f"nl_test_{uuid.uuid4().hex[:10]}"
    urls = {suffix: f"mysql+pymysql://root@127.0.0.1/{prefix}{suffix}?charset=utf8mb4"
            for suffix in ("_api", "", "_cell0")}
    conf = tmp_path / "nova.conf"
    conf.write_text(f"""[DEFAULT]
transport_url = {TRANSPORT}
state_path = {tmp_path / 'state'}
[api_database]
connection = {urls['_api']}
[database]
connection = {urls['']}
""")
    try:
        yield {"op": Operator(str(conf)), "api": urls["_api"], "cell1": urls[""],
               "cell0": urls["_cell0"], "tmp": tmp_path}
    finally:
        from nova_lite.db import engine as db_engine

        db_engine.dispose_all()
        _drop_databases(prefix)


def _table_rows(out: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")]
            for line in out.splitlines() if line.startswith("|")]


def test_operator_sequence(deployment: dict) -> None:
    op: Operator = deployment["op"]

    res = op.status()  # nothing set up yet
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Upgrade Check Results" in res.stdout and "Result: Failure" in res.stdout

    res = op.manage("api_db", "sync")
    assert res.returncode == 0, res.stderr

    res = op.manage("cell_v2", "map_cell0")
    assert (res.returncode, res.stdout.strip()) == (0, "Cell0 mapped."), res.stderr
    res = op.manage("cell_v2", "map_cell0")
    assert (res.returncode, res.stdout.strip()) == (0, "Cell0 is already setup")

    res = op.manage("cell_v2", "create_cell", "--name", "cell1", "--verbose")
    assert res.returncode == 0, res.stderr
    cell1_uuid = res.stdout.strip().splitlines()[-1]
    assert UUID_RE.match(cell1_uuid)
    res = op.manage("cell_v2", "create_cell", "--name", "cell1", "--verbose")
    assert res.returncode == 2
    assert f"already exists for another cell with uuid {cell1_uuid}" in res.stdout

    res = op.manage("db", "sync")  # the cell database and cell0's
    assert res.returncode == 0, res.stderr

    res = op.manage("cell_v2", "list_cells")
    assert res.returncode == 0, res.stderr
    rows = {r[0]: r for r in _table_rows(res.stdout)[1:]}
    assert set(rows) == {"cell0", "cell1"}
    assert rows["cell0"][1] == "00000000-0000-0000-0000-000000000000"
    assert rows["cell0"][3] == deployment["cell0"]
    assert rows["cell1"][1] == cell1_uuid and rows["cell1"][3] == deployment["cell1"]
    assert rows["cell1"][2] == "rabbit://guest:***@127.0.0.1:5672/"
    assert "guest:guest" not in res.stdout  # passwords masked

    image = deployment["tmp"] / "disk.img"
    image.write_bytes(b"\0" * 4096)
    res = op.manage("image", "import", "--name", "tiny", str(image))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "Imported tiny (raw, 4096 bytes)"
    assert UUID_RE.match(lines[-1])  # the image id, last, for scripts

    res = op.status()
    assert res.returncode == 1, res.stdout + res.stderr
    assert "No compute nodes have reported yet." in res.stdout
    assert res.stdout.count("Result: Success") == 2

    # A compute service reports in; until discovered its host is unmapped.
    svc_db.compute_node_update(deployment["cell1"], "fake1", None, dict(
        hypervisor_hostname="fake1", hypervisor_type="fake", hypervisor_version=1,
        cpu_info="{}", host_ip="127.0.0.1", vcpus=8, memory_mb=16384, local_gb=200,
        vcpus_used=0, memory_mb_used=0, local_gb_used=0, running_vms=0))
    res = op.manage("cell_v2", "discover_hosts", "--verbose")
    assert res.returncode == 0, res.stderr
    assert "Mapped compute host fake1 to cell cell1." in res.stdout
    assert "Found 1 unmapped computes in 1 cell(s)." in res.stdout

    res = op.status()
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("Result: Success") == 3

    # delete_host unmaps a host without instances (Nova's exit codes); discover maps it
    # back.
    res = op.manage("cell_v2", "delete_host", "--cell_uuid", cell1_uuid, "--host", "nope")
    assert (res.returncode, res.stdout.strip()) == (2, "The host nope was not found."), res.stderr
    res = op.manage("cell_v2", "delete_host", "--cell_uuid", cell1_uuid, "--host", "fake1")
    assert res.returncode == 0, res.stdout + res.stderr
    res = op.manage("cell_v2", "list_hosts")
    assert "fake1" not in res.stdout
    res = op.manage("cell_v2", "discover_hosts", "--verbose")
    assert "Mapped compute host fake1 to cell cell1." in res.stdout


def test_missing_database_settings_exit_1(tmp_path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text(f"[DEFAULT]\ntransport_url = {TRANSPORT}\n")
    res = Operator(str(conf)).manage("api_db", "sync")
    assert res.returncode == 1
    assert "[api_database] connection is not set" in res.stderr
