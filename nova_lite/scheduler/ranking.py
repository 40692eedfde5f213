"""The hosts of one batch request, filtered and weighed once and kept ranked.

Placing the instances of a batch one after the other changes only the chosen host's
free capacity, so its fit and raw weights are the only ones to look at again. The total
weight of every other host stays what a full pass would give unless a weigher's
normalisation bounds (the lowest and highest raw value among the candidates) moved:
then every total is computed again, with the very arithmetic of ``view_totals`` so the
ranking (ties included) is the full pass's. A request whose filters or weighers read the
instances already placed (a server group) is not ranked here: it takes the full pass.
"""

from __future__ import annotations

import bisect
import heapq
import random
from typing import Any, Optional

from nova_lite.scheduler import weights
from nova_lite.scheduler.host_state import HostState, HostView
from nova_lite.scheduler.request import HostRequest


def applies(request: HostRequest, dynamic_filters: list, weigher_names: list[str],
            conf: Any) -> bool:
    """Whether a batch of this request may be ranked incrementally: no filter but the
    resource fit changes with placements, nor any weigher but the resource ones."""
    if request.group is not None:
        return False
    if any(f.name != "ResourceFilter" for f in dynamic_filters if f.applies(request)):
        return False
    for name in weigher_names:
        cls = weights.ALL_WEIGHERS[name]
        if (getattr(conf.filter_scheduler, cls.multiplier_opt)
                and not issubclass(cls, (weights.ResourceWeigher,
                                         weights.ServerGroupSoftAffinityWeigher))):
            return False  # a weigher this module does not know to be placement-blind
    return True


class BatchRanking:
    """The candidates of one request on one host view: parallel lists in name order of
    the view's host index, each resource weigher's raw value and the total weight."""

    def __init__(self, view: HostView, passed: list[int], totals: list[float],
                 resources: dict, weigher_names: list[str], conf: Any) -> None:
        """``passed`` and ``totals``: the full pass's candidates and their weights."""
        self.view = view
        self.passed = list(passed)
        self.totals = list(totals)
        self.resources = {rc: a for rc, a in resources.items() if a > 0}
        # (multiplier, resource class, raw values, (lo, hi)) of each resource weigher in
        # configuration order; the server-group weighers weigh 0 without a group.
        self.terms: list[tuple[float, str, list[float], tuple[float, float]]] = []
        for name in weigher_names:
            cls = weights.ALL_WEIGHERS[name]
            mult = getattr(conf.filter_scheduler, cls.multiplier_opt)
            if not mult or not issubclass(cls, weights.ResourceWeigher):
                continue
            free = view.free.get(cls.resource_class)
            raw = free[passed].tolist() if free is not None else [0.0] * len(passed)
            self.terms.append((mult, cls.resource_class, raw, _bounds(raw)))
        self._last: Optional[int] = None
        self._rebuild_heap()

    def _rebuild_heap(self) -> None:
        """The best candidate on top: (-total, view index) orders ties by name, as the
        full pass's stable sort. Entries are superseded, not removed (their version)."""
        self._version = dict.fromkeys(self.passed, 0)
        self._heap = [(-t, i, 0) for t, i in zip(self.totals, self.passed)]
        heapq.heapify(self._heap)

    def choose(self, subset: int) -> Optional[HostState]:
        """The host the full pass would choose (the best ``subset`` in random order, the
        first of them), or None when no candidate is left."""
        if not self.passed:
            return None
        if subset == 1:
            heap = self._heap
            while self._version.get(heap[0][1]) != heap[0][2]:
                heapq.heappop(heap)
            j = bisect.bisect_left(self.passed, heap[0][1])
        else:
            totals = self.totals
            picks = heapq.nlargest(subset, range(len(totals)), key=totals.__getitem__)
            random.shuffle(picks)
            j = picks[0]
        self._last = j
        return self.view.hosts[self.passed[j]]

    def taken(self) -> None:
        """The host last chosen had the request's resources consumed in the view: check
        its fit again and weigh it again (everyone, if a normalisation bound moved)."""
        j = self._last
        assert j is not None
        self._last = None
        i = self.passed[j]
        free = self.view.free
        fits = all(free[rc][i] >= amount for rc, amount in self.resources.items())
        moved = False
        for k, (mult, rc, raw, (lo, hi)) in enumerate(self.terms):
            old = raw[j]
            if fits:
                column = free.get(rc)
                new = raw[j] = float(column[i]) if column is not None else 0.0
                bounds = (min(lo, new), max(hi, new)) if lo < old < hi else None
            else:
                del raw[j]
                bounds = (lo, hi) if lo < old < hi else None
            if bounds is None:
                bounds = _bounds(raw)  # the value left held a bound: scan for the new one
            if bounds != (lo, hi):
                self.terms[k] = (mult, rc, raw, bounds)
                moved = True
        if not fits:
            del self.passed[j], self.totals[j]
            self._version[i] = -1
        if moved:
            self.totals = self._all_totals()
            self._rebuild_heap()
        elif fits:
            t = self.totals[j] = self._total(j)
            version = self._version[i] = self._version[i] + 1
            heapq.heappush(self._heap, (-t, i, version))

    def _all_totals(self) -> list[float]:
        """view_totals's weights of every candidate (same operations, same order)."""
        totals = [0.0] * len(self.passed)
        for mult, _rc, raw, (lo, hi) in self.terms:
            if hi == lo:
                continue  # every weight 0: adding mult * 0.0 changes no total
            totals = [t + mult * ((r - lo) / (hi - lo)) for t, r in zip(totals, raw)]
        return totals

    def _total(self, j: int) -> float:
        t = 0.0
        for mult, _rc, raw, (lo, hi) in self.terms:
            if hi != lo:
                t = t + mult * ((raw[j] - lo) / (hi - lo))
        return t


def _bounds(raw: list[float]) -> tuple[float, float]:
    return (min(raw), max(raw)) if raw else (0.0, 0.0)
