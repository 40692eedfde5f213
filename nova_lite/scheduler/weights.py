"""Host weighers: higher is better. Spreading by default (most free RAM, then vCPUs);
soft server-group policies pull members together or push them apart."""

from __future__ import annotations

from typing import Optional

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
                request: Optional[HostRequest] = None
                ) -> list[tuple[float, ProviderSummary]]:
    """Hosts with their total weight, best first."""
    totals = [0.0] * len(hosts)
    for name in names:
        weigher = ALL_WEIGHERS[name]()
        mult = getattr(conf.filter_scheduler, weigher.multiplier_opt)
        for i, w in enumerate(weigher.weigh(hosts, request)):
            totals[i] += mult * w
    ranked = sorted(zip(totals, hosts), key=lambda p: (-p[0], p[1].name))
    return ranked
