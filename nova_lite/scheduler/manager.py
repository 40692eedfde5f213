"""The scheduler's RPC endpoint: choose a host, claim its resources, or explain why not.

Selection and claim run under one in-process lock so that concurrent requests see each
other's claims and spread out; the claim itself is atomic in the database, so several
scheduler processes stay correct too (a lost race moves on to the next host).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, Optional

from nova_lite import exception
from nova_lite.conductor import rpcapi as conductor_rpcapi
from nova_lite.conf import CONF
from nova_lite.objects.provider import ProviderSummary
from nova_lite.objects.request_spec import RequestSpec, Selection
from nova_lite.scheduler import filters as filters_mod
from nova_lite.scheduler import weights
from nova_lite.scheduler.request import HostRequest

LOG = logging.getLogger(__name__)


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
        self._hosts: list[ProviderSummary] = []
        self._hosts_at = 0.0

    def _view_age(self) -> float:
        return time.monotonic() - self._hosts_at if self._hosts_at else float("inf")

    def _host_view(self, ctx: Any, refresh: bool = False) -> list[ProviderSummary]:
        """Hosts with capacity and usage, re-read from the conductor when older than
        [scheduler] host_view_max_age. Between reads this scheduler's own claims are
        applied locally, so a burst of requests spreads out without a round trip each;
        the claim in the database stays the authority."""
        if refresh or self._view_age() > CONF.scheduler.host_view_max_age:
            self._hosts = self.conductor.provider_summaries(ctx)
            self._hosts_at = time.monotonic()
        return self._hosts

    def hosts_changed(self, ctx: Any) -> None:
        """Fanout cast: the operator changed a compute service; the cached view must
        not place another server by the old state."""
        self._hosts_at = 0.0

    def select_destinations(self, ctx: Any, request_spec: RequestSpec,
                            instance_uuids: list[str], build_lease: Optional[str] = None
                            ) -> list[Selection]:
        """``build_lease``: the build attempt's lease, carried by each claim, so a claim
        reaching the database after its attempt was replaced is refused (ClaimSuperseded,
        raised at once: nothing of this call is the attempt's to release any more)."""
        request = HostRequest.from_spec(request_spec)
        selections: list[Selection] = []
        try:
            for uuid in instance_uuids:
                selections.append(self._select_one(ctx, request_spec, request, uuid,
                                                   build_lease))
        except exception.NoValidHost:
            for sel in selections:  # all or nothing
                self.conductor.release_resources(ctx, sel.instance_uuid)
            raise
        return selections

    def _select_one(self, ctx: Any, spec: RequestSpec, request: HostRequest, uuid: str,
                    build_lease: Optional[str] = None) -> Selection:
        resources = request.resources
        fence = {"build_lease": build_lease} if build_lease else {}
        with self._lock:
            for attempt in range(CONF.scheduler.max_attempts):
                hosts = self._host_view(ctx, refresh=attempt > 0)
                passed, rejections = self._filter(hosts, spec, request)
                if not passed and self._view_age() > 0:
                    # The cached view may miss freed capacity: decide on fresh data.
                    hosts = self._host_view(ctx, refresh=True)
                    passed, rejections = self._filter(hosts, spec, request)
                if not passed:
                    raise exception.NoValidHost(
                        reason=explain(hosts, rejections, resources))
                ranked = weights.weigh_hosts(passed, CONF.filter_scheduler.weighers, CONF,
                                             request)
                subset = ranked[:CONF.filter_scheduler.host_subset_size]
                random.shuffle(subset)
                for _w, host in subset + ranked[len(subset):]:
                    t0 = time.monotonic()
                    try:
                        self.conductor.claim_resources(
                            ctx, host.uuid, uuid, resources,
                            required_traits=request.required_traits or None,
                            forbidden_traits=request.forbidden_traits or None, **fence)
                    except exception.GroupPolicyConflict:
                        # Another scheduler placed a member meanwhile.
                        LOG.debug("claim on %s refused by the server group", host.name)
                        if request.policy == "anti-affinity":
                            request.placed(host.host)
                        continue
                    except exception.ResourceClaimConflict:
                        LOG.debug("claim on %s lost a race; trying the next host", host.name)
                        self._hosts_at = 0.0
                        continue
                    _consume(host, resources)
                    request.placed(host.host)
                    LOG.info("instance %s scheduled to %s (claim %.0f ms)", uuid, host.name,
                             (time.monotonic() - t0) * 1000)
                    return Selection(instance_uuid=uuid, host=host.host, nodename=host.name,
                                     provider_uuid=host.uuid, cell_uuid=host.cell_uuid)
            raise exception.NoValidHost(
                reason="every suitable host was claimed by concurrent requests; retry")

    def _filter(self, hosts: list[ProviderSummary], spec: RequestSpec, request: HostRequest
                ) -> tuple[list[ProviderSummary], dict[str, str]]:
        passed, rejections = [], {}
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
            else:
                passed.append(host)
        return passed, rejections


def _consume(host: ProviderSummary, resources: dict) -> None:
    res = dict(host.resources)
    for rc, amount in resources.items():
        if rc in res:
            res[rc] = dict(res[rc], used=res[rc]["used"] + amount)
    host.resources = res


def explain(hosts: list[ProviderSummary], rejections: dict[str, str], resources: dict) -> str:
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
