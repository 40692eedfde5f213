"""Host filters, one concept each. Each says why it rejects a host, so NoValidHost can
explain itself."""

from __future__ import annotations

from typing import Optional

from nova_lite.objects.provider import ProviderSummary
from nova_lite.scheduler import aggregate_specs
from nova_lite.scheduler.request import HostRequest

UNITS = {"VCPU": "vCPUs", "MEMORY_MB": "MiB of RAM", "DISK_GB": "GiB of disk"}


class BaseFilter:
    name = "BaseFilter"
    # A dynamic filter's answer changes with claims (usage, a group's members); a static
    # one's only with the host view, so the scheduler keeps its answers per view.
    dynamic = False

    def applies(self, request: HostRequest) -> bool:
        """False when this filter passes every host for this request."""
        return True

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        """None if the host passes, else a short reason."""
        raise NotImplementedError


class ComputeFilter(BaseFilter):
    """The host's compute service must be up, enabled and mapped to a cell."""

    name = "ComputeFilter"

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        if host.cell_uuid is None:
            return "not mapped to a cell (run `nova-lite-manage cell_v2 discover_hosts`)"
        if host.get("service_forced_down"):
            return "compute service is forced down"
        if not host.service_up:
            return "compute service is down"
        if host.service_disabled:
            reason = host.get("service_disabled_reason")
            return f"compute service is disabled ({reason})" if reason else \
                "compute service is disabled"
        return None


class ResourceFilter(BaseFilter):
    """The host must have room for every requested resource class."""

    name = "ResourceFilter"
    dynamic = True

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        for rc, amount in request.resources.items():
            if amount <= 0:
                continue
            free = host.free(rc)
            if free < amount:
                return f"insufficient {rc}"
        return None


class TraitsFilter(BaseFilter):
    """The host must have every trait the flavor requires and none it forbids."""

    name = "TraitsFilter"

    def applies(self, request: HostRequest) -> bool:
        return bool(request.required_traits or request.forbidden_traits)

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        if not request.required_traits and not request.forbidden_traits:
            return None
        have = set(host.get("traits") or ())
        missing = [t for t in request.required_traits if t not in have]
        if missing:
            return f"lacks required trait(s) {', '.join(missing)}"
        present = [t for t in request.forbidden_traits if t in have]
        if present:
            return f"has forbidden trait(s) {', '.join(present)}"
        return None


class AvailabilityZoneFilter(BaseFilter):
    """The host must be in the zone the server asked for."""

    name = "AvailabilityZoneFilter"

    def applies(self, request: HostRequest) -> bool:
        return bool(request.availability_zone)

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        wanted = request.availability_zone
        if wanted and host.get("availability_zone") != wanted:
            return (f"in availability zone {host.get('availability_zone')}, not the "
                    f"requested {wanted}")
        return None


class AggregateInstanceExtraSpecsFilter(BaseFilter):
    """Flavor extra specs (unscoped or aggregate_instance_extra_specs:) must match the
    metadata of an aggregate holding the host."""

    name = "AggregateInstanceExtraSpecsFilter"

    def applies(self, request: HostRequest) -> bool:
        return bool(request.extra_specs)

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        if not request.extra_specs:
            return None
        return aggregate_specs.mismatch(request.extra_specs,
                                        host.get("aggregate_metadata") or {})


class ServerGroupAntiAffinityFilter(BaseFilter):
    """A member of an anti-affinity group goes where fewer than max_server_per_host
    (1 by default) members already are."""

    name = "ServerGroupAntiAffinityFilter"
    dynamic = True

    def applies(self, request: HostRequest) -> bool:
        return request.policy == "anti-affinity"

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        if request.policy != "anti-affinity":
            return None
        limit = request.group.max_per_host()
        held = request.group_hosts.get(host.host, 0)
        if held >= limit:
            return (f"already holds {held} member(s) of anti-affinity server group "
                    f"{request.group.uuid} (max_server_per_host {limit})")
        return None


class ServerGroupAffinityFilter(BaseFilter):
    """A member of an affinity group goes where the other members are."""

    name = "ServerGroupAffinityFilter"
    dynamic = True

    def applies(self, request: HostRequest) -> bool:
        return request.policy == "affinity" and bool(request.group_hosts)

    def reject_reason(self, host: ProviderSummary, request: HostRequest) -> Optional[str]:
        if request.policy != "affinity" or not request.group_hosts:
            return None
        if host.host not in request.group_hosts:
            hosts = ", ".join(sorted(request.group_hosts))
            return (f"not the host of affinity server group {request.group.uuid} "
                    f"(its members are on {hosts})")
        return None


ALL_FILTERS = {f.name: f for f in (
    ComputeFilter(), ResourceFilter(), TraitsFilter(), AvailabilityZoneFilter(),
    AggregateInstanceExtraSpecsFilter(), ServerGroupAntiAffinityFilter(),
    ServerGroupAffinityFilter())}


def get_filters(names: list[str]) -> list[BaseFilter]:
    missing = [n for n in names if n not in ALL_FILTERS]
    if missing:
        raise ValueError(f"unknown scheduler filters: {', '.join(missing)}")
    return [ALL_FILTERS[n] for n in names]
