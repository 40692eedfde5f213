"""The scheduler's working copy of the compute nodes, read once per host view.

A ProviderSummary is a versioned object: every attribute read goes through a field
property, and ``free()`` recomputes capacity from nested dicts. Over 1,000 nodes and
several filters and weighers per decision that alone cost tens of milliseconds. A
HostView keeps each node as a HostState with the same read interface (so every filter
and weigher works on either) in plain slots, and the free amount of each resource class
of every node in one list per class, which the resource filter and weighers scan by
index and this scheduler's own claims keep up to date.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from nova_lite.objects.provider import ProviderSummary

_EXTRA = ("service_disabled_reason", "service_forced_down", "traits", "availability_zone",
          "aggregate_metadata")


class HostState:
    __slots__ = ("uuid", "name", "host", "cell_uuid", "generation", "service_up",
                 "service_disabled", "index", "view", "_extra", "_capacity", "_resources")

    def __init__(self, provider: dict, host: dict) -> None:
        """``provider``: a summary as provider_summaries_changed sends it; ``host``: its
        host's part (cell, service status, zone, aggregate metadata)."""
        self.uuid = provider["uuid"]
        self.name = provider["name"]
        self.host = provider["host"]
        self.cell_uuid = host.get("cell_uuid")
        self.generation = provider["generation"]
        self.service_up = bool(host.get("service_up"))
        self.service_disabled = bool(host.get("service_disabled"))
        self.index = 0
        self.view: Any = None
        self._extra = {k: host.get(k) for k in _EXTRA}
        self._extra["traits"] = provider.get("traits") or []
        self._resources = {rc: dict(r) for rc, r in provider["resources"].items()}
        self._capacity = {rc: (r["total"] - r["reserved"]) * r["allocation_ratio"]
                          for rc, r in self._resources.items()}

    def get(self, key: str, default: Any = None) -> Any:
        value = self._extra.get(key)
        return default if value is None else value

    @property
    def resources(self) -> dict:
        """{rc: {"total", "reserved", "allocation_ratio", "used"}}, with this scheduler's
        claims since the view was read counted as used."""
        out = {}
        for rc, r in self._resources.items():
            claimed = (self._capacity[rc] - r["used"]) - self.free(rc)
            out[rc] = dict(r, used=r["used"] + claimed)
        return out

    def capacity(self, rc: str) -> float:
        return self._capacity.get(rc, 0)

    def free(self, rc: str) -> float:
        free = self.view.free.get(rc)
        return float(free[self.index]) if free is not None else 0

    def consume(self, resources: dict, sign: int = 1) -> None:
        """Apply (sign -1: undo) a claim of this scheduler's to the view."""
        for rc, amount in resources.items():
            if rc in self._capacity:
                self.view.free[rc][self.index] -= sign * amount

    def __repr__(self) -> str:
        return f"HostState({self.name})"


class HostView:
    """Every node, in name order (the weighers' tie-break), with free capacity per
    resource class as parallel float64 arrays: ``free[rc][host.index]``.

    ``providers`` (uuid -> summary dict) and ``host_info`` (host -> its part) are what
    the conductor sent; the next view is this one with the conductor's changes since
    (``changed``), so a read of 1,000 nodes sends only the few whose generation moved.
    """

    def __init__(self, providers: dict[str, dict], host_info: dict[str, dict],
                 hosts: Optional[list[HostState]] = None) -> None:
        """``hosts``: the HostStates of ``providers`` in name order, when the caller has
        them (an update of a few providers keeps the others' states)."""
        self.providers = providers
        self.host_info = host_info
        # Whether static filter answers given on the view this one updates still hold
        # (same hosts, host parts and traits); set by changed().
        self.same_static = False
        if hosts is None:
            hosts = sorted((HostState(p, host_info.get(p["host"], {}))
                            for p in providers.values()), key=lambda h: h.name)
        self.hosts = hosts
        self.by_uuid = {h.uuid: h for h in self.hosts}
        classes: set[str] = set()
        for i, h in enumerate(self.hosts):
            h.index, h.view = i, self
            classes.update(h._capacity)
        self.free: dict[str, np.ndarray] = {
            rc: np.array([h._capacity[rc] - h._resources[rc]["used"]
                          if rc in h._capacity else 0 for h in self.hosts],
                         dtype=np.float64) for rc in classes}

    def known(self) -> dict[str, int]:
        """provider uuid -> generation held, for provider_summaries_changed."""
        return {u: p["generation"] for u, p in self.providers.items()}

    def changed(self, changes: dict) -> "HostView":
        """A new view: this one's providers with the conductor's changes applied. When
        only known providers' usage or inventory moved (the usual case: claims), the
        other providers' states are kept and static filter answers still hold
        (``same_static``); anything else builds every state again."""
        providers = dict(self.providers)
        for u in changes["gone"]:
            providers.pop(u, None)
        for p in changes["providers"]:
            providers[p["uuid"]] = p
        hosts = self._updated(changes)
        view = HostView(providers, changes["hosts"], hosts)
        view.same_static = hosts is not None
        return view

    def _updated(self, changes: dict) -> Optional[list[HostState]]:
        """This view's states with those of the changed providers made again, or None
        when the change is more than usage and inventory of known providers."""
        if changes["gone"] or changes["hosts"] != self.host_info:
            return None
        fresh = {}
        for p in changes["providers"]:
            old = self.providers.get(p["uuid"])
            if (old is None or old["name"] != p["name"] or old["host"] != p["host"]
                    or sorted(old.get("traits") or []) != sorted(p.get("traits") or [])):
                return None
            fresh[p["uuid"]] = HostState(p, self.host_info.get(p["host"], {}))
        if not fresh:
            return list(self.hosts)
        return [fresh.get(h.uuid, h) for h in self.hosts]

    def __len__(self) -> int:
        return len(self.hosts)

    def fitting(self, indices: list[int], resources: dict) -> list[int]:
        """The indices of ``indices`` with room for every resource asked (amount > 0)."""
        picked = np.asarray(indices, dtype=np.intp)
        for rc, amount in resources.items():
            if amount <= 0:
                continue
            free = self.free.get(rc)
            if free is None:
                return []
            picked = picked[free[picked] >= amount]
        return picked.tolist()


def changes_from_summaries(summaries: list[ProviderSummary], known: dict) -> dict:
    """provider_summaries_changed's answer made from a full provider_summaries read
    (from a conductor older than 1.15)."""
    hosts, providers = {}, []
    for s in summaries:
        hosts[s.host] = {k: s.get(k) for k in (
            "cell_uuid", "service_up", "service_disabled") + _EXTRA if k != "traits"}
        if known.get(s.uuid) != s.generation:
            providers.append({"uuid": s.uuid, "name": s.name, "host": s.host,
                              "generation": s.generation, "resources": s.resources,
                              "traits": list(s.get("traits") or [])})
    present = {s.uuid for s in summaries}
    return {"providers": providers, "gone": [u for u in known if u not in present],
            "hosts": hosts}


class OwnClaims:
    """This scheduler's claims that a view read from the database may not show yet: in
    flight (chosen, the claim not answered), or made after the read began. Each new
    view gets them applied again, so requests choosing while others' claims are in
    flight never see those hosts emptier than they are. Callers hold the scheduler's
    lock."""

    def __init__(self) -> None:
        self._next = 0
        # token -> [provider uuid, resources, monotonic time the claim was made or None]
        self._claims: dict[int, list] = {}

    def take(self, view: HostView, host: HostState, resources: dict) -> int:
        """Count a claim about to be made on ``host`` in ``view`` (the current one, which
        ``host`` may be older than); its token."""
        current = view.by_uuid.get(host.uuid)
        if current is not None:
            current.consume(resources)
        self._next += 1
        self._claims[self._next] = [host.uuid, resources, None]
        return self._next

    def settle(self, view: HostView, token: int, claimed: bool, at: float) -> None:
        """The claim's answer: made (at monotonic ``at``), or refused (undone)."""
        entry = self._claims[token]
        if claimed:
            entry[2] = at
            return
        del self._claims[token]
        host = view.by_uuid.get(entry[0])
        if host is not None:
            host.consume(entry[1], sign=-1)

    def reapply(self, view: HostView, read_at: float) -> None:
        """Apply to a view read from ``read_at`` on the claims it cannot show; forget
        those it shows (made before the read began)."""
        for token, (uuid, resources, made) in list(self._claims.items()):
            if made is not None and made < read_at:
                del self._claims[token]
                continue
            host = view.by_uuid.get(uuid)
            if host is not None:
                host.consume(resources)
