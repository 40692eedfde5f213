"""Run a real nova_lite deployment for functional tests: every daemon a separate process,
talking over the machine's RabbitMQ (a throwaway vhost) with the conductor on the
machine's MariaDB (throwaway databases). Nothing is shared between runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from typing import Any, Optional

import pymysql
import requests

MYSQL = dict(host="127.0.0.1", port=3306, user="root", password="")
RABBIT = "127.0.0.1:5672"
BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mariadb_available() -> bool:
    try:
        pymysql.connect(**MYSQL).close()
        return True
    except Exception:
        return False


def rabbit_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
        return True
    except OSError:
        return False


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


class Deployment:
    """A control plane: conductor, scheduler, API and N fake computes."""

    def __init__(self, workdir: str, computes: dict[str, dict], extra_conf: str = "",
                 conductor_workers: int = 1, auth_strategy: str = "noauth2",
                 authtoken: Optional[dict] = None,
                 host_conf: Optional[dict[str, str]] = None,
                 fast_periodics: bool = True, api_workers: int = 1,
                 rabbit_addr: str = RABBIT, mysql_addr: str = "127.0.0.1:3306",
                 host_state_paths: bool = False) -> None:
        """``authtoken``: [keystone_authtoken] values, for auth_strategy ``keystone``;
        then set ``token`` to a real admin token before ``setup()``. ``host_conf``:
        more config text for one compute only (e.g. its compute_driver).
        ``fast_periodics``: heartbeats and compute periodic tasks every few seconds, so
        tests see changes quickly; False keeps Nova's default intervals (benchmarks).
        ``host_state_paths``: every compute gets its own state_path (so its own image
        cache and instances directory), as on separate machines; see host_state()."""
        self.run_id = uuid.uuid4().hex[:10]
        self.workdir = workdir
        self.computes = computes  # host -> [fake_driver] values
        self.host_conf = host_conf or {}
        self.host_state_paths = host_state_paths
        self.extra_conf = extra_conf
        self.conductor_workers = conductor_workers
        self.api_workers = api_workers  # nova-lite-api processes (one keeps tests light)
        # Where the daemons reach RabbitMQ and MariaDB: a fault test puts a relay there.
        self.rabbit_addr, self.mysql_addr = rabbit_addr, mysql_addr
        self.auth_strategy = auth_strategy
        self.authtoken = authtoken or {}
        self.token = "admin:admin"  # what request() sends when no token is given
        # report_interval, service_down_time, update_resources_interval, sync interval
        self.intervals = (2, 20, 5, 5) if fast_periodics else (10, 60, 60, 600)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_prefix = f"nlt_{self.run_id}"
        self.vhost = f"nlt_{self.run_id}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.state_path = os.path.join(workdir, "state")

    # -- configuration ---------------------------------------------------------------------
    def db_url(self, suffix: str) -> str:
        return (f"mysql+pymysql://root@{self.mysql_addr}/{self.db_prefix}{suffix}"
                "?charset=utf8mb4")

    def _write_conf(self, name: str, body: str) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(body)
        return path

    def _common(self) -> str:
        authtoken = "".join(f"{k} = {v}\n" for k, v in self.authtoken.items())
        return f"""[DEFAULT]
transport_url = rabbit://guest:guest@{self.rabbit_addr}/{self.vhost}
state_path = {self.state_path}
report_interval = {self.intervals[0]}
service_down_time = {self.intervals[1]}
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = {self.port}
rpc_response_timeout = 30
[api]
auth_strategy = {self.auth_strategy}
workers = {self.api_workers}
[keystone_authtoken]
{authtoken}
[compute]
update_resources_interval = {self.intervals[2]}
sync_power_state_interval = {self.intervals[3]}
[quota]
# Limits well above any test's needs, so every boot still goes through the quota check.
instances = 100000
cores = 1000000
ram = 1000000000
{self.extra_conf}
"""

    def write_configs(self) -> None:
        os.makedirs(self.state_path, exist_ok=True)
        self.common_conf = self._write_conf("nova.conf", self._common())
        self.db_conf = self._write_conf("nova-db.conf", f"""[api_database]
connection = {self.db_url('_api')}
[database]
connection = {self.db_url('')}
[conductor]
workers = {self.conductor_workers}
""")
        self.host_confs = {}
        for host, sizes in self.computes.items():
            self._write_host_conf(host, sizes)

    def _write_host_conf(self, host: str, sizes: dict) -> str:
        own = f"state_path = {self.host_state(host)}\n" if self.host_state_paths else ""
        body = f"[DEFAULT]\nhost = {host}\n{own}[fake_driver]\n" + "".join(
            f"{k} = {v}\n" for k, v in sizes.items()) + self.host_conf.get(host, "")
        self.host_confs[host] = self._write_conf(f"nova-{host}.conf", body)
        return self.host_confs[host]

    def add_compute(self, host: str, sizes: Optional[dict] = None) -> None:
        """Start one more fake compute in a running deployment and map it (a test that
        retires a host brings its own instead of taking one from shared tests)."""
        self.computes[host] = sizes or {}
        self.start_proc(f"compute-{host}", "nova-lite-compute",
                        self._write_host_conf(host, sizes or {}))
        self.wait_for_computes([host])
        self.manage("cell_v2", "discover_hosts")

    def host_state(self, host: str) -> str:
        """The state_path of one compute host (the shared one unless host_state_paths)."""
        if not self.host_state_paths:
            return self.state_path
        return os.path.join(self.workdir, "hosts", host)

    # -- lifecycle -------------------------------------------------------------------------
    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [os.path.join(BIN, "nova-lite-manage"), "--config-file", self.common_conf,
               "--config-file", self.db_conf, *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and res.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({res.returncode}): {res.stderr}")
        return res

    def prepare_databases(self) -> None:
        """What `nova-lite-manage api_db sync; cell_v2 map_cell0; cell_v2 create_cell;
        db sync; flavor create_defaults` do (tested as commands elsewhere), in-process
        because five interpreter start-ups per deployment add up."""
        from nova_lite.db import bootstrap
        from nova_lite.db import cells as cells_db
        from nova_lite.db import flavors as flavors_db

        api, main, cell0 = self.db_url("_api"), self.db_url(""), self.db_url("_cell0")
        bootstrap.sync("api", api)
        bootstrap.map_cell0(api, cell0)
        cells_db.cell_create(api, "cell1", f"rabbit://guest:guest@{self.rabbit_addr}/"
                                           f"{self.vhost}", main)
        bootstrap.sync("main", main)
        bootstrap.sync("main", cell0)
        flavors_db.ensure_default_flavors(api)

    def start_proc(self, name: str, binary: str, *conf_files: str) -> None:
        args = [os.path.join(BIN, binary)]
        for f in (self.common_conf, *conf_files):
            args += ["--config-file", f]
        log = open(os.path.join(self.workdir, f"{name}.log"), "ab")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def stop_proc(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def setup(self) -> "Deployment":
        _rabbitmqctl("add_vhost", self.vhost)
        _rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.write_configs()
        self.prepare_databases()
        self.start_proc("conductor", "nova-lite-conductor", self.db_conf)
        self.start_proc("scheduler", "nova-lite-scheduler")
        self.start_proc("api", "nova-lite-api")
        for host, path in self.host_confs.items():
            self.start_proc(f"compute-{host}", "nova-lite-compute", path)
        self.wait_for_api()
        self.wait_for_computes(list(self.computes))
        self.manage("cell_v2", "discover_hosts", "--verbose")
        return self

    def wait_for_api(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/v2.1", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            self._check_alive()
            time.sleep(0.2)
        raise RuntimeError("the API did not come up:\n" + self.logs("api"))

    def wait_for_computes(self, hosts: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.get("/os-hypervisors/detail")
            if r.status_code == 200:
                have = {h["service"]["host"] for h in r.json()["hypervisors"]}
                if set(hosts) <= have:
                    return
            self._check_alive()
            time.sleep(0.3)
        raise RuntimeError("computes did not report:\n" + self.logs("conductor"))

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.logs(name)}")

    def logs(self, name: str) -> str:
        try:
            with open(os.path.join(self.workdir, f"{name}.log")) as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def stop_all(self) -> None:
        """SIGTERM every daemon at once, then wait (SIGKILL after 15 s)."""
        procs = list(self.procs.values())
        self.procs.clear()
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)

    def teardown(self) -> None:
        self.stop_all()
        try:
            # bounded: a teardown must never hang the suite on a lost server reply
            conn = pymysql.connect(**MYSQL, connect_timeout=10, read_timeout=120,
                                   write_timeout=120)
            with conn.cursor() as cur:
                for suffix in ("_api", "", "_cell0"):
                    cur.execute(f"DROP DATABASE IF EXISTS `{self.db_prefix}{suffix}`")
            conn.close()
        except Exception:
            pass
        try:
            _rabbitmqctl("delete_vhost", self.vhost)
        except Exception:
            pass
        shutil.rmtree(self.state_path, ignore_errors=True)
        if self.host_state_paths:
            shutil.rmtree(os.path.join(self.workdir, "hosts"), ignore_errors=True)

    # -- API client --------------------------------------------------------------------------
    def request(self, method: str, path: str, token: Optional[str] = None,
                body: Any = None, headers: Optional[dict] = None,
                raw: Optional[str] = None) -> requests.Response:
        h = {"X-Auth-Token": self.token if token is None else token,
             "Content-Type": "application/json"}
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return requests.request(method, self.url + "/v2.1" + path, headers=h, data=data,
                                timeout=60)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return self.request("POST", path, body=body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def wait_for_servers(self, ids: list[str], statuses: tuple = ("ACTIVE", "ERROR"),
                         timeout: float = 120, token: Optional[str] = None) -> dict:
        """Poll the detail list until every id has one of statuses; {id: server}."""
        deadline = time.monotonic() + timeout
        wanted = set(ids)
        last: dict = {}
        while time.monotonic() < deadline:
            r = self.get("/servers/detail?all_tenants=1", token=token)
            r.raise_for_status()
            last = {s["id"]: s for s in r.json()["servers"] if s["id"] in wanted}
            if len(last) == len(wanted) and all(s["status"] in statuses
                                                for s in last.values()):
                return last
            time.sleep(0.25)
        raise AssertionError(f"servers not settled: "
                             f"{ {k: v['status'] for k, v in last.items()} }")

    def wait_gone(self, ids: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.get("/servers?all_tenants=1")
            left = {s["id"] for s in r.json()["servers"]} & set(ids)
            if not left:
                return
            time.sleep(0.25)
        raise AssertionError(f"servers not deleted: {left}")
