"""Host weighers: higher is better. Spreading by default (most free RAM, then vCPUs)."""

from __future__ import annotations

from nova_lite.objects.provider import ProviderSummary


class BaseWeigher:
    resource_class = ""
    multiplier_opt = ""

    def weigh(self, hosts: list[ProviderSummary]) -> list[float]:
        """Weights normalised to 0..1 over the given hosts."""
        raw = [h.free(self.resource_class) for h in hosts]
        lo, hi = min(raw), max(raw)
        if hi == lo:
            return [0.0] * len(raw)
        return [(r - lo) / (hi - lo) for r in raw]


class RAMWeigher(BaseWeigher):
    resource_class = "MEMORY_MB"
    multiplier_opt = "ram_weight_multiplier"


class CPUWeigher(BaseWeigher):
    resource_class = "VCPU"
    multiplier_opt = "cpu_weight_multiplier"


ALL_WEIGHERS = {w.__name__: w for w in (RAMWeigher, CPUWeigher)}


def weigh_hosts(hosts: list[ProviderSummary], names: list[str], conf: object
                ) -> list[tuple[float, ProviderSummary]]:
    """Hosts with their total weight, best first."""
    totals = [0.0] * len(hosts)
    for name in names:
        weigher = ALL_WEIGHERS[name]()
        mult = getattr(conf.filter_scheduler, weigher.multiplier_opt)
        for i, w in enumerate(weigher.weigh(hosts)):
            totals[i] += mult * w
    ranked = sorted(zip(totals, hosts), key=lambda p: (-p[0], p[1].name))
    return ranked
