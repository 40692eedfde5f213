"""The view's array scans give what the per-host Python reads give, to the last bit: the
same hosts fit, the same total weights (so the same ties), after claims and undos."""

from __future__ import annotations

import random

import pytest

from nova_lite.conf import CONF
from nova_lite.scheduler import weights
from nova_lite.scheduler.host_state import HostView
from nova_lite.scheduler.request import HostRequest


def _random_view(rng: random.Random) -> HostView:
    providers = {}
    for n in range(rng.randint(1, 60)):
        resources = {}
        for rc in ("VCPU", "MEMORY_MB", "DISK_GB"):
            if rc == "DISK_GB" and rng.random() < 0.2:
                continue  # a node without local disk
            total = rng.choice((4, 8, 16, 64, 4096, 262144))
            resources[rc] = {"total": total, "reserved": rng.choice((0, 0, 1)),
                             "allocation_ratio": rng.choice((1.0, 1.5, 16.0)),
                             "used": rng.randint(0, total)}
        providers[f"u{n}"] = {"uuid": f"u{n}", "name": f"n{n:02d}", "host": f"n{n:02d}",
                              "generation": 1, "traits": [], "resources": resources}
    return HostView(providers, {})


def _python_totals(view: HostView, indices: list[int], request: HostRequest) -> list[float]:
    """weigh_hosts's totals, each weigher reading host.free() one host at a time."""
    hosts = [view.hosts[i] for i in indices]
    by_host = {id(h): t for t, h in weights.weigh_hosts(
        hosts, list(weights.ALL_WEIGHERS), CONF, request)}
    return [by_host[id(h)] for h in hosts]


@pytest.mark.parametrize("seed", range(40))
def test_arrays_fit_and_weigh_as_the_hosts_do(seed, set_conf) -> None:
    rng = random.Random(seed)
    view = _random_view(rng)
    set_conf("ram_weight_multiplier", rng.choice((1.0, 0.0, -1.0, 2.5)), "filter_scheduler")
    set_conf("cpu_weight_multiplier", rng.choice((1.0, 0.0, -0.5, 3.0)), "filter_scheduler")
    request = HostRequest(resources={"VCPU": rng.choice((0, 1, 4)),
                                     "MEMORY_MB": rng.choice((0, 512, 8192)),
                                     "DISK_GB": rng.choice((0, 10))})
    for _round in range(5):
        every = list(range(len(view)))
        fit = view.fitting(every, request.resources)
        assert fit == [h.index for h in view.hosts
                       if all(h.free(rc) >= a for rc, a in request.resources.items()
                              if a > 0)]
        if fit:
            got = weights.view_totals(view, fit, list(weights.ALL_WEIGHERS), CONF, request)
            assert got == _python_totals(view, fit, request)
            assert all(type(t) is float for t in got)
        # A claim or an undo changes that host's free capacity, and only its.
        host = rng.choice(view.hosts)
        claim = {"VCPU": rng.randint(1, 3), "MEMORY_MB": rng.randint(1, 3000)}
        sign = rng.choice((1, -1))
        before = {rc: free.tolist() for rc, free in view.free.items()}
        host.consume(claim, sign=sign)
        for rc, free in view.free.items():
            expected = list(before[rc])
            if rc in claim and host.capacity(rc):
                expected[host.index] -= sign * claim[rc]
            assert free.tolist() == expected
            assert host.free(rc) == expected[host.index]
