"""HostRequest: what one instance asks of a host, resolved once per instance so every
filter and weigher reads plain values."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional


@dataclasses.dataclass
class HostRequest:
    resources: dict
    required_traits: list[str] = dataclasses.field(default_factory=list)
    forbidden_traits: list[str] = dataclasses.field(default_factory=list)
    # The server group (InstanceGroup) and host -> members there, kept up to date with
    # this scheduler's own selections of the same request.
    group: Optional[Any] = None
    group_hosts: dict[str, int] = dataclasses.field(default_factory=dict)
    availability_zone: Optional[str] = None
    extra_specs: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Any) -> "HostRequest":
        required, forbidden = spec.traits()
        group = spec.group()
        return cls(resources=spec.resources(), required_traits=required,
                   forbidden_traits=forbidden, group=group,
                   group_hosts=dict(group.get("hosts") or {}) if group is not None else {},
                   availability_zone=spec.get("availability_zone"),
                   extra_specs=dict(spec.flavor.get("extra_specs") or {}))

    @property
    def policy(self) -> Optional[str]:
        return self.group.policy if self.group is not None else None

    def static_key(self) -> tuple:
        """What the static filters read of this request (hashable)."""
        return (tuple(self.required_traits), tuple(self.forbidden_traits),
                self.availability_zone, tuple(sorted(self.extra_specs.items())))

    def unplace(self, host: str) -> None:
        """Undo placed(host): the claim there was refused."""
        if self.group is not None and self.group_hosts.get(host):
            self.group_hosts[host] -= 1
            if not self.group_hosts[host]:
                del self.group_hosts[host]

    def placed(self, host: str) -> None:
        """Record that a member of this request's group now holds a claim on host."""
        if self.group is not None:
            self.group_hosts[host] = self.group_hosts.get(host, 0) + 1
