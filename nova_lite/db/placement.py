"""Placement-style resource accounting in the API database.

A claim writes allocations against one provider and bumps the provider's generation
with a compare-and-swap, inside one transaction that re-checks capacity and the
provider's traits. Two claims on the same host can therefore never both succeed past its
capacity, whichever scheduler thread or process made them: the loser of the swap
re-reads and re-checks, and gets ResourceClaimConflict only if the host is then full.

A member of an affinity or anti-affinity server group also swaps its group's generation
in the same transaction after checking where the other members hold allocations, so two
members claimed at once on different hosts cannot both pass a check that only one of
them would pass after the other (GroupPolicyConflict for the loser).
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db import cells
from nova_lite.db import server_groups
from nova_lite.db.engine import reading, transactional

RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")


@transactional
def provider_ensure(session: Session, name: str, host: str, cell_uuid: Optional[str],
                    inventories: dict, uuid: Optional[str] = None) -> str:
    """Create or update the provider ``name`` and its inventories; return its uuid.

    inventories: {resource_class: {"total", "reserved", "allocation_ratio"}}.
    """
    rp = session.scalars(sa.select(m.ResourceProvider).where(
        m.ResourceProvider.name == name)).first()
    if rp is None:
        rp = m.ResourceProvider(uuid=uuid or str(uuidlib.uuid4()), name=name, host=host,
                                cell_uuid=cell_uuid, generation=0)
        session.add(rp)
        session.flush()
        # A host already in host aggregates: its new provider is a member of them too.
        for agg_uuid in session.scalars(
                sa.select(m.Aggregate.uuid).join(
                    m.AggregateHost, m.AggregateHost.aggregate_id == m.Aggregate.id)
                .where(m.AggregateHost.host == host)):
            session.add(m.ResourceProviderAggregate(resource_provider_id=rp.id,
                                                    aggregate_uuid=agg_uuid))
    elif rp.cell_uuid != cell_uuid and cell_uuid is not None:
        rp.cell_uuid = cell_uuid
    current = {inv.resource_class: inv for inv in session.scalars(
        sa.select(m.Inventory).where(m.Inventory.resource_provider_id == rp.id))}
    changed = False
    for rc, inv in inventories.items():
        row = current.get(rc)
        if row is None:
            session.add(m.Inventory(resource_provider_id=rp.id, resource_class=rc, **inv))
            changed = True
        elif (row.total, row.reserved, row.allocation_ratio) != (
                inv["total"], inv["reserved"], inv["allocation_ratio"]):
            row.total, row.reserved = inv["total"], inv["reserved"]
            row.allocation_ratio = inv["allocation_ratio"]
            changed = True
    if changed:
        # In SQL, not from the value read above: a claim committed meanwhile must not
        # be overwritten with the same generation (its CAS would then miss this change).
        rp.generation = m.ResourceProvider.generation + 1
    return rp.uuid


def _trait_ids(session: Session, names: list[str]) -> dict[str, int]:
    """Ids of the named traits, creating the missing ones."""
    have = dict(session.execute(sa.select(m.Trait.name, m.Trait.id)
                                .where(m.Trait.name.in_(names))).all())
    for name in names:
        if name not in have:
            trait = m.Trait(name=name)
            session.add(trait)
            session.flush()
            have[name] = trait.id
    return have


@transactional
def provider_traits_set(session: Session, name: str, traits: list[str],
                        keep_custom: bool = False) -> bool:
    """Make the provider's traits exactly ``traits`` (with ``keep_custom``, plus the
    CUSTOM_ ones it has: an operator's, set through the Placement API, which a compute
    reporting its own traits must not drop); True when they changed (the generation
    moves then, as a Placement trait update does)."""
    rp = session.scalars(sa.select(m.ResourceProvider).where(
        m.ResourceProvider.name == name)).first()
    if rp is None:
        raise exception.NotFound(message=f"Resource provider {name} could not be found.")
    current = dict(session.execute(
        sa.select(m.Trait.name, m.ResourceProviderTrait.id)
        .join(m.ResourceProviderTrait, m.ResourceProviderTrait.trait_id == m.Trait.id)
        .where(m.ResourceProviderTrait.resource_provider_id == rp.id)).all())
    wanted = set(traits)
    if keep_custom:
        wanted |= {t for t in current if t.startswith("CUSTOM_")}
    if wanted == set(current):
        return False
    gone = [link for trait, link in current.items() if trait not in wanted]
    if gone:
        session.execute(sa.delete(m.ResourceProviderTrait).where(
            m.ResourceProviderTrait.id.in_(gone)))
    new = sorted(wanted - set(current))
    for trait_id in _trait_ids(session, new).values():
        session.add(m.ResourceProviderTrait(resource_provider_id=rp.id, trait_id=trait_id))
    rp.generation = m.ResourceProvider.generation + 1
    return True


def _traits_of(session: Session, rp_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in rp_ids}
    if rp_ids:
        q = (sa.select(m.ResourceProviderTrait.resource_provider_id, m.Trait.name)
             .join(m.Trait, m.Trait.id == m.ResourceProviderTrait.trait_id)
             .where(m.ResourceProviderTrait.resource_provider_id.in_(rp_ids))
             .order_by(m.Trait.name))
        for rp_id, name in session.execute(q):
            out[rp_id].append(name)
    return out


@transactional
def provider_generations(session: Session) -> dict[str, tuple[int, str]]:
    """uuid -> (generation, host) of every provider: the generation moves with every
    change of what a provider offers or holds (its claims' compare-and-swap relies on
    that), so it tells a reader which of the providers it knows changed."""
    return {u: (g, h) for u, g, h in session.execute(sa.select(
        m.ResourceProvider.uuid, m.ResourceProvider.generation, m.ResourceProvider.host))}


@reading
def provider_summaries(session: Session, hosts: Optional[list[str]] = None,
                       uuids: Optional[list[str]] = None) -> list[dict]:
    """Every provider (of ``hosts``, or ``uuids``) with inventory, current usage and
    traits, in one pass."""
    q = sa.select(m.ResourceProvider)
    if hosts is not None:
        q = q.where(m.ResourceProvider.host.in_(hosts))
    if uuids is not None:
        q = q.where(m.ResourceProvider.uuid.in_(uuids))
    rps = {rp.id: rp for rp in session.scalars(q)}
    if not rps:
        return []
    traits = _traits_of(session, list(rps))
    out = {rp_id: {"uuid": rp.uuid, "name": rp.name, "host": rp.host,
                   "cell_uuid": rp.cell_uuid, "generation": rp.generation, "resources": {},
                   "traits": traits[rp_id]}
           for rp_id, rp in rps.items()}
    for inv in session.scalars(sa.select(m.Inventory).where(
            m.Inventory.resource_provider_id.in_(rps))):
        out[inv.resource_provider_id]["resources"][inv.resource_class] = {
            "total": inv.total, "reserved": inv.reserved,
            "allocation_ratio": inv.allocation_ratio, "used": 0}
    usage = session.execute(
        sa.select(m.Allocation.resource_provider_id, m.Allocation.resource_class,
                  sa.func.sum(m.Allocation.used))
        .where(m.Allocation.resource_provider_id.in_(rps))
        .group_by(m.Allocation.resource_provider_id, m.Allocation.resource_class))
    for rp_id, rc, used in usage:
        res = out[rp_id]["resources"].get(rc)
        if res is not None:
            res["used"] = int(used or 0)
    return list(out.values())


# Attempts of a claim whose compare-and-swap lost to a concurrent change of the provider.
# Each loss means another transaction committed, so the claim still makes progress.
CLAIM_CAS_ATTEMPTS = 32


@transactional
def claim(session: Session, provider_uuid: str, consumer_id: str, resources: dict,
          required_traits: Optional[list[str]] = None,
          forbidden_traits: Optional[list[str]] = None,
          build_lease: Optional[str] = None) -> int:
    """Allocate resources to consumer_id on the provider, atomically; return new generation.

    ``build_lease`` (a build's claims): the lease stamp of the attempt claiming. Unless the
    consumer's build request still carries it, ClaimSuperseded: a claim that reaches the
    database late (its reply lost in a message bus outage, its caller long gone) can
    never overwrite the claim of the attempt that replaced it, nor outlive the build.

    Raises ResourceClaimConflict if capacity is short, TraitsConflict if the provider
    lacks a required trait or has a forbidden one, GroupPolicyConflict if the consumer's
    server group forbids this host. A concurrent change of the provider (another claim,
    a release, an inventory update) or of the group makes the claim re-read and re-check.
    """
    if build_lease is not None:
        _check_lease(session, consumer_id, datetime.fromisoformat(build_lease))
    for _attempt in range(CLAIM_CAS_ATTEMPTS):
        generation = _try_claim(session, provider_uuid, consumer_id, resources,
                                required_traits or [], forbidden_traits or [])
        if generation is not None:
            return generation
    raise exception.ResourceClaimConflict(provider=provider_uuid)


# The claim's statements, built once: building a statement in SQLAlchemy (coercing
# every operand) costs more Python than the database spends running it, and a claim is
# made for every server scheduled. Values are bound per execution.
_LEASE_STAMP = (sa.select(m.BuildRequest.updated_at)
                .where(m.BuildRequest.instance_uuid == sa.bindparam("consumer"))
                .with_for_update())
# The provider, its inventories and their usage by others (the consumer's own earlier
# allocation is replaced by the claim, so it does not count).
_USED_BY_OTHERS = (
    sa.select(sa.func.coalesce(sa.func.sum(m.Allocation.used), 0))
    .where(m.Allocation.resource_provider_id == m.ResourceProvider.id,
           m.Allocation.resource_class == m.Inventory.resource_class,
           m.Allocation.consumer_id != sa.bindparam("consumer"))
    .scalar_subquery())
_PROVIDER_ROWS = (
    sa.select(m.ResourceProvider.id, m.ResourceProvider.generation, m.ResourceProvider.host,
              m.Inventory.resource_class, m.Inventory.total, m.Inventory.reserved,
              m.Inventory.allocation_ratio, _USED_BY_OTHERS)
    .outerjoin(m.Inventory, m.Inventory.resource_provider_id == m.ResourceProvider.id)
    .where(m.ResourceProvider.uuid == sa.bindparam("provider")))
_GENERATION_SWAP = (
    sa.update(m.ResourceProvider)
    .where(m.ResourceProvider.id == sa.bindparam("rp_id"),
           m.ResourceProvider.generation == sa.bindparam("generation"))
    .values(generation=sa.bindparam("generation") + 1))
_CONSUMER_DROP = sa.delete(m.Allocation).where(
    m.Allocation.consumer_id == sa.bindparam("consumer"))
_ALLOCATION_ADD = sa.insert(m.Allocation)


def _check_lease(session: Session, consumer_id: str, lease: datetime) -> None:
    """Lock the consumer's build request for this transaction and check its lease (a
    new attempt's lease waits for this claim to commit, and then replaces it)."""
    stamp = session.connection().scalar(_LEASE_STAMP, {"consumer": consumer_id})
    if not cells.same_lease(stamp, lease):
        raise exception.ClaimSuperseded(consumer=consumer_id)


def _try_claim(session: Session, provider_uuid: str, consumer_id: str, resources: dict,
               required_traits: list[str], forbidden_traits: list[str]) -> Optional[int]:
    """One read-check-swap round: the new generation, or None if the provider or the
    consumer's group changed."""
    # Plain columns, not ORM objects: a retry must see fresh values, not the session's
    # identity map (each statement reads the latest committed data under READ COMMITTED).
    # On the session's connection: these Core statements need none of the ORM's
    # handling, which costs as much again as the statement (same transaction).
    conn = session.connection()
    rows = conn.execute(_PROVIDER_ROWS, {"provider": provider_uuid,
                                         "consumer": consumer_id}).all()
    if not rows:
        raise exception.ResourceClaimConflict(provider=provider_uuid)
    rp_id, generation, host = rows[0][:3]
    if required_traits or forbidden_traits:
        have = set(_traits_of(session, [rp_id])[rp_id])
        if not set(required_traits) <= have or set(forbidden_traits) & have:
            raise exception.TraitsConflict(provider=provider_uuid)
    group = server_groups.claim_check(session, consumer_id, host)
    invs = {rc: (total, reserved, ratio, in_use)
            for _i, _g, _h, rc, total, reserved, ratio, in_use in rows if rc is not None}
    for rc, amount in resources.items():
        if amount <= 0:
            continue
        if rc not in invs:
            raise exception.ResourceClaimConflict(provider=provider_uuid)
        total, reserved, ratio, in_use = invs[rc]
        if int(in_use) + amount > (total - reserved) * ratio:
            raise exception.ResourceClaimConflict(provider=provider_uuid)
    # The group's swap first: a loser there has not touched the provider yet.
    if group is not None and not server_groups.claim_swap(session, *group):
        return None
    # Compare-and-swap on the generation: any concurrent claim or inventory change that
    # committed since we read makes this match nothing, and we read again.
    res = conn.execute(_GENERATION_SWAP, {"rp_id": rp_id, "generation": generation})
    if res.rowcount != 1:
        return None
    # Replace any earlier allocation of this consumer (a claim is idempotent per consumer).
    conn.execute(_CONSUMER_DROP, {"consumer": consumer_id})
    allocations = [{"resource_provider_id": rp_id, "consumer_id": consumer_id,
                    "resource_class": rc, "used": amount}
                   for rc, amount in resources.items() if amount > 0]
    if allocations:
        conn.execute(_ALLOCATION_ADD, allocations)
    return generation + 1


@transactional
def release(session: Session, consumer_id: str) -> int:
    """Drop every allocation of consumer_id; return how many rows went."""
    return release_in(session, consumer_id)


@transactional
def release_if_leased(session: Session, consumer_id: str, lease: datetime) -> bool:
    """Drop consumer_id's allocations only while its build request still carries
    ``lease``: a build attempt that gives up (its scheduler's answer came too late) must
    not drop the claim of the attempt that took the build over meanwhile. Whether it
    dropped them."""
    try:
        _check_lease(session, consumer_id, lease)
    except exception.ClaimSuperseded:
        return False
    release_in(session, consumer_id)
    return True


def release_in(session: Session, consumer_id: str) -> int:
    """As release, in the caller's transaction."""
    rp_ids = list(session.scalars(sa.select(m.Allocation.resource_provider_id).where(
        m.Allocation.consumer_id == consumer_id).distinct()))
    res = session.execute(sa.delete(m.Allocation).where(m.Allocation.consumer_id == consumer_id))
    if rp_ids:
        session.execute(sa.update(m.ResourceProvider).where(m.ResourceProvider.id.in_(rp_ids))
                        .values(generation=m.ResourceProvider.generation + 1))
    return res.rowcount


@transactional
def consumers_on_provider(session: Session, provider_name: str) -> list[str]:
    q = (sa.select(m.Allocation.consumer_id).distinct()
         .join(m.ResourceProvider, m.ResourceProvider.id == m.Allocation.resource_provider_id)
         .where(m.ResourceProvider.name == provider_name))
    return list(session.scalars(q))


@transactional
def move_allocations(session: Session, source_consumer: str, target_consumer: str) -> int:
    """Hand every allocation of source_consumer to target_consumer, replacing whatever
    target_consumer held, in one transaction; return how many rows moved.

    A move in progress parks the instance's claim on the source node under the move's
    own uuid (so the instance's uuid can claim the destination), and a revert hands it
    back. Nothing happens when source_consumer holds nothing, so replaying a move that
    already happened changes nothing.
    """
    moved = session.execute(sa.select(m.Allocation.id, m.Allocation.resource_provider_id)
                            .where(m.Allocation.consumer_id == source_consumer)).all()
    if not moved:
        return 0
    replaced = session.execute(sa.select(m.Allocation.resource_provider_id).where(
        m.Allocation.consumer_id == target_consumer)).all()
    session.execute(sa.delete(m.Allocation).where(m.Allocation.consumer_id == target_consumer))
    session.execute(sa.update(m.Allocation).where(m.Allocation.consumer_id == source_consumer)
                    .values(consumer_id=target_consumer))
    rp_ids = {r[1] for r in moved} | {r[0] for r in replaced}
    # Usage changed on these providers: a concurrent claim's compare-and-swap must miss.
    session.execute(sa.update(m.ResourceProvider).where(m.ResourceProvider.id.in_(rp_ids))
                    .values(generation=m.ResourceProvider.generation + 1))
    return len(moved)


@transactional
def consumer_allocations(session: Session, consumer_id: str) -> dict[str, dict[str, int]]:
    """{provider uuid: {resource class: amount}} held by consumer_id."""
    out: dict[str, dict[str, int]] = {}
    for uuid, rc, used in session.execute(
            sa.select(m.ResourceProvider.uuid, m.Allocation.resource_class, m.Allocation.used)
            .join(m.ResourceProvider, m.ResourceProvider.id == m.Allocation.resource_provider_id)
            .where(m.Allocation.consumer_id == consumer_id)):
        out.setdefault(uuid, {})[rc] = used
    return out


@transactional
def host_trait_switch(session: Session, host: str, trait: str, on: bool) -> int:
    """Add (``on``) or remove ``trait`` on every provider of ``host``; return how many
    changed (their generations move, as a Placement trait update's do)."""
    rps = list(session.scalars(sa.select(m.ResourceProvider).where(
        m.ResourceProvider.host == host)))
    if not rps:
        return 0
    trait_id = _trait_ids(session, [trait])[trait]
    have = set(session.scalars(sa.select(m.ResourceProviderTrait.resource_provider_id).where(
        m.ResourceProviderTrait.trait_id == trait_id,
        m.ResourceProviderTrait.resource_provider_id.in_([rp.id for rp in rps]))))
    changed = [rp for rp in rps if (rp.id in have) != on]
    for rp in changed:
        if on:
            session.add(m.ResourceProviderTrait(resource_provider_id=rp.id, trait_id=trait_id))
        else:
            session.execute(sa.delete(m.ResourceProviderTrait).where(
                m.ResourceProviderTrait.resource_provider_id == rp.id,
                m.ResourceProviderTrait.trait_id == trait_id))
        rp.generation = m.ResourceProvider.generation + 1
    return len(changed)
