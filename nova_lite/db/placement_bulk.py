"""The claims of one request's instances in one transaction (a max_count boot's).

Claimed one by one (db/placement.claim), 100 instances cost some 800 statements. Here
the providers named are locked in uuid order (SELECT ... FOR UPDATE, so two such
transactions never wait on each other crosswise), their inventories, usage and traits
read in one statement each, every claim checked in turn against what the earlier ones
took, and the accepted ones written in a handful of statements: one generation bump per
provider, the consumers' earlier allocations replaced, the new ones inserted at once.

A concurrent single claim (db/placement.claim) still works: its compare-and-swap on a
locked provider waits for this transaction and then sees the moved generation. Members
of a server group with a hard policy are claimed one by one after the others (their
check reads where the other members hold allocations, this call's included).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db import cells
from nova_lite.db import placement
from nova_lite.db.engine import transactional


@transactional
def claim_many(session: Session, claims: list[tuple[str, str]], resources: dict,
               required_traits: Optional[list[str]] = None,
               forbidden_traits: Optional[list[str]] = None,
               build_lease: Optional[str] = None) -> list[Optional[str]]:
    """Claim ``resources`` for each (provider_uuid, consumer_id), each as atomic and as
    checked as placement.claim's; per claim None (claimed) or the name of the conflict
    that refused it (ResourceClaimConflict, TraitsConflict, GroupPolicyConflict), in
    the order given. ``build_lease``: unless every consumer's build request still
    carries it, ClaimSuperseded and nothing is claimed."""
    consumers = [c for _p, c in claims]
    if build_lease is not None:
        _check_leases(session, consumers, datetime.fromisoformat(build_lease))
    grouped = set(session.scalars(
        sa.select(m.InstanceGroupMember.instance_uuid)
        .join(m.InstanceGroup, m.InstanceGroup.id == m.InstanceGroupMember.group_id)
        .where(m.InstanceGroupMember.instance_uuid.in_(consumers),
               m.InstanceGroup.policy.in_(("affinity", "anti-affinity")))))
    results: dict[int, Optional[str]] = {}
    plain = [i for i, (_p, c) in enumerate(claims) if c not in grouped]
    if plain:
        results.update(zip(plain, _claim_plain(
            session, [claims[i] for i in plain], resources, required_traits or [],
            forbidden_traits or [])))
    for i in sorted((i for i in range(len(claims)) if i not in results),
                    key=lambda i: claims[i][0]):
        results[i] = _claim_one(session, *claims[i], resources, required_traits or [],
                                forbidden_traits or [])
    return [results[i] for i in range(len(claims))]


def _check_leases(session: Session, consumers: list[str], lease: datetime) -> None:
    """Lock the consumers' build requests and check they carry ``lease`` (as
    placement's _check_lease does for one)."""
    stamps = cells.leases_of(session, consumers)
    for consumer in consumers:
        if not cells.same_lease(stamps.get(consumer), lease):
            raise exception.ClaimSuperseded(consumer=consumer)


def _claim_one(session: Session, provider_uuid: str, consumer_id: str, resources: dict,
               required: list[str], forbidden: list[str]) -> Optional[str]:
    try:
        for _attempt in range(placement.CLAIM_CAS_ATTEMPTS):
            if placement._try_claim(session, provider_uuid, consumer_id, resources,
                                    required, forbidden) is not None:
                session.flush()  # the group's next member sees this claim
                return None
        raise exception.ResourceClaimConflict(provider=provider_uuid)
    except exception.ResourceClaimConflict as err:
        return type(err).__name__


def _claim_plain(session: Session, claims: list[tuple[str, str]], resources: dict,
                 required: list[str], forbidden: list[str]) -> list[Optional[str]]:
    """Claims of consumers in no hard-policy group, set-based (module docstring)."""
    wanted = sorted({p for p, _c in claims})
    rps = {u: (i, g) for i, u, g in session.execute(
        sa.select(m.ResourceProvider.id, m.ResourceProvider.uuid,
                  m.ResourceProvider.generation)
        .where(m.ResourceProvider.uuid.in_(wanted))
        .order_by(m.ResourceProvider.uuid).with_for_update())}
    ids = [i for i, _g in rps.values()]
    capacity: dict[tuple[int, str], float] = {}
    for rp_id, rc, total, reserved, ratio in session.execute(
            sa.select(m.Inventory.resource_provider_id, m.Inventory.resource_class,
                      m.Inventory.total, m.Inventory.reserved, m.Inventory.allocation_ratio)
            .where(m.Inventory.resource_provider_id.in_(ids))):
        capacity[(rp_id, rc)] = (total - reserved) * ratio
    used: dict[tuple[int, str], int] = {
        (rp_id, rc): int(amount or 0) for rp_id, rc, amount in session.execute(
            sa.select(m.Allocation.resource_provider_id, m.Allocation.resource_class,
                      sa.func.sum(m.Allocation.used))
            .where(m.Allocation.resource_provider_id.in_(ids))
            .group_by(m.Allocation.resource_provider_id, m.Allocation.resource_class))}
    consumers = [c for _p, c in claims]
    # What each consumer holds already: replaced by its claim (a claim is idempotent).
    held: dict[str, list[tuple[int, str, int]]] = {}
    for consumer, rp_id, rc, amount in session.execute(
            sa.select(m.Allocation.consumer_id, m.Allocation.resource_provider_id,
                      m.Allocation.resource_class, m.Allocation.used)
            .where(m.Allocation.consumer_id.in_(consumers))):
        held.setdefault(consumer, []).append((rp_id, rc, amount))
    traits = placement._traits_of(session, ids) if (required or forbidden) else {}
    asked = [(rc, amount) for rc, amount in resources.items() if amount > 0]
    out: list[Optional[str]] = []
    accepted: dict[str, int] = {}  # consumer -> provider id (a repeat replaces)
    for provider_uuid, consumer in claims:
        if provider_uuid not in rps:
            out.append("ResourceClaimConflict")
            continue
        rp_id = rps[provider_uuid][0]
        if required or forbidden:
            have = set(traits[rp_id])
            if not set(required) <= have or set(forbidden) & have:
                out.append("TraitsConflict")
                continue
        mine = {(i, rc): a for i, rc, a in held.get(consumer, ())}
        if any((rp_id, rc) not in capacity
               or used.get((rp_id, rc), 0) - mine.get((rp_id, rc), 0) + amount
               > capacity[(rp_id, rc)] for rc, amount in asked):
            out.append("ResourceClaimConflict")
            continue
        for key, amount in mine.items():
            used[key] = used.get(key, 0) - amount
        for rc, amount in asked:
            used[(rp_id, rc)] = used.get((rp_id, rc), 0) + amount
        held[consumer] = [(rp_id, rc, amount) for rc, amount in asked]
        accepted[consumer] = rp_id
        out.append(None)
    if accepted:
        session.execute(sa.update(m.ResourceProvider)
                        .where(m.ResourceProvider.id.in_(set(accepted.values())))
                        .values(generation=m.ResourceProvider.generation + 1)
                        .execution_options(synchronize_session=False))
        session.execute(sa.delete(m.Allocation).where(
            m.Allocation.consumer_id.in_(list(accepted)))
            .execution_options(synchronize_session=False))
        now = datetime.utcnow()
        session.execute(sa.insert(m.Allocation), [
            {"resource_provider_id": rp_id, "consumer_id": consumer, "resource_class": rc,
             "used": amount, "created_at": now}
            for consumer, rp_id in accepted.items() for rc, amount in asked])
    return out
