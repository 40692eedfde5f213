"""Faults on real services, each during a burst of boots: the message bus and the database
cut (a TCP relay between the daemons and the machine's RabbitMQ / MariaDB, never the
shared services themselves; a cut ends both sides' connections, as a restart does),
kill -9 of the conductor, the scheduler, a compute and the API, a compute host whose
process stops (SIGSTOP), a graceful stop (SIGTERM drains) and a reload (SIGHUP).

After each: every server the API accepted is ACTIVE, or ERROR with a fault; no claim is
leaked (tests/functional/accounting.py: allocations == the live servers' flavors ==
what the hosts report); no 5xx but the 503s asked for; no daemon needed a restart for
an outage. Each test prints its measurements (``pytest -s``; with NOVA_LITE_FAULT_REPORT
set they are appended to that file as JSON lines).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import threading
import time
from typing import Iterator

import pymysql
import pytest
import requests

from tests.functional import accounting, harness
from tests.functional.conftest import require_services
from tests.functional.relay import Relay

HOSTS = ("f1", "f2", "f3")
RPC_TIMEOUT = 10
RETRY_SECONDS = 10  # [conductor] build_request_retry_seconds
# Boots per kill -9 burst: 40 in the default run (bounded time); the 100 with
# NOVA_LITE_FAULT_BURST=100.
BURST = int(os.environ.get("NOVA_LITE_FAULT_BURST", "40"))


@pytest.fixture(scope="module")
def relays() -> Iterator[dict[str, Relay]]:
    require_services()
    r = {"rabbit": Relay(harness.RABBIT), "mysql": Relay("127.0.0.1:3306")}
    yield r
    for relay in r.values():
        relay.close()


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory, relays: dict[str, Relay]
        ) -> Iterator[harness.Deployment]:
    sizes = {"vcpus": 64, "memory_mb": 262144, "local_gb": 4000, "spawn_delay": 0.3}
    d = harness.Deployment(
        str(tmp_path_factory.mktemp("faults")), {h: sizes for h in HOSTS},
        rabbit_addr=relays["rabbit"].addr, mysql_addr=relays["mysql"].addr,
        extra_conf=f"[DEFAULT]\nrpc_response_timeout = {RPC_TIMEOUT}\n"
                   f"[conductor]\nbuild_request_retry_seconds = {RETRY_SECONDS}\n")
    try:
        d.setup()
        yield d
    finally:
        for relay in relays.values():
            relay.restore()
        d.teardown()


@pytest.fixture(scope="module")
def image(dep: harness.Deployment, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("img") / "disk.raw"
    path.write_bytes(b"\0" * 4096)
    return dep.manage("image", "import", "--name", "faults", str(path)).stdout.split()[-1]


def report(fault: str, **figures: object) -> None:
    line = {"fault": fault, **figures}
    print("\nFAULT " + json.dumps(line))
    path = os.environ.get("NOVA_LITE_FAULT_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


class Burst:
    """N POST /servers from 20 threads; records every answer (status or error)."""

    def __init__(self, dep: harness.Deployment, image: str, n: int, name: str) -> None:
        self.dep, self.image, self.n, self.name = dep, image, n, name
        self.ids: list[str] = []
        self.codes: list[int] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(20)
        self._futures = [self._pool.submit(self._post, i) for i in range(n)]

    def _post(self, i: int) -> None:
        try:
            r = requests.post(self.dep.url + "/v2.1/servers", timeout=120,
                              headers={"X-Auth-Token": "admin:admin"},
                              json={"server": {"name": f"{self.name}-{i}",
                                               "imageRef": self.image, "flavorRef": "1"}})
        except requests.RequestException as err:
            with self._lock:
                self.errors.append(err.__class__.__name__)
            return
        with self._lock:
            self.codes.append(r.status_code)
            if r.status_code == 202:
                self.ids.append(r.json()["server"]["id"])

    def wait(self) -> "Burst":
        concurrent.futures.wait(self._futures)
        self._pool.shutdown()
        return self


def settle(dep: harness.Deployment, ids: list[str], timeout: float,
           ends: tuple[str, ...] = ("ACTIVE", "ERROR")) -> dict:
    """Wait until every server is in one of ``ends`` (ERROR with a fault); {id: server}."""
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        r = dep.get("/servers/detail?all_tenants=1")
        if r.status_code == 200:
            last = {s["id"]: s for s in r.json()["servers"] if s["id"] in set(ids)}
            if len(last) == len(ids) and all(s["status"] in ends for s in last.values()):
                break
        time.sleep(0.5)
    stuck = {k: (v["status"], v.get("OS-EXT-STS:task_state")) for k, v in last.items()
             if v["status"] not in ends}
    missing = set(ids) - set(last)
    if stuck or missing:
        dump_threads(dep)
    assert not stuck and not missing, f"stuck: {stuck}; missing: {sorted(missing)}"
    for s in last.values():
        if s["status"] == "ERROR":
            assert s.get("fault", {}).get("message"), s
    return last


def dump_threads(dep: harness.Deployment) -> None:
    """Ask every daemon for a Guru Meditation report (SIGUSR2): each thread's stack lands
    in its log, which shows what a stuck build waits for."""
    for proc in dep.procs.values():
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGUSR2)
    time.sleep(2)


def ghosts(dep: harness.Deployment, burst: "Burst") -> list[str]:
    """Servers of the burst the API did not answer 202 for (a 503 that still completed)."""
    r = dep.get("/servers?all_tenants=1")
    return [s["id"] for s in r.json()["servers"]
            if s["name"].startswith(burst.name + "-") and s["id"] not in burst.ids]


def cleanup(dep: harness.Deployment, ids: list[str]) -> None:
    ids = [s["id"] for s in dep.get("/servers?all_tenants=1").json()["servers"]]
    for sid in ids:
        r = dep.delete(f"/servers/{sid}")
        assert r.status_code in (204, 404), r.text
    dep.wait_gone(ids, timeout=120)
    accounting.assert_consistent(dep, expect_servers=0, timeout=60)


def wait_ok(dep: harness.Deployment, path: str, timeout: float) -> float:
    """Seconds until GET path answers 200."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if dep.get(path).status_code == 200:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"GET {path} did not answer 200 within {timeout} s")


def half_written_builds(dep: harness.Deployment) -> list[str]:
    """Build requests without their mapping or spec, and mapped servers whose cell has
    no record of them."""
    conn = pymysql.connect(**harness.MYSQL, database=f"{dep.db_prefix}_api")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT b.instance_uuid FROM build_requests b LEFT JOIN "
                        "instance_mappings m ON m.instance_uuid = b.instance_uuid LEFT JOIN "
                        "request_specs s ON s.instance_uuid = b.instance_uuid "
                        "WHERE m.id IS NULL OR s.id IS NULL")
            bad = [f"build request {u} half written" for (u,) in cur.fetchall()]
            cur.execute("SELECT m.instance_uuid, c.database_connection FROM instance_mappings m "
                        "JOIN cell_mappings c ON c.id = m.cell_id "
                        "WHERE m.queued_for_delete = 0")
            mapped = cur.fetchall()
    finally:
        conn.close()
    by_db: dict[str, set[str]] = {}
    for uuid, url in mapped:
        by_db.setdefault(url.rsplit("/", 1)[-1].split("?")[0], set()).add(uuid)
    for db, uuids in by_db.items():
        conn = pymysql.connect(**harness.MYSQL, database=db)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT uuid FROM instances")
                have = {u for (u,) in cur.fetchall()}
        finally:
            conn.close()
        bad += [f"server {u} mapped to {db} but not there" for u in uuids - have]
    return bad


def alive(dep: harness.Deployment) -> dict[str, int]:
    return {name: p.pid for name, p in dep.procs.items() if p.poll() is None}


# -- the message bus --------------------------------------------------------------------

def test_message_bus_outage_during_a_burst(dep, image, relays):
    before = alive(dep)
    outage = 15.0
    burst = Burst(dep, image, 50, "bus")
    time.sleep(1.0)
    relays["rabbit"].cut()
    cut_at = time.monotonic()
    time.sleep(outage)
    relays["rabbit"].restore()
    restored = time.monotonic()
    api_back = wait_ok(dep, "/flavors/1", timeout=60)
    burst.wait()
    assert not burst.errors, burst.errors
    assert all(c in (202, 503) for c in burst.codes), burst.codes
    servers = settle(dep, burst.ids, timeout=RPC_TIMEOUT + 60 + 30)
    settled = time.monotonic() - restored
    extra = ghosts(dep, burst)
    assert alive(dep) == before  # every daemon reconnected by itself
    summary = accounting.assert_consistent(dep, timeout=60)
    assert half_written_builds(dep) == []
    report("message bus cut (relay) during 50 boots", outage_s=round(restored - cut_at, 1),
           api_answers_after_s=round(api_back, 1), all_settled_after_s=round(settled, 1),
           accepted=len(burst.ids), answered_503=burst.codes.count(503),
           created_despite_503=len(extra),
           active=sum(s["status"] == "ACTIVE" for s in servers.values()),
           error=sum(s["status"] == "ERROR" for s in servers.values()),
           servers_lost=0, claims_leaked=0, other_5xx=0, claims=summary["claims"])
    cleanup(dep, burst.ids)


# -- the database -----------------------------------------------------------------------

def test_database_outage(dep, image, relays):
    before = alive(dep)
    burst = Burst(dep, image, 30, "db")
    deadline = time.monotonic() + 20  # cut once part of the burst is accepted
    while len(burst.ids) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    relays["mysql"].cut()
    cut_at = time.monotonic()
    answers = []
    for path in ("/servers/detail", "/servers/detail?all_tenants=1", "/os-hypervisors"):
        start = time.monotonic()
        r = dep.get(path)
        answers.append((r.status_code, time.monotonic() - start))
        assert r.status_code == 503, (path, r.status_code, r.text)
        assert r.headers["Retry-After"] and "database" in r.json()[
            "serviceUnavailable"]["message"]
    r = dep.post("/servers", {"server": {"name": "during", "imageRef": image,
                                         "flavorRef": "1"}})
    assert r.status_code == 503, r.text
    time.sleep(max(0.0, 10.0 - (time.monotonic() - cut_at)))
    relays["mysql"].restore()
    outage = time.monotonic() - cut_at
    restored = time.monotonic()
    db_back = wait_ok(dep, "/servers/detail", timeout=60)
    burst.wait()
    assert not burst.errors, burst.errors
    assert all(c in (202, 503) for c in burst.codes), burst.codes
    servers = settle(dep, burst.ids, timeout=RETRY_SECONDS * 6 + 60)
    settled = time.monotonic() - restored
    assert alive(dep) == before  # the conductor reconnected by itself
    summary = accounting.assert_consistent(dep, timeout=60)
    assert half_written_builds(dep) == []
    report("database cut (relay) during 30 boots", outage_s=round(outage, 1),
           slowest_503_s=round(max(t for _, t in answers), 2),
           api_answers_after_s=round(db_back, 1), all_settled_after_s=round(settled, 1),
           accepted=len(burst.ids), answered_503=burst.codes.count(503) + 4,
           active=sum(s["status"] == "ACTIVE" for s in servers.values()),
           error=sum(s["status"] == "ERROR" for s in servers.values()),
           servers_lost=0, claims_leaked=0, other_5xx=0, claims=summary["claims"])
    cleanup(dep, burst.ids)


# -- kill -9 ----------------------------------------------------------------------------

@pytest.mark.parametrize("victim", ["conductor", "scheduler", "compute-f1", "api"])
def test_kill_9_during_a_burst(dep, image, victim):
    binary = {"conductor": "nova-lite-conductor", "scheduler": "nova-lite-scheduler",
              "api": "nova-lite-api"}.get(victim, "nova-lite-compute")
    burst = Burst(dep, image, BURST, f"k9-{victim}")
    time.sleep(1.0)
    dep.stop_proc(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    time.sleep(3.0)
    extra = (dep.db_conf,) if victim == "conductor" else (
        (dep.host_confs[victim.split("-", 1)[1]],) if victim.startswith("compute") else ())
    dep.start_proc(victim, binary, *extra)
    restarted = time.monotonic()
    if victim == "api":
        dep.wait_for_api()
    burst.wait()
    assert all(c in (202, 503) for c in burst.codes), burst.codes
    if victim != "api":
        assert not burst.errors, burst.errors
    # A killed API may have created servers whose 202 it never sent: they must end too.
    unanswered = ghosts(dep, burst) if victim == "api" else []
    # The fake hypervisor lives in the compute process: guests that ran on a killed
    # compute are gone when it restarts, and their servers end SHUTOFF (as on a host
    # that lost power); interrupted builds end ERROR.
    ends = ("ACTIVE", "ERROR", "SHUTOFF") if victim.startswith("compute") else (
        "ACTIVE", "ERROR")
    servers = settle(dep, burst.ids + unanswered, timeout=RETRY_SECONDS * 6 + 90, ends=ends)
    settled = time.monotonic() - restarted
    summary = accounting.assert_consistent(dep, timeout=90)
    assert half_written_builds(dep) == []
    report(f"kill -9 {binary} 1 s into {BURST} boots, restarted 3 s later",
           down_s=round(restarted - killed_at, 1), all_settled_after_restart_s=round(settled, 1),
           accepted=len(burst.ids), refused_connections=len(burst.errors),
           created_unanswered=len(unanswered),
           active=sum(s["status"] == "ACTIVE" for s in servers.values()),
           error=sum(s["status"] == "ERROR" for s in servers.values()),
           servers_lost=0, claims_leaked=len(accounting.orphaned_claims(dep)),
           other_5xx=0, claims=summary["claims"])
    cleanup(dep, burst.ids)


# -- a compute host whose process stops -------------------------------------------------

def _service(dep: harness.Deployment, host: str) -> dict:
    r = dep.get(f"/os-services?host={host}&binary=nova-compute")
    assert r.status_code == 200, r.text
    return r.json()["services"][0]


def test_stopped_compute_is_down_skipped_and_keeps_its_servers(dep, image):
    """SIGSTOP a compute (a hung host): os-services shows it down within
    service_down_time, the scheduler stops choosing it, and its servers keep their
    state; SIGCONT brings it back up by itself."""
    report_interval, down_time = dep.intervals[:2]
    dep.add_compute("f9", {"vcpus": 64, "memory_mb": 262144, "local_gb": 4000})
    mine = [dep.post("/servers", {"server": {"name": f"on-f9-{i}", "imageRef": image,
                                             "flavorRef": "1",
                                             "availability_zone": "nova:f9"}}
                     ).json()["server"]["id"] for i in range(2)]
    dep.wait_for_servers(mine, statuses=("ACTIVE",))
    proc = dep.procs["compute-f9"]
    os.killpg(proc.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        while _service(dep, "f9")["state"] != "down":
            assert time.monotonic() - stopped < down_time + report_interval + 10
            time.sleep(0.5)
        seen_down = time.monotonic() - stopped
        others = Burst(dep, image, 6, "while-f9-stopped").wait()
        assert others.codes == [202] * 6, others.codes
        placed = settle(dep, others.ids, timeout=60)
        hosts = {s["OS-EXT-SRV-ATTR:host"] for s in placed.values()}
        assert "f9" not in hosts and all(s["status"] == "ACTIVE" for s in placed.values())
        for sid in mine:
            s = dep.get(f"/servers/{sid}").json()["server"]
            assert (s["status"], s["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", "f9")
    finally:
        os.killpg(proc.pid, signal.SIGCONT)
    resumed = time.monotonic()
    while _service(dep, "f9")["state"] != "up":
        assert time.monotonic() - resumed < report_interval + 15
        time.sleep(0.5)
    report("compute process stopped (SIGSTOP)", service_down_time_s=down_time,
           shown_down_after_s=round(seen_down, 1),
           up_again_after_resume_s=round(time.monotonic() - resumed, 1),
           placed_elsewhere=len(placed), its_servers_kept=len(mine))
    cleanup(dep, mine + others.ids)


# -- graceful stop and reload -----------------------------------------------------------

def test_sigterm_drains_in_flight_requests_and_rpc_calls(dep, relays):
    """A request in flight (its conductor call waiting on a held database) when both
    nova-lite-api and nova-lite-conductor get SIGTERM: the API stops accepting at once,
    the request completes with its normal answer, then both exit 0."""
    api, conductor = dep.procs["api"], dep.procs["conductor"]
    pool = concurrent.futures.ThreadPoolExecutor(1)
    relays["mysql"].hold()
    try:
        slow = pool.submit(dep.get, "/servers/detail?all_tenants=1")
        time.sleep(1.0)  # the call reaches the conductor, whose query waits on the relay
        assert not slow.done()
        for proc in (api, conductor):
            os.killpg(proc.pid, signal.SIGTERM)
        time.sleep(1.0)
        assert api.poll() is None and conductor.poll() is None  # both draining
        with pytest.raises(requests.ConnectionError):
            requests.get(dep.url + "/v2.1", timeout=5)  # new connections refused
    finally:
        relays["mysql"].release()
    released = time.monotonic()
    r = slow.result(timeout=30)
    pool.shutdown()
    assert r.status_code == 200 and "servers" in r.json(), r.text
    assert api.wait(timeout=30) == 0, dep.logs("api")[-2000:]
    assert conductor.wait(timeout=30) == 0, dep.logs("conductor")[-2000:]
    report("SIGTERM to the API and the conductor with a request in flight",
           answered=r.status_code, both_exited_after_release_s=round(
               time.monotonic() - released, 1))
    dep.procs.pop("api")
    dep.procs.pop("conductor")
    dep.start_proc("conductor", "nova-lite-conductor", dep.db_conf)
    dep.start_proc("api", "nova-lite-api")
    dep.wait_for_api()
    wait_ok(dep, "/servers/detail", timeout=60)


def test_sighup_rereads_mutable_options(dep):
    """[DEFAULT] debug switched on in the file and SIGHUP: the running API and conductor
    log DEBUG lines from then on; switched off and SIGHUP again: they stop."""
    with open(dep.common_conf) as f:
        original = f.read()

    def log(name: str, since: int = 0) -> str:
        with open(os.path.join(dep.workdir, f"{name}.log"), "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")

    def size(name: str) -> int:
        return os.path.getsize(os.path.join(dep.workdir, f"{name}.log"))

    def reload(text: str) -> dict[str, int]:
        with open(dep.common_conf, "w") as f:
            f.write(text)
        marks = {}
        for name in ("api", "conductor"):
            marks[name] = size(name)
            os.kill(dep.procs[name].pid, signal.SIGHUP)
        deadline = time.monotonic() + 15
        for name, mark in marks.items():
            while "mutable options applied" not in log(name, mark):
                assert time.monotonic() < deadline, log(name, mark)[-2000:]
                time.sleep(0.2)
        return {name: size(name) for name in marks}

    try:
        marks = reload(original + "\n[DEFAULT]\ndebug = true\n")
        assert dep.get("/servers/detail").status_code == 200
        for name, mark in marks.items():
            assert " DEBUG " in log(name, mark), name
    finally:
        marks = reload(original)
    assert dep.get("/servers/detail").status_code == 200
    for name, mark in marks.items():
        assert " DEBUG " not in log(name, mark), name
        assert dep.procs[name].poll() is None


def test_sigterm_lets_a_compute_finish_its_builds(dep, image):
    """SIGTERM to a compute host with guests still spawning: it takes no new work, finishes
    the builds it holds (servers ACTIVE, not left in BUILD for the next start), then exits 0.
    A host of its own, spawning slowly, removed afterwards (os-services DELETE)."""
    dep.add_compute("drain", {"vcpus": 8, "memory_mb": 16384, "local_gb": 100,
                              "spawn_delay": 4.0})
    ids = []
    for i in range(3):
        r = dep.post("/servers", {"server": {"name": f"drain-{i}", "imageRef": image,
                                             "flavorRef": "1",
                                             "availability_zone": "nova:drain"}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["server"]["id"])
    deadline = time.monotonic() + 30
    while True:  # every build is on the host, spawning
        tasks = [dep.get(f"/servers/{sid}").json()["server"]["OS-EXT-STS:task_state"]
                 for sid in ids]
        if all(t == "spawning" for t in tasks):
            break
        assert time.monotonic() < deadline, tasks
        time.sleep(0.2)
    proc = dep.procs["compute-drain"]
    os.killpg(proc.pid, signal.SIGTERM)
    signalled = time.monotonic()
    time.sleep(1.0)
    assert proc.poll() is None  # draining
    assert proc.wait(timeout=60) == 0, dep.logs("compute-drain")[-2000:]
    exited = time.monotonic() - signalled
    servers = settle(dep, ids, timeout=30, ends=("ACTIVE",))
    assert {s["OS-EXT-SRV-ATTR:host"] for s in servers.values()} == {"drain"}
    report("SIGTERM to a compute with 3 guests spawning (4 s each)",
           exited_after_s=round(exited, 1), active=len(servers), left_in_build=0)
    dep.procs.pop("compute-drain")
    # The host is gone for good: forced down (its servers are deleted locally), then its
    # service record goes too, so no later test is offered it.
    v253 = {"OpenStack-API-Version": "compute 2.53"}
    r = dep.get("/os-services?host=drain&binary=nova-compute", headers=v253)
    service = r.json()["services"][0]
    r = dep.request("PUT", f"/os-services/{service['id']}", body={"forced_down": True},
                    headers=v253)
    assert r.status_code == 200, r.text
    for sid in ids:
        assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone(ids, timeout=60)
    r = dep.request("DELETE", f"/os-services/{service['id']}", headers=v253)
    assert r.status_code == 204, r.text
    accounting.assert_consistent(dep, expect_servers=0, timeout=60)
