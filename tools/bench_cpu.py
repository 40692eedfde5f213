"""CPU time each part of a deployment spends on a stretch of work (tools/bench).

On a machine with few cores, a rate such as boots per second is bounded by the CPU the
whole path burns per boot, in every process: the API, the conductor's workers, the
scheduler, the computes, RabbitMQ, MariaDB and the client itself. Read from /proc
(user + system time of each process and of the workers it forked) before and after.
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
# Processes outside the deployment whose work is part of every request.
SERVERS = {"rabbitmq": "beam.smp", "mariadb": "mariadbd"}


def speed_probe() -> str:
    """The seconds one core takes for a fixed pure-Python loop (10 million additions):
    a shared virtual machine's speed changes by up to 2x within an hour, so figures
    taken at different times or on different machines compare only beside it."""
    started = time.perf_counter()
    n = 0
    for _ in range(10_000_000):
        n += 1
    return f"speed probe {time.perf_counter() - started:.2f} s"


def with_children(pids: list[int]) -> list[int]:
    """The processes and, recursively, those they forked (a service's workers)."""
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def _cpu(pid: int) -> float:
    """User + system seconds of one process (all its threads); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _by_name(comm: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == comm:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def _group(name: str) -> str:
    """compute-bench3 -> computes; api, conductor and scheduler stay as they are."""
    return "computes" if name.startswith("compute") else name


def sample(dep: Any) -> dict[str, float]:
    """CPU seconds so far per part (the deployment's daemons, the servers, this client)."""
    out: dict[str, float] = {}
    for name, proc in dep.procs.items():
        group = _group(name)
        out[group] = out.get(group, 0.0) + sum(_cpu(p) for p in with_children([proc.pid]))
    for group, comm in SERVERS.items():
        out[group] = sum(_cpu(p) for p in _by_name(comm))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["client"] = usage.ru_utime + usage.ru_stime
    return out


def per_item(before: dict[str, float], after: dict[str, float], items: int) -> str:
    """'api 12.3, conductor 20.1, ... = total' in CPU ms per item, biggest first."""
    spent = {k: (after.get(k, 0.0) - before.get(k, 0.0)) * 1000 / items for k in after}
    parts = sorted(spent.items(), key=lambda kv: -kv[1])
    return (", ".join(f"{k} {v:.1f}" for k, v in parts)
            + f" = {sum(spent.values()):.1f} ms")
