"""The conductor's ``placement`` RPC namespace: what nova-lite-placement-api reads and
writes in the API database (resource providers and what hangs off them, consumers'
allocations), on behalf of a caller the API already authorised.

A consumer is an instance or a move in progress (a migration's uuid holds the source
node's claim); its project and user are the instance's.
"""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import placement_query as pq
from nova_lite.db import placement_write as pw
from nova_lite.db.engine import transactional
from nova_lite.placement import names

NAMESPACE = "placement"
VERSION = "1.0"


@transactional
def _project_consumers(session: Any, project_id: str, user_id: Optional[str]
                       ) -> list[str]:
    import sqlalchemy as sa

    q = sa.select(m.InstanceMapping.instance_uuid).where(
        m.InstanceMapping.project_id == project_id)
    if user_id is not None:
        q = q.where(m.InstanceMapping.user_id == user_id)
    return list(session.scalars(q))


@transactional
def _owner(session: Any, instance_uuid: str) -> Optional[tuple[str, Optional[str]]]:
    import sqlalchemy as sa

    row = session.execute(sa.select(m.InstanceMapping.project_id, m.InstanceMapping.user_id)
                          .where(m.InstanceMapping.instance_uuid == instance_uuid)).first()
    return (row[0], row[1]) if row else None


class PlacementEndpoint:
    """RPC namespace ``placement`` version 1.0 (see nova_lite/placement/rpcapi.py)."""

    target_namespace = NAMESPACE
    target_version = VERSION

    def __init__(self, api_url: str, cells: Any) -> None:
        self.api_url = api_url
        self.cells = cells

    # -- resource providers -----------------------------------------------------------
    def provider_list(self, ctx: Any, filters: dict) -> list:
        return pq.provider_list(self.api_url, filters)

    def provider_get(self, ctx: Any, uuid: str) -> dict:
        return pq.provider_get(self.api_url, uuid)

    def provider_detail(self, ctx: Any, uuid: str, what: str) -> dict:
        """{"generation", <what>}: inventories, usages, traits, aggregates or
        allocations of the provider."""
        return pq.provider_detail(self.api_url, uuid, what)

    def inventories_set(self, ctx: Any, uuid: str, generation: int, inventories: dict,
                        replace: bool = True) -> int:
        return pw.inventories_set(self.api_url, uuid, generation, inventories, replace)

    def inventory_delete(self, ctx: Any, uuid: str, resource_class: str) -> int:
        return pw.inventory_delete(self.api_url, uuid, resource_class)

    def provider_traits_set(self, ctx: Any, uuid: str, generation: int, traits: list
                            ) -> int:
        missing = sorted(set(traits) - set(self.trait_list(ctx, names_in=list(traits))))
        if missing:
            raise exception.PlacementBadRequest(
                reason=f"No such trait(s): {', '.join(missing)}")
        pw.traits_ensure(self.api_url, [t for t in traits if t in names.standard_traits()])
        return pw.traits_set(self.api_url, uuid, generation, list(traits))

    def provider_aggregates_set(self, ctx: Any, uuid: str, generation: Optional[int],
                                aggregates: list) -> int:
        return pw.aggregates_set(self.api_url, uuid, generation, list(aggregates))

    # -- traits and resource classes --------------------------------------------------
    def trait_list(self, ctx: Any, names_in: Optional[list] = None,
                   startswith: Optional[str] = None, associated: Optional[bool] = None
                   ) -> list:
        """Standard traits and the custom ones recorded (``associated``: only those a
        provider has, or has not)."""
        recorded = set(pq.trait_names(self.api_url, associated))
        if associated is None:
            every = recorded | names.standard_traits()
        elif associated:
            every = recorded
        else:
            linked = set(pq.trait_names(self.api_url, True))
            every = (recorded | names.standard_traits()) - linked
        if names_in is not None:
            every &= set(names_in)
        if startswith:
            every = {t for t in every if t.startswith(startswith)}
        return sorted(every)

    def trait_create(self, ctx: Any, name: str) -> bool:
        """Record a custom trait; False when it was there already."""
        return bool(pw.traits_ensure(self.api_url, [name]))

    def trait_delete(self, ctx: Any, name: str) -> None:
        pw.trait_delete(self.api_url, name)

    def resource_class_list(self, ctx: Any) -> list:
        custom = [rc for rc in pq.resource_classes_in_use(self.api_url)
                  if rc not in names.STANDARD_RESOURCE_CLASSES]
        return list(names.STANDARD_RESOURCE_CLASSES) + custom

    # -- consumers ----------------------------------------------------------------------
    def _consumer_owner(self, consumer_id: str) -> tuple[Optional[tuple], str]:
        """((project, user) or None, consumer type)."""
        owner = _owner(self.api_url, consumer_id)
        if owner is not None:
            return owner, "INSTANCE"
        for cell in self.cells.real_cells():
            try:
                mig = mig_db.migration_get(cell["database_connection"], consumer_id)
            except exception.NotFound:
                continue
            return _owner(self.api_url, mig.instance_uuid), "MIGRATION"
        return None, "INSTANCE"

    def consumer_get(self, ctx: Any, consumer_id: str) -> dict:
        """{"allocations": {rp: {"generation", "resources"}}, "project_id", "user_id",
        "consumer_type"} (INSTANCE, or MIGRATION for a move's hold on its source)."""
        allocations = pq.consumer_allocations(self.api_url, consumer_id)
        owner, kind = self._consumer_owner(consumer_id) if allocations else (None,
                                                                               "INSTANCE")
        return {"allocations": allocations,
                "project_id": owner[0] if owner else None,
                "user_id": owner[1] if owner else None, "consumer_type": kind}

    def consumer_allocations_set(self, ctx: Any, consumer_id: str, allocations: dict,
                                 consumer_generation: Any = "__unchecked__") -> None:
        """Replace the consumer's allocations ({rp: {rc: amount}}); with a
        ``consumer_generation`` (1.28), None means "a new consumer" and a number "an
        existing one"."""
        if consumer_generation != "__unchecked__":
            exists = bool(pq.consumer_allocations(self.api_url, consumer_id))
            if consumer_generation is None and exists:
                raise exception.ConsumerGenerationConflict(
                    reason=f"consumer {consumer_id} exists; its generation is needed")
            if consumer_generation is not None and not exists:
                raise exception.ConsumerGenerationConflict(
                    reason=f"consumer {consumer_id} does not exist; expected null")
        pw.allocations_replace(self.api_url, consumer_id, allocations)

    def consumer_allocations_delete(self, ctx: Any, consumer_id: str) -> None:
        if not pq.consumer_allocations(self.api_url, consumer_id):
            raise exception.PlacementNotFound(
                what=f"No allocations for consumer '{consumer_id}'")
        pw.allocations_replace(self.api_url, consumer_id, {})

    def usages_for(self, ctx: Any, project_id: str, user_id: Optional[str] = None
                   ) -> dict:
        """{"all": {rc: amount}, "count": consumers, "by_type": {type: {"count", rc...}}}
        over the project's (and user's) instances and their moves in progress."""
        instances = _project_consumers(self.api_url, project_id, user_id)
        moves: list[str] = []
        wanted = set(instances)
        for cell in self.cells.real_cells():
            for mig in mig_db.migration_list(cell["database_connection"], in_progress=True):
                if mig.instance_uuid in wanted:
                    moves.append(mig.uuid)
        totals = pq.usage_totals(self.api_url, instances + moves)
        out: dict[str, Any] = {"all": {}, "count": 0, "by_type": {}}
        for consumer, resources in totals.items():
            kind = "MIGRATION" if consumer in moves else "INSTANCE"
            group = out["by_type"].setdefault(kind, {"count": 0, "resources": {}})
            group["count"] += 1
            out["count"] += 1
            for rc, amount in resources.items():
                out["all"][rc] = out["all"].get(rc, 0) + amount
                group["resources"][rc] = group["resources"].get(rc, 0) + amount
        return out

    # -- allocation candidates ------------------------------------------------------------
    def allocation_candidates(self, ctx: Any, filters: dict, limit: Optional[int] = None
                              ) -> list:
        return pq.allocation_candidates(self.api_url, filters, limit)
