"""Writes behind the Placement API: a provider's inventories, traits and aggregates, a
consumer's allocations, custom traits, and the audit's removals.

Every change of what a provider offers or holds moves its generation with a
compare-and-swap, as the scheduler's claims do (see placement.py), so a writer that read
an older generation gets a conflict instead of overwriting a change it never saw.
"""

from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db import placement_query as q
from nova_lite.db.engine import transactional


def _bump(session: Session, rp: m.ResourceProvider, expected: Optional[int]) -> int:
    """Move the provider's generation on with a compare-and-swap against the generation
    read when ``rp`` was loaded, at the start of the caller's checks (and against
    ``expected``, the client's, when given): a claim or any change committed since then
    makes this a conflict instead of a write based on stale usage."""
    seen = rp.generation
    if expected is not None and expected != seen:
        raise exception.ProviderGenerationConflict(uuid=rp.uuid, current=seen,
                                                   expected=expected)
    res = session.execute(sa.update(m.ResourceProvider).where(
        m.ResourceProvider.id == rp.id, m.ResourceProvider.generation == seen)
        .values(generation=seen + 1).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise exception.ProviderGenerationConflict(uuid=rp.uuid, current="newer",
                                                   expected=seen)
    return seen + 1


@transactional
def inventories_set(session: Session, uuid: str, generation: int,
                    inventories: dict[str, dict], replace: bool = True) -> int:
    """Set the provider's inventories (all of them with ``replace``, else only the classes
    given); a class dropped while allocated is refused. The new generation."""
    rp = q.provider_row(session, uuid)
    current = {inv.resource_class: inv for inv in session.scalars(
        sa.select(m.Inventory).where(m.Inventory.resource_provider_id == rp.id))}
    gone = sorted(set(current) - set(inventories)) if replace else []
    used = q.usages_of(session, [rp.id])[rp.id]
    busy = [rc for rc in gone if used.get(rc)]
    if busy:
        raise exception.InventoryInUse(resource_classes=", ".join(busy), uuid=uuid)
    new_gen = _bump(session, rp, generation)
    for rc in gone:
        session.delete(current[rc])
    for rc, inv in inventories.items():
        row = current.get(rc)
        if row is None:
            row = m.Inventory(resource_provider_id=rp.id, resource_class=rc)
            session.add(row)
        row.total, row.reserved = inv["total"], inv.get("reserved", 0)
        row.allocation_ratio = inv.get("allocation_ratio", 1.0)
    return new_gen


@transactional
def inventory_delete(session: Session, uuid: str, resource_class: str) -> int:
    rp = q.provider_row(session, uuid)
    row = session.scalars(sa.select(m.Inventory).where(
        m.Inventory.resource_provider_id == rp.id,
        m.Inventory.resource_class == resource_class)).first()
    if row is None:
        raise exception.PlacementNotFound(
            what=f"No inventory of class {resource_class} for {uuid}")
    if q.usages_of(session, [rp.id])[rp.id].get(resource_class):
        raise exception.InventoryInUse(resource_classes=resource_class, uuid=uuid)
    new_gen = _bump(session, rp, None)
    session.delete(row)
    return new_gen


@transactional
def traits_set(session: Session, uuid: str, generation: int, traits: list[str]) -> int:
    """Make the provider's traits exactly ``traits`` (which must all exist)."""
    rp = q.provider_row(session, uuid)
    ids = dict(session.execute(sa.select(m.Trait.name, m.Trait.id)
                               .where(m.Trait.name.in_(traits))).all())
    new_gen = _bump(session, rp, generation)
    session.execute(sa.delete(m.ResourceProviderTrait).where(
        m.ResourceProviderTrait.resource_provider_id == rp.id))
    for name in sorted(set(traits)):
        session.add(m.ResourceProviderTrait(resource_provider_id=rp.id, trait_id=ids[name]))
    return new_gen


@transactional
def traits_ensure(session: Session, names: list[str]) -> list[str]:
    """Record the named traits; the ones that were not there before."""
    have = set(session.scalars(sa.select(m.Trait.name).where(m.Trait.name.in_(names))))
    new = sorted(set(names) - have)
    for name in new:
        session.add(m.Trait(name=name))
    return new


@transactional
def trait_delete(session: Session, name: str) -> None:
    trait = session.scalars(sa.select(m.Trait).where(m.Trait.name == name)).first()
    if trait is None:
        raise exception.PlacementNotFound(what=f"No such trait(s): {name}")
    if session.scalar(sa.select(m.ResourceProviderTrait.id).where(
            m.ResourceProviderTrait.trait_id == trait.id).limit(1)) is not None:
        raise exception.PlacementBadRequest(
            reason=f"The trait {name} is in use by a resource provider.")
    session.delete(trait)


@transactional
def aggregates_set(session: Session, uuid: str, generation: Optional[int],
                   aggregates: list[str]) -> int:
    rp = q.provider_row(session, uuid)
    new_gen = _bump(session, rp, generation)
    session.execute(sa.delete(m.ResourceProviderAggregate).where(
        m.ResourceProviderAggregate.resource_provider_id == rp.id))
    for agg in sorted(set(aggregates)):
        session.add(m.ResourceProviderAggregate(resource_provider_id=rp.id,
                                                aggregate_uuid=agg))
    return new_gen


@transactional
def allocations_replace(session: Session, consumer_id: str,
                        allocations: dict[str, dict[str, int]],
                        generations: Optional[dict[str, int]] = None) -> None:
    """Make ``consumer_id`` hold exactly ``allocations`` ({provider uuid: {rc:
    amount}}); an empty dict drops them all. Capacity is checked on every provider
    (the consumer's own earlier allocations not counting), every provider touched moves
    its generation (from ``generations[uuid]`` when given)."""
    # Every provider touched is read (with its generation) before any check.
    old = list(session.scalars(sa.select(m.ResourceProvider).where(
        m.ResourceProvider.id.in_(sa.select(m.Allocation.resource_provider_id)
                                  .where(m.Allocation.consumer_id == consumer_id)))))
    try:
        targets = {uuid: q.provider_row(session, uuid) for uuid in allocations}
    except exception.ResourceProviderNotFound as e:
        raise exception.PlacementBadRequest(
            reason=f"Allocation for resource provider '{e.kwargs['uuid']}' that does "
                   "not exist.") from None
    for uuid, resources in allocations.items():
        rp = targets[uuid]
        invs = q.inventories_of(session, [rp.id])[rp.id]
        used = dict(session.execute(
            sa.select(m.Allocation.resource_class, sa.func.sum(m.Allocation.used))
            .where(m.Allocation.resource_provider_id == rp.id,
                   m.Allocation.consumer_id != consumer_id)
            .group_by(m.Allocation.resource_class)).all())
        for rc, amount in resources.items():
            inv = invs.get(rc)
            if inv is None or amount > inv["max_unit"] or \
                    int(used.get(rc) or 0) + amount > q.capacity(inv):
                raise exception.AllocationCapacityExceeded(resource_class=rc, uuid=uuid)
    touched = {rp.id: rp for rp in old} | {rp.id: rp for rp in targets.values()}
    for rp in touched.values():
        _bump(session, rp, (generations or {}).get(rp.uuid))
    session.execute(sa.delete(m.Allocation).where(m.Allocation.consumer_id == consumer_id))
    for uuid, resources in allocations.items():
        for rc, amount in resources.items():
            if amount > 0:
                session.add(m.Allocation(resource_provider_id=targets[uuid].id,
                                         consumer_id=consumer_id, resource_class=rc,
                                         used=amount))


@transactional
def allocation_delete(session: Session, consumer_id: str, provider_uuid: str) -> int:
    """Drop the consumer's allocations on one provider (the audit's --delete)."""
    rp = q.provider_row(session, provider_uuid)
    res = session.execute(sa.delete(m.Allocation).where(
        m.Allocation.consumer_id == consumer_id,
        m.Allocation.resource_provider_id == rp.id))
    if res.rowcount:
        _bump(session, rp, None)
    return res.rowcount


@transactional
def provider_delete(session: Session, uuid: str) -> None:
    """Remove a provider with its inventories, traits, aggregates and allocations."""
    rp = q.provider_row(session, uuid)
    for model in (m.Allocation, m.Inventory, m.ResourceProviderTrait,
                  m.ResourceProviderAggregate):
        session.execute(sa.delete(model).where(model.resource_provider_id == rp.id))
    session.delete(rp)
