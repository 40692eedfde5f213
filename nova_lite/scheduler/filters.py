"""Host filters. Each says why it rejects a host, so NoValidHost can explain itself."""

from __future__ import annotations

from typing import Optional

from nova_lite.objects.provider import ProviderSummary

UNITS = {"VCPU": "vCPUs", "MEMORY_MB": "MiB of RAM", "DISK_GB": "GiB of disk"}


class BaseFilter:
    name = "BaseFilter"

    def reject_reason(self, host: ProviderSummary, resources: dict) -> Optional[str]:
        """None if the host passes, else a short reason."""
        raise NotImplementedError


class ComputeFilter(BaseFilter):
    """The host's compute service must be up, enabled and mapped to a cell."""

    name = "ComputeFilter"

    def reject_reason(self, host: ProviderSummary, resources: dict) -> Optional[str]:
        if host.cell_uuid is None:
            return "not mapped to a cell (run `nova-lite-manage cell_v2 discover_hosts`)"
        if not host.service_up:
            return "compute service is down"
        if host.service_disabled:
            return "compute service is disabled"
        return None


class ResourceFilter(BaseFilter):
    """The host must have room for every requested resource class."""

    name = "ResourceFilter"

    def reject_reason(self, host: ProviderSummary, resources: dict) -> Optional[str]:
        for rc, amount in resources.items():
            if amount <= 0:
                continue
            free = host.free(rc)
            if free < amount:
                return f"insufficient {rc}"
        return None


ALL_FILTERS = {f.name: f for f in (ComputeFilter(), ResourceFilter())}


def get_filters(names: list[str]) -> list[BaseFilter]:
    missing = [n for n in names if n not in ALL_FILTERS]
    if missing:
        raise ValueError(f"unknown scheduler filters: {', '.join(missing)}")
    return [ALL_FILTERS[n] for n in names]
