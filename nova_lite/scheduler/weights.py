"""Host weighers: higher is better. Spreading by default (most free RAM, then vCPUs);
soft server-group policies pull members together or push them apart."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from nova_lite.objects.provider import ProviderSummary
from nova_lite.scheduler.request import HostRequest


def _normalise(raw: list[float]) -> list[float]:
    lo, hi = min(raw), max(raw)
    if hi == lo:
        return [0.0] * len(raw)
    return [(r - lo) / (hi - lo) for r in raw]


class BaseWeigher:
    multiplier_opt = ""

    def raw(self, host: ProviderSummary, request: Optional[HostRequest]) -> float:
        raise NotImplementedError

    def weigh(self, hosts: list[ProviderSummary], request: Optional[HostRequest] = None
              ) -> list[float]:
        """Weights normalised to 0..1 over the given hosts."""
        return _normalise([self.raw(h, request) for h in hosts])


class ResourceWeigher(BaseWeigher):
    resource_class = ""

    def raw(self, host: ProviderSummary, request: Optional[HostRequest]) -> float:
        return host.free(self.resource_class)

    def weigh(self, hosts: list[ProviderSummary], request: Optional[HostRequest] = None
              ) -> list[float]:
        rc = self.resource_class
        return _normalise([h.free(rc) for h in hosts])


class RAMWeigher(ResourceWeigher):
    resource_class = "MEMORY_MB"
    multiplier_opt = "ram_weight_multiplier"


class CPUWeigher(ResourceWeigher):
    resource_class = "VCPU"
    multiplier_opt = "cpu_weight_multiplier"


class ServerGroupSoftAffinityWeigher(BaseWeigher):
    """soft-affinity: the more members a host already holds, the better."""

    multiplier_opt = "soft_affinity_weight_multiplier"
    policy = "soft-affinity"
    sign = 1.0

    def weigh(self, hosts: list[ProviderSummary], request: Optional[HostRequest] = None
              ) -> list[float]:
        if request is None or request.policy != self.policy:
            return [0.0] * len(hosts)  # not this weigher's kind of group
        return super().weigh(hosts, request)

    def raw(self, host: ProviderSummary, request: Optional[HostRequest]) -> float:
        assert request is not None
        return self.sign * request.group_hosts.get(host.host, 0)


class ServerGroupSoftAntiAffinityWeigher(ServerGroupSoftAffinityWeigher):
    """soft-anti-affinity: the fewer members a host already holds, the better."""

    multiplier_opt = "soft_anti_affinity_weight_multiplier"
    policy = "soft-anti-affinity"
    sign = -1.0


ALL_WEIGHERS = {w.__name__: w for w in (RAMWeigher, CPUWeigher,
                                        ServerGroupSoftAffinityWeigher,
                                        ServerGroupSoftAntiAffinityWeigher)}


def weigh_hosts(hosts: list[ProviderSummary], names: list[str], conf: object,
                request: Optional[HostRequest] = None, by_name: bool = False
                ) -> list[tuple[float, ProviderSummary]]:
    """Hosts with their total weight, best first (ties: by name). ``by_name``: the hosts
    are in name order already, so a stable sort on the weight alone keeps the ties'."""
    totals = [0.0] * len(hosts)
    for name in names:
        weigher = ALL_WEIGHERS[name]()
        mult = getattr(conf.filter_scheduler, weigher.multiplier_opt)
        if not mult:
            continue
        for i, w in enumerate(weigher.weigh(hosts, request)):
            totals[i] += mult * w
    if by_name:
        order = sorted(range(len(hosts)), key=totals.__getitem__, reverse=True)
        return [(totals[i], hosts[i]) for i in order]
    return sorted(zip(totals, hosts), key=lambda p: (-p[0], p[1].name))


def view_totals(view: Any, indices: list[int], names: list[str], conf: object,
                request: Optional[HostRequest] = None) -> list[float]:
    """weigh_hosts's total weight of each host ``view.hosts[i]`` for i in ``indices``
    (not empty), the resource weighers reading the view's free arrays whole. The
    float64 operations are weigh_hosts's, in its order, so the totals (and the ties) are
    the very same numbers."""
    picked = np.asarray(indices, dtype=np.intp)
    totals = np.zeros(len(picked))
    hosts = None
    for name in names:
        cls = ALL_WEIGHERS[name]
        mult = getattr(conf.filter_scheduler, cls.multiplier_opt)
        if not mult:
            continue
        if issubclass(cls, ResourceWeigher):
            free = view.free.get(cls.resource_class)
            weights = _normalised_array(free[picked]) if free is not None \
                else np.zeros(len(picked))
        elif (issubclass(cls, ServerGroupSoftAffinityWeigher)
              and (request is None or request.policy != cls.policy)):
            continue  # weighs 0 everywhere: adding mult * 0.0 changes no total
        else:
            if hosts is None:
                hosts = [view.hosts[i] for i in indices]
            weights = np.array(cls().weigh(hosts, request), dtype=np.float64)
        totals = totals + mult * weights
    return totals.tolist()


def _normalised_array(raw: np.ndarray) -> np.ndarray:
    """_normalise of an array."""
    lo, hi = raw.min(), raw.max()
    if hi == lo:
        return np.zeros(len(raw))
    return (raw - lo) / (hi - lo)
