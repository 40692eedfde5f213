"""The scheduler's RPC endpoint: choose a host, claim its resources, or explain why not.

Selection and claim run under one in-process lock so that concurrent requests see each
other's claims and spread out; the claim itself is atomic in the database, so several
scheduler processes stay correct too (a lost race moves on to the next host).
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
import time
from typing import Any, Iterator, Optional

from nova_lite import exception
from nova_lite.conductor import rpcapi as conductor_rpcapi
from nova_lite.conf import CONF
from nova_lite.objects.request_spec import RequestSpec, Selection
from nova_lite.scheduler import filters as filters_mod
from nova_lite.scheduler.claim_queue import ClaimQueue
from nova_lite.scheduler import ranking as ranking_mod
from nova_lite.scheduler import weights
from nova_lite.scheduler.host_state import HostState, HostView, OwnClaims
from nova_lite.scheduler.request import HostRequest

LOG = logging.getLogger(__name__)

# A host view older than this many [scheduler] host_view_max_age is an idle scheduler's:
# read again before the next choice, not behind it.
IDLE_AGES = 10


class SchedulerManager:
    """RPC API version 1.2 (see rpcapi.py)."""

    target_version = "1.2"

    def __init__(self, conductor: Any = None) -> None:
        self.conductor = conductor or conductor_rpcapi.ConductorAPI()
        self.filters = filters_mod.get_filters(CONF.filter_scheduler.enabled_filters)
        unknown = set(CONF.filter_scheduler.weighers) - set(weights.ALL_WEIGHERS)
        if unknown:
            raise ValueError(f"unknown scheduler weighers: {', '.join(sorted(unknown))}")
        self._lock = threading.Lock()
        self._view = HostView({}, {})
        self._hosts_at = 0.0
        self._static: dict[tuple, list[int]] = {}
        self._own = OwnClaims()
        self._claims = ClaimQueue(self.conductor)
        self._view_read_at = 0.0  # when the read the view comes from began
        self._refreshing = False  # a background read is under way

    def _view_age(self) -> float:
        return time.monotonic() - self._hosts_at if self._hosts_at else float("inf")

    def _host_view(self, ctx: Any, refresh: bool = False) -> HostView:
        """Hosts with capacity and usage (the caller holds the lock). Between reads this
        scheduler's own claims are applied locally, so a burst of requests spreads out
        without a round trip each; the claim in the database stays the authority.

        Read from the conductor at once when asked (a lost claim race), when there is
        none or it was dropped (hosts_changed), and for every choice with [scheduler]
        host_view_max_age 0. Older than host_view_max_age, it is read again in the
        background while choices go on with it, so a steady trickle of requests does
        not wait for that read (their claims are checked in the database anyway). The
        view of a scheduler that stood idle (older than IDLE_AGES host_view_max_age)
        is read at once: a host that went down meanwhile, which no claim would refuse,
        must not take the first servers after the pause."""
        max_age = CONF.scheduler.host_view_max_age
        if (refresh or not self._hosts_at or max_age <= 0
                or self._view_age() > IDLE_AGES * max_age):
            read_at = time.monotonic()
            self._apply(self.conductor.provider_summaries_changed(ctx, self._view.known()),
                        read_at)
        elif self._view_age() > max_age and not self._refreshing:
            self._refreshing = True
            threading.Thread(target=self._refresh, args=(ctx, self._view.known()),
                             daemon=True).start()
        return self._view

    def _refresh(self, ctx: Any, known: dict) -> None:
        read_at = time.monotonic()
        try:
            changes = self.conductor.provider_summaries_changed(ctx, known)
        except Exception:
            LOG.warning("reading the host view failed; the next choice reads it again",
                        exc_info=True)
            with self._lock:
                self._refreshing = False
                self._hosts_at = 0.0
            return
        with self._lock:
            self._refreshing = False
            self._apply(changes, read_at)

    def _apply(self, changes: dict, read_at: float) -> None:
        """Make the conductor's changes since the view's read (begun at ``read_at``) the
        view, unless a read begun later was applied already."""
        if read_at < self._view_read_at:
            return
        self._view = self._view.changed(changes)
        self._own.reapply(self._view, read_at)
        self._view_read_at = read_at
        self._hosts_at = time.monotonic()
        if not self._view.same_static:
            self._static.clear()

    def hosts_changed(self, ctx: Any) -> None:
        """Fanout cast: the operator changed a compute service; the cached view must
        not place another server by the old state."""
        self._hosts_at = 0.0

    def select_destinations(self, ctx: Any, request_spec: RequestSpec,
                            instance_uuids: list[str], build_lease: Optional[str] = None
                            ) -> list[Selection]:
        """``build_lease``: the build attempt's lease, carried by each claim, so a claim
        reaching the database after its attempt was replaced is refused (ClaimSuperseded,
        raised at once: nothing of this call is the attempt's to release any more).

        Several instances are chosen together on the view and claimed in one conductor
        call (each claim still atomic, checked in the database); an instance whose claim
        lost a race is chosen again on its own."""
        request = HostRequest.from_spec(request_spec)
        selections: list[Selection] = []
        todo = list(instance_uuids)
        attempts = CONF.scheduler.max_attempts
        try:
            if len(todo) > 1 and CONF.scheduler.host_view_max_age > 0:
                selections, todo = self._select_batch(ctx, request_spec, request, todo,
                                                      build_lease)
                attempts -= 1
            for uuid in todo:
                selections.append(self._select_one(ctx, request_spec, request, uuid,
                                                   build_lease, attempts))
        except exception.NoValidHost:
            for sel in selections:  # all or nothing
                self.conductor.release_resources(ctx, sel.instance_uuid)
            raise
        order = {u: i for i, u in enumerate(instance_uuids)}
        return sorted(selections, key=lambda sel: order[sel.instance_uuid])

    def _choose(self, ctx: Any, spec: RequestSpec, request: HostRequest, attempt: int,
                reread: bool = True) -> Iterator[HostState]:
        """The hosts passing every filter, best first (NoValidHost saying why if none):
        the best host_subset_size in random order, then the others (ranked only if the
        claims on the best were refused). ``reread``: when none passes, decide again on
        a fresh view (not while the view holds choices not claimed yet)."""
        view, passed, totals = self._rank(ctx, spec, request, attempt, reread)
        return _best_first(view, passed, totals, CONF.filter_scheduler.host_subset_size)

    def _rank(self, ctx: Any, spec: RequestSpec, request: HostRequest, attempt: int,
              reread: bool = True) -> tuple[HostView, list[int], list[float]]:
        """The full pass of _choose: (view, indices passing, their total weights)."""
        view = self._host_view(ctx, refresh=attempt > 0)
        passed = self._filter(view, spec, request)
        if not passed and reread and self._view_age() > 0:
            # The cached view may miss freed capacity: decide on fresh data.
            view = self._host_view(ctx, refresh=True)
            passed = self._filter(view, spec, request)
        if not passed:
            raise exception.NoValidHost(reason=explain(
                view.hosts, self._rejections(view.hosts, spec, request),
                request.resources))
        totals = weights.view_totals(view, passed, CONF.filter_scheduler.weighers, CONF,
                                     request)
        return view, passed, totals

    def _next_of_batch(self, ctx: Any, spec: RequestSpec, request: HostRequest,
                       ranking: Optional[ranking_mod.BatchRanking], first: bool
                       ) -> tuple[HostState, Optional[ranking_mod.BatchRanking]]:
        """The host _choose would give the next instance of a batch, and the ranking to
        go on with: the previous one while the view is the same (only the host chosen
        last changed), else a full pass, ranked incrementally from there when neither a
        filter nor a weigher depends on the instances already placed."""
        subset = CONF.filter_scheduler.host_subset_size
        if ranking is not None and self._host_view(ctx) is ranking.view:
            host = ranking.choose(subset)
            if host is None:
                raise exception.NoValidHost(reason="no host left for the batch")
            return host, ranking
        view, passed, totals = self._rank(ctx, spec, request, 0, reread=first)
        names = CONF.filter_scheduler.weighers
        if not ranking_mod.applies(request, [f for f in self.filters if f.dynamic], names,
                                   CONF):
            return next(_best_first(view, passed, totals, subset)), None
        ranking = ranking_mod.BatchRanking(view, passed, totals, request.resources, names,
                                           CONF)
        host = ranking.choose(subset)
        assert host is not None
        return host, ranking

    def _select_batch(self, ctx: Any, spec: RequestSpec, request: HostRequest,
                      uuids: list[str], build_lease: Optional[str]
                      ) -> tuple[list[Selection], list[str]]:
        """Choose a host for each instance on the local view, then claim them all in one
        conductor call; (selections claimed, instances left to choose again)."""
        resources = request.resources
        chosen: list[tuple[str, HostState, int]] = []
        ranking: Optional[ranking_mod.BatchRanking] = None
        with self._lock:
            for uuid in uuids:
                try:
                    host, ranking = self._next_of_batch(ctx, spec, request, ranking,
                                                        first=not chosen)
                except exception.NoValidHost:
                    if not chosen:
                        raise
                    break  # the rest are chosen one by one, on fresh data if need be
                chosen.append((uuid, host, self._own.take(self._view, host, resources)))
                request.placed(host.host)
                if ranking is not None:
                    ranking.taken()
        t0 = time.monotonic()
        try:
            results = self.conductor.claim_resources_many(
                ctx, [[host.uuid, uuid] for uuid, host, _t in chosen], resources,
                required_traits=request.required_traits or None,
                forbidden_traits=request.forbidden_traits or None, build_lease=build_lease)
        except BaseException:
            with self._lock:  # nothing was claimed
                for _u, _h, token in chosen:
                    self._own.settle(self._view, token, False, 0)
            raise
        selections, left = [], [u for u in uuids[len(chosen):]]
        now = time.monotonic()
        with self._lock:
            for (uuid, host, token), error in zip(chosen, results):
                self._own.settle(self._view, token, error is None, now)
                if error is None:
                    selections.append(_selection(uuid, host))
                    continue
                LOG.debug("claim of %s on %s refused (%s)", uuid, host.name, error)
                request.unplace(host.host)
                if error != "GroupPolicyConflict":
                    self._hosts_at = 0.0  # the view missed someone else's claim
                left.append(uuid)
        LOG.info("%d instance(s) scheduled in one claim call (%.0f ms), %d left",
                 len(selections), (time.monotonic() - t0) * 1000, len(left))
        return selections, left

    def _select_one(self, ctx: Any, spec: RequestSpec, request: HostRequest, uuid: str,
                    build_lease: Optional[str] = None, attempts: Optional[int] = None
                    ) -> Selection:
        resources = request.resources
        for attempt in range(CONF.scheduler.max_attempts if attempts is None else attempts):
            with self._lock:
                ranked = self._choose(ctx, spec, request, attempt)
                host: Optional[HostState] = next(ranked)
                token = self._own.take(self._view, host, resources)
                request.placed(host.host)
            while host is not None:
                # The choice is counted in the view before the claim (OwnClaims), so a
                # request choosing meanwhile (the lock is not held across the claim)
                # sees the host taken.
                t0 = time.monotonic()
                try:
                    self._claims.claim(
                        ctx, host.uuid, uuid, resources,
                        required_traits=request.required_traits or None,
                        forbidden_traits=request.forbidden_traits or None,
                        build_lease=build_lease)
                except exception.ResourceClaimConflict as err:
                    with self._lock:
                        self._own.settle(self._view, token, False, 0)
                        request.unplace(host.host)
                        if not isinstance(err, exception.GroupPolicyConflict):
                            LOG.debug("claim on %s lost a race; trying the next host",
                                      host.name)
                            self._hosts_at = 0.0
                        elif request.policy == "anti-affinity":
                            # Another scheduler placed a member there meanwhile.
                            request.placed(host.host)
                        host = next(ranked, None)
                        if host is not None:
                            token = self._own.take(self._view, host, resources)
                            request.placed(host.host)
                    continue
                except BaseException:
                    with self._lock:
                        self._own.settle(self._view, token, False, 0)
                        request.unplace(host.host)
                    raise
                with self._lock:
                    self._own.settle(self._view, token, True, time.monotonic())
                LOG.info("instance %s scheduled to %s (claim %.0f ms)", uuid, host.name,
                         (time.monotonic() - t0) * 1000)
                return _selection(uuid, host)
        raise exception.NoValidHost(
            reason="every suitable host was claimed by concurrent requests; retry")

    def _static_pass(self, view: HostView, spec: RequestSpec, request: HostRequest
                     ) -> list[int]:
        """Indices of the hosts passing the request's static filters (and ignore/force
        hosts), kept per host view: their answers change only when it is read again."""
        ignore = tuple(spec.ignore_hosts or ()) if spec.obj_attr_is_set("ignore_hosts") \
            else ()
        force = tuple(spec.force_hosts or ()) if spec.obj_attr_is_set("force_hosts") else ()
        flts = [f for f in self.filters if not f.dynamic and f.applies(request)]
        key = (ignore, force, request.static_key(), tuple(f.name for f in flts))
        passed = self._static.get(key)
        if passed is None:
            if len(self._static) > 64:
                self._static.clear()
            passed = [h.index for h in view.hosts
                      if h.host not in ignore and (not force or h.host in force)
                      and all(f.reject_reason(h, request) is None for f in flts)]
            self._static[key] = passed
        return passed

    def _filter(self, view: HostView, spec: RequestSpec, request: HostRequest
                ) -> list[int]:
        """Indices of the hosts passing every filter, in name order."""
        passed = self._static_pass(view, spec, request)
        dynamic = [f for f in self.filters if f.dynamic and f.applies(request)]
        if any(f.name == "ResourceFilter" for f in dynamic):
            passed = view.fitting(passed, request.resources)
        others = [f for f in dynamic if f.name != "ResourceFilter"]
        if others:
            passed = [i for i in passed
                      if all(f.reject_reason(view.hosts[i], request) is None
                             for f in others)]
        return passed

    def _rejections(self, hosts: list[HostState], spec: RequestSpec, request: HostRequest
                    ) -> dict[str, str]:
        """Why each rejected host was (the first filter refusing it), for NoValidHost."""
        rejections = {}
        for host in hosts:
            if spec.obj_attr_is_set("ignore_hosts") and host.host in spec.ignore_hosts:
                rejections[host.name] = "ignored by the request"
                continue
            if (spec.obj_attr_is_set("force_hosts") and spec.force_hosts
                    and host.host not in spec.force_hosts):
                rejections[host.name] = "not the forced host"
                continue
            for flt in self.filters:
                reason = flt.reject_reason(host, request)
                if reason:
                    rejections[host.name] = f"{flt.name}: {reason}"
                    break
        return rejections


def _best_first(view: HostView, passed: list[int], totals: list[float], subset: int
                ) -> Iterator[HostState]:
    """Ties keep name order (sorts are stable), as weigh_hosts ranks them."""
    if subset == 1:  # nlargest's answer (the first of the best), in C
        top = [totals.index(max(totals))]
    else:
        top = heapq.nlargest(subset, range(len(passed)), key=totals.__getitem__)
    picks = list(top)
    random.shuffle(picks)
    for j in picks:
        yield view.hosts[passed[j]]
    taken = set(top)
    for j in sorted(range(len(passed)), key=totals.__getitem__, reverse=True):
        if j not in taken:
            yield view.hosts[passed[j]]


def _selection(uuid: str, host: HostState) -> Selection:
    return Selection(instance_uuid=uuid, host=host.host, nodename=host.name,
                     provider_uuid=host.uuid, cell_uuid=host.cell_uuid,
                     availability_zone=host.get("availability_zone"))


def explain(hosts: list, rejections: dict[str, str], resources: dict) -> str:
    """One sentence an operator can act on: how many hosts, and what each lacked."""
    if not hosts:
        return ("There are no compute hosts: start nova-lite-compute and run "
                "`nova-lite-manage cell_v2 discover_hosts`.")
    parts = [f"{len(hosts)} host(s) considered, {len(rejections)} rejected."]
    by_reason: dict[str, list[str]] = {}
    for name, reason in sorted(rejections.items()):
        by_reason.setdefault(reason, []).append(name)
    for reason, names in by_reason.items():
        text = f"{', '.join(names[:8])}{' ...' if len(names) > 8 else ''}: {reason}"
        if "insufficient" in reason:
            rc = reason.rsplit(" ", 1)[-1]
            # Only the hosts short of rc: a host rejected for another reason (down,
            # unmapped) may have plenty free, which would not explain anything.
            most = max((h.free(rc) for h in hosts if h.name in names), default=0)
            unit = filters_mod.UNITS.get(rc, rc)
            text += (f" (requested {resources.get(rc)} {unit}, most free on any of them "
                     f"{int(most)})")
        parts.append(text + ".")
    return " ".join(parts)
