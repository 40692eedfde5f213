"""Scale figures for tools/bench --nodes (not a test: run it on purpose).

Boot as max_count batches onto many fake nodes, then (once the 1-minute load is below
1.5, at most 5 min) time the lists Nova's operators run at that size: the first page of
a detailed list, the whole list by markers, a name-filtered list, the hypervisors'
details, and the control plane's memory.
"""

from __future__ import annotations

import concurrent.futures
import os
import statistics
import time
from typing import Any, Callable

import bench_breakdown  # beside this script

LOAD = "load {:.2f}"


def load() -> str:
    return LOAD.format(os.getloadavg()[0])


def timed(fn: Callable[[], Any], runs: int = 5) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls, and the last call's result."""
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def get_json(c: Any, path: str) -> dict:
    r = c.s.get(c.base + path, headers=c.headers, timeout=300)
    r.raise_for_status()
    return r.json()


def post_batch(c: Any, name: str, image: str, flavor: str, count: int) -> str:
    """One POST /servers of ``count`` servers; its reservation id."""
    r = c.s.post(c.base + "/servers", headers=c.headers, timeout=120, json={"server": {
        "name": name, "imageRef": image, "flavorRef": flavor, "min_count": count,
        "max_count": count, "return_reservation_id": True}})
    r.raise_for_status()
    return r.json()["reservation_id"]


def wait_reservations(c: Any, rids: list[str], count: int, poll: float = 1.0) -> int:
    """Wait until every server of the reservations is ACTIVE or ERROR; how many ERROR."""
    pending = set(rids)
    errors = 0
    while pending:
        time.sleep(poll)
        for rid in list(pending):
            servers = get_json(c, f"/servers/detail?reservation_id={rid}&limit=1000"
                               )["servers"]
            states = [s["status"] for s in servers]
            if len(states) == count and all(st in ("ACTIVE", "ERROR") for st in states):
                errors += states.count("ERROR")
                pending.discard(rid)
    return errors


def boot_batches(c: Any, prefix: str, image: str, flavor: str, batches: int, count: int,
                 in_flight: int) -> tuple[float, int]:
    """Boot ``batches`` requests of max_count=``count``, ``in_flight`` at a time, each
    waited for until its servers are ACTIVE; (servers/s, servers in ERROR)."""
    t0 = time.perf_counter()

    def one(i: int) -> int:
        rid = post_batch(c, f"{prefix}{i}", image, flavor, count)
        return wait_reservations(c, [rid], count)

    with concurrent.futures.ThreadPoolExecutor(in_flight) as pool:
        errors = sum(pool.map(one, range(batches)))
    return batches * count / (time.perf_counter() - t0), errors


def whole_list(c: Any, page: int) -> int:
    """Every server by markers, ``page`` a page; how many."""
    n, marker = 0, None
    while True:
        q = f"/servers/detail?limit={page}" + (f"&marker={marker}" if marker else "")
        servers = get_json(c, q)["servers"]
        n += len(servers)
        if len(servers) < page:
            return n
        marker = servers[-1]["id"]


def run(c: Any, image: str, flavor: str, nodes: int, servers: int, batch: int,
        rss: Callable[[], str]) -> None:
    print(f"# {nodes} fake nodes; {load()}")
    t, hyp = timed(lambda: get_json(c, "/os-hypervisors/detail"))
    print(f"GET /os-hypervisors/detail ({len(hyp['hypervisors'])} nodes), median   : "
          f"{t * 1000:.0f} ms ({load()})")

    first = min(1000, servers)
    rate, errors = boot_batches(c, "b1k-", image, flavor, first // batch, batch,
                                first // batch)
    print(f"boot {first} as {first // batch} x max_count={batch} at once       : "
          f"{rate:.1f} servers/s ({errors} ERROR; {load()})")
    left = servers - first
    if left > 0:
        t0 = time.perf_counter()
        rate, errors = boot_batches(c, "seed-", image, flavor, left // batch, batch, 4)
        print(f"seeding {left} more through the API (4 x max_count={batch} in flight): "
              f"{rate:.1f} servers/s, {time.perf_counter() - t0:.0f} s ({errors} ERROR; "
              f"{load()})")
    print(f"# {whole_list(c, 1000)} servers; {load()}")
    bench_breakdown.settle(1.5, 300)  # the seeding's load passes before lists are timed
    t, page = timed(lambda: get_json(c, "/servers/detail?limit=1000"))
    print(f"GET /servers/detail?limit=1000 (first page), median : {t * 1000:.0f} ms "
          f"({len(page['servers'])} servers; goal < 200 ms; {load()})")
    t, n = timed(lambda: whole_list(c, 1000), runs=3)
    print(f"whole detailed list by markers (pages of 1000)     : {t:.2f} s ({n} servers; "
          f"goal < 2 s; {load()})")
    name = "^seed-7-42$" if left > 0 else "^b1k-7-42$"
    t, hit = timed(lambda: get_json(c, f"/servers?name={name}"))
    print(f"GET /servers?name={name}, median             : {t * 1000:.0f} ms "
          f"({len(hit['servers'])} match; {load()})")
    t, hit = timed(lambda: get_json(c, "/servers/detail?name=seed-7-4"))
    print(f"GET /servers/detail?name=seed-7-4 (substring), median: {t * 1000:.0f} ms "
          f"({len(hit['servers'])} match; {load()})")
    t, hyp = timed(lambda: get_json(c, "/os-hypervisors/detail"))
    print(f"GET /os-hypervisors/detail ({len(hyp['hypervisors'])} nodes), median   : "
          f"{t * 1000:.0f} ms ({load()})")
    print(f"resident memory, whole control plane                : {rss()}")
