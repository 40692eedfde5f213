"""Where the time of one POST /servers -> ACTIVE goes (tools/bench --breakdown).

Boots one server at a time and reads back what the deployment's daemons logged for it:
every log line carries the client's X-OpenStack-Request-ID as the global request id,
oslo.messaging's debug lines give each RPC's send, receipt and reply (linked by msg_id
where the receiving thread has no context yet), and the conductor logs each database
transaction with its duration. Times are the daemons' own clocks (one machine), in ms
from the moment the client sent its POST.
"""

from __future__ import annotations

import collections
import os
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

LEVELS = ("amqp=WARN,boto=WARN,sqlalchemy=WARN,oslo.messaging=INFO,oslo_messaging=INFO,"
          "iso8601=WARN,urllib3.connectionpool=WARN,keystonemiddleware=WARN,"
          "routes.middleware=WARN,stevedore=WARN,keystoneauth=WARN,oslo_policy=INFO,"
          "oslo_messaging._drivers.amqpdriver=DEBUG,nova_lite.rpc=DEBUG,"
          "nova_lite.db.engine=DEBUG,nova_lite.api.app=DEBUG,nova_lite.conductor.tasks=DEBUG,"
          "nova_lite.compute.manager=DEBUG")
# Only the loggers above at debug (not ``debug = True``): fewer lines, less overhead.
# Epoch seconds to the microsecond, process, thread, then the request ids.
HEAD = "%(created).6f %(process)d %(thread)d %(name)s"
LOG_CONF = f"""[DEFAULT]
default_log_levels = {LEVELS}
logging_context_format_string = {HEAD} [%(global_request_id)s %(request_id)s] %(message)s
logging_default_format_string = {HEAD} [- -] %(message)s
logging_debug_format_suffix =
"""

LINE = re.compile(r"^(\d+\.\d+) (\d+) (\d+) (\S+) \[(\S*) (\S*)\] (.*)$")
CALLING = re.compile(r"Calling RPC method (\w+) on target")
SENT = re.compile(r"(CALL msg_id|CAST unique_id): (\w+) ")
RECEIVED = re.compile(r"received message (?:msg_id|with unique_id): (\w+)")
REPLYING = re.compile(r"sending reply msg_id: (\w+) ")
REPLIED = re.compile(r"received reply msg_id: (\w+)")
TXN = re.compile(r"(commit|read) on (\S+) in ([\d.]+) ms")
# The build's own chain ends in ACTIVE: the API's reply to build_requests_create (the
# 202) runs beside it, and of the casts only the build leads there.
OFF_CHAIN_REPLIES = {"build_requests_create"}
CHAIN_CASTS = {"build_and_run_instance"}


@dataclass
class Ev:
    t: float
    svc: str
    pid: int
    thread: int
    gid: str
    rid: str
    msg: str


@dataclass
class Rpc:
    method: str
    caller: str
    kind: str  # call or cast
    rid: str
    gid: str
    sent: float
    recv: Optional[Ev] = None
    serving: Optional[Ev] = None
    replying: Optional[Ev] = None
    replied: Optional[Ev] = None


@dataclass
class Boot:
    gid: str
    rid: str = ""
    t0: float = 0.0
    answered: float = 0.0
    polls: list = field(default_factory=list)  # (sent, answered, status)


def boot_one(c: Any, image: str, flavor: str, poll: float) -> Boot:
    """POST one server with its own global request id and poll it until it settles."""
    b = Boot(gid=f"req-{uuid.uuid4()}")
    headers = dict(c.headers, **{"X-OpenStack-Request-ID": b.gid})
    b.t0 = time.time()
    r = c.s.post(c.base + "/servers", headers=headers, timeout=60, json={
        "server": {"name": "breakdown", "imageRef": image, "flavorRef": flavor}})
    b.answered = time.time()
    r.raise_for_status()
    b.rid = r.headers["x-openstack-request-id"]
    sid = r.json()["server"]["id"]
    while True:
        sent = time.time()
        g = c.s.get(f"{c.base}/servers/{sid}", headers=headers, timeout=60)
        g.raise_for_status()
        status = g.json()["server"]["status"]
        b.polls.append((sent, time.time(), status))
        if status in ("ACTIVE", "ERROR"):
            break
        time.sleep(poll)
    c.delete_and_wait(sid, poll)
    return b


def read_logs(workdir: str) -> list[Ev]:
    events = []
    for name in sorted(os.listdir(workdir)):
        if not name.endswith(".log"):
            continue
        svc = name[:-4].split("-")[0]
        with open(os.path.join(workdir, name), errors="replace") as f:
            for line in f:
                m = LINE.match(line)
                if m:
                    events.append(Ev(float(m[1]), svc, int(m[2]), int(m[3]), m[5], m[6],
                                     m[7].rstrip()))
    return events


def trace_rpcs(events: list[Ev], gids: set[str]) -> list[Rpc]:
    """Every RPC sent under one of ``gids``, with its other end found by message id."""
    by_id: dict[str, dict[str, Ev]] = collections.defaultdict(dict)
    serving: dict[tuple, list[Ev]] = collections.defaultdict(list)
    for ev in events:
        for key, rx in (("recv", RECEIVED), ("replying", REPLYING), ("replied", REPLIED)):
            m = rx.search(ev.msg)
            if m:
                by_id[m[1]].setdefault(key, ev)
        if ev.gid in gids and ev.msg.startswith("serving "):
            serving[(ev.pid, ev.rid, ev.msg[8:])].append(ev)
    rpcs, calling = [], {}
    for ev in events:
        if ev.gid not in gids:
            continue
        where = (ev.svc, ev.pid, ev.thread)
        m = CALLING.search(ev.msg)
        if m:
            calling[where] = m[1]
            continue
        m = SENT.search(ev.msg)
        if m and where in calling:
            ends = by_id.get(m[2], {})
            rpc = Rpc(calling.pop(where), ev.svc, "call" if m[1].startswith("CALL") else
                      "cast", ev.rid, ev.gid, ev.t, ends.get("recv"),
                      replying=ends.get("replying"), replied=ends.get("replied"))
            if rpc.recv is not None:
                waiting = serving[(rpc.recv.pid, rpc.rid, rpc.method)]
                rpc.serving = next((s for s in waiting if s.t >= rpc.recv.t), None)
                if rpc.serving is not None:
                    waiting.remove(rpc.serving)
            rpcs.append(rpc)
    return rpcs


def chain(b: Boot, evs: list[Ev], rpcs: list[Rpc]) -> tuple[list, dict, list]:
    """The build's moments in time order, (ms, who, what, kind); the named milestones;
    the database transactions on its path ((start, end, kind, database))."""
    mine = [e for e in evs if e.rid == b.rid]
    txns = []
    for e in mine:
        m = TXN.match(e.msg)
        if m:
            txns.append((e.t - float(m[3]) / 1000, e.t, m[1], m[2]))
    out = [(b.t0, "client", "POST /servers sent", "start")]

    def first(svc: str, text: str) -> Optional[Ev]:
        return next((e for e in mine if e.svc == svc and text in e.msg), None)

    for svc, text, label in (("api", "calling nova_lite.api.handlers.servers.create",
                              "API handler starts"),
                             ("conductor", "'] starts", "build thread starts"),
                             ("compute", "driver spawn done", "driver spawn done")):
        e = first(svc, text)
        if e:
            out.append((e.t, svc, label, "work"))
    counts: collections.Counter = collections.Counter()
    for r in (r for r in rpcs if r.rid == b.rid):
        if r.kind == "cast" and r.method not in CHAIN_CASTS:
            continue
        counts[r.method] += 1
        name = r.method + (f" #{counts[r.method]}" if counts[r.method] > 1 else "")
        out.append((r.sent, r.caller, f"sends {name}", "work"))
        if r.recv is None:
            continue
        out.append((r.recv.t, r.recv.svc, f"receives {name}", "transit"))
        if r.serving:
            out.append((r.serving.t, r.recv.svc, f"starts {name}", "dispatch"))
        if r.kind == "call" and r.method not in OFF_CHAIN_REPLIES and r.replying:
            out.append((r.replying.t, r.recv.svc, f"replies {name}", "work"))
            if r.replied:
                out.append((r.replied.t, r.caller, f"has the {name} reply", "transit"))
    saves = [r for r in rpcs if r.rid == b.rid and r.method == "instance_update"]
    saved = None
    if saves and saves[-1].serving and saves[-1].replying:
        s = saves[-1]
        commits = [t for t in txns if t[2] == "commit" and s.serving.t <= t[1]
                   <= s.replying.t]
        saved = commits[-1][1] if commits else s.replying.t
        out.append((saved, "conductor", "instance saved ACTIVE (committed)", "work"))
    seen = b.polls[-1][1]
    out.append((seen, "client", "client saw ACTIVE", "poll"))
    out.sort(key=lambda m: m[0])
    ms = [((t - b.t0) * 1000, who, what, kind) for t, who, what, kind in out]
    api_202 = first("api", "POST /v2.1/servers status: 202")
    named = {
        "POST answered (202 at the client)": b.answered,
        "POST answered (API logged 202)": api_202.t if api_202 else None,
        "conductor received the build": _at(ms, "starts build_requests_create", b.t0),
        "scheduler received select_destinations": _at(ms, "starts select_destinations",
                                                      b.t0),
        "claim done (scheduler has it)": _at(ms, "has the claim_resources reply", b.t0),
        "compute received build": _at(ms, "starts build_and_run_instance", b.t0),
        "driver spawn done": _at(ms, "driver spawn done", b.t0),
        "instance saved ACTIVE": saved,
        "client saw ACTIVE": seen,
    }
    named = {k: (v - b.t0) * 1000 for k, v in named.items() if v is not None}
    return ms, named, txns


def _at(ms: list, what: str, t0: float) -> Optional[float]:
    hit = next((m for m in ms if m[2] == what), None)
    return t0 + hit[0] / 1000 if hit else None


def segments(ms: list, txns: list, t0: float) -> dict[str, float]:
    """The path up to the ACTIVE commit, each interval between two moments by what
    fills it, then the polling until the client saw it (ms)."""
    out: collections.Counter = collections.Counter()
    end = next((i for i, m in enumerate(ms) if m[2].startswith("instance saved")), None)
    seen = next(m[0] for m in ms if m[2] == "client saw ACTIVE")
    if end is None:
        return out
    for (a, _w, _x, _k), (z, who, what, kind) in zip(ms[:end], ms[1:end + 1]):
        if what == "API handler starts":
            out["HTTP to the API"] += z - a
        elif kind in ("transit", "dispatch"):
            out[f"RPC {kind}"] += z - a
        else:
            db = _covered(a, z, [((s - t0) * 1000, (e - t0) * 1000) for s, e, _k, _d in
                                 txns]) if who == "conductor" else 0.0
            out[f"{who} work"] += z - a - db
            if db:
                out["conductor database transactions"] += db
    out["polling (ACTIVE saved -> client saw it)"] = seen - ms[end][0]
    return out


def _covered(a: float, z: float, spans: list[tuple[float, float]]) -> float:
    """How much of [a, z] the spans cover (a transaction may run inside another)."""
    total, reach = 0.0, a
    for s, e in sorted(spans):
        s, e = max(s, reach), min(e, z)
        if e > s:
            total += e - s
            reach = e
    return total


def med(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f}" if values else "      -"


def settle(limit: float = 1.0, wait: float = 90) -> None:
    """Let the deployment's start-up pass: up to ``wait`` s until the 1-minute load
    is below ``limit`` (a busy machine lengthens every step)."""
    deadline = time.monotonic() + wait
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(5)


def run(c: Any, dep: Any, image: str, flavor: str, repeat: int, poll: float) -> None:
    settle()
    before = os.getloadavg()[0]
    for _ in range(2):  # warm-up: connections, caches, the image on a host
        boot_one(c, image, flavor, poll)
    boots = [boot_one(c, image, flavor, poll) for _ in range(repeat)]
    time.sleep(1)  # the last lines reach the logs
    events = read_logs(dep.workdir)
    gids = {b.gid for b in boots}
    by_gid: dict[str, list[Ev]] = collections.defaultdict(list)
    for e in events:
        if e.gid in gids:
            by_gid[e.gid].append(e)
    rpcs = trace_rpcs(events, gids)
    rpcs_of: dict[str, list[Rpc]] = collections.defaultdict(list)
    for r in rpcs:
        rpcs_of[r.gid].append(r)
    named, moments, segs = collections.defaultdict(list), collections.defaultdict(list), \
        collections.defaultdict(list)
    counts: dict[str, list[int]] = collections.defaultdict(list)
    polls, saw = [], []
    for b in boots:
        ms, nm, txns = chain(b, by_gid[b.gid], rpcs_of[b.gid])
        for k, v in nm.items():
            named[k].append(v)
        for t, who, what, _kind in ms:
            moments[(who, what)].append(t)
        for k, v in segments(ms, txns, b.t0).items():
            segs[k].append(v)
        mine = [r for r in rpcs_of[b.gid] if r.rid == b.rid]
        tally = collections.Counter(f"{r.kind} {r.method} ({r.caller} -> "
                                 f"{r.recv.svc if r.recv else '?'})" for r in mine)
        served = sum(1 for e in by_gid[b.gid] if e.rid == b.rid
                     and e.msg.startswith("serving "))
        tally["RPCs served (all, incl. untraced callers)"] = served
        for k, d in ((t[2], t[3]) for t in txns):
            kind = "transactions" if k == "commit" else "read-only transactions"
            tally[f"database {kind} on {d.replace(dep.db_prefix, 'nova')}"] += 1
        tally["poll GETs"] = len(b.polls)
        tally["poll RPCs (server_get etc.)"] = sum(1 for r in rpcs_of[b.gid] if r.rid != b.rid)
        tally["database transactions of the polls"] = sum(
            1 for e in by_gid[b.gid] if e.rid != b.rid and TXN.match(e.msg))
        tally["log lines with the request id"] = len(by_gid[b.gid])
        for k, v in tally.items():
            counts[k].append(v)
        polls.extend((z - a) * 1000 for a, z, _s in b.polls)
        saw.append((b.polls[-1][1] - b.t0) * 1000)

    print(f"# breakdown of one POST /servers -> ACTIVE: {len(boots)} boots, one at a "
          f"time, polled every {poll * 1000:.0f} ms (medians, ms from the client's POST; "
          f"1-minute load {before:.2f} before, {os.getloadavg()[0]:.2f} after)")
    print("\n## milestones")
    for k, v in named.items():
        print(f"{med(v)}  {k}" + ("" if len(v) == len(boots) else f"  (in {len(v)})"))
    print("\n## the build's path, moment by moment")
    for (who, what), v in sorted(moments.items(), key=lambda kv: statistics.median(kv[1])):
        print(f"{med(v)}  {who:<9} {what}" + ("" if len(v) == len(boots)
                                             else f"  (in {len(v)} of {len(boots)})"))
    print("\n## where the time goes (sum per boot along the path, medians)")
    for k, v in sorted(segs.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"{med(v)}  {k}")
    print(f"{med(saw)}  total POST -> client saw ACTIVE")
    print(f"{med(polls)}  one poll GET, client round trip (n={len(polls)})")
    print("\n## per boot (median count)")
    for k, v in sorted(counts.items()):
        v = v + [0] * (len(boots) - len(v))
        print(f"{statistics.median(v):7g}  {k}")
