"""Reads behind the Placement API: providers by filter, their inventories, usages,
traits, aggregates and allocations, consumers' allocations, and allocation candidates.

Providers here are the compute nodes' (one tree each: a provider is its own root). The
capacity of a resource class is Placement's: (total - reserved) * allocation_ratio.
"""

from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import transactional


def provider_row(session: Session, uuid: str) -> m.ResourceProvider:
    rp = session.scalars(sa.select(m.ResourceProvider).where(
        m.ResourceProvider.uuid == uuid)).first()
    if rp is None:
        raise exception.ResourceProviderNotFound(uuid=uuid)
    return rp


def _view(rp: m.ResourceProvider) -> dict:
    return {"uuid": rp.uuid, "name": rp.name, "generation": rp.generation, "host": rp.host}


def inventories_of(session: Session, rp_ids: list[int]) -> dict[int, dict[str, dict]]:
    out: dict[int, dict[str, dict]] = {i: {} for i in rp_ids}
    if rp_ids:
        for inv in session.scalars(sa.select(m.Inventory).where(
                m.Inventory.resource_provider_id.in_(rp_ids))):
            out[inv.resource_provider_id][inv.resource_class] = {
                "total": inv.total, "reserved": inv.reserved,
                "allocation_ratio": inv.allocation_ratio, "min_unit": 1,
                "max_unit": inv.total, "step_size": 1}
    return out


def usages_of(session: Session, rp_ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {i: {} for i in rp_ids}
    if rp_ids:
        for rp_id, rc, used in session.execute(
                sa.select(m.Allocation.resource_provider_id, m.Allocation.resource_class,
                          sa.func.sum(m.Allocation.used))
                .where(m.Allocation.resource_provider_id.in_(rp_ids))
                .group_by(m.Allocation.resource_provider_id, m.Allocation.resource_class)):
            out[rp_id][rc] = int(used or 0)
    return out


def traits_of(session: Session, rp_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in rp_ids}
    if rp_ids:
        for rp_id, name in session.execute(
                sa.select(m.ResourceProviderTrait.resource_provider_id, m.Trait.name)
                .join(m.Trait, m.Trait.id == m.ResourceProviderTrait.trait_id)
                .where(m.ResourceProviderTrait.resource_provider_id.in_(rp_ids))
                .order_by(m.Trait.name)):
            out[rp_id].append(name)
    return out


def aggregates_of(session: Session, rp_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in rp_ids}
    if rp_ids:
        for rp_id, agg in session.execute(
                sa.select(m.ResourceProviderAggregate.resource_provider_id,
                          m.ResourceProviderAggregate.aggregate_uuid)
                .where(m.ResourceProviderAggregate.resource_provider_id.in_(rp_ids))
                .order_by(m.ResourceProviderAggregate.aggregate_uuid)):
            out[rp_id].append(agg)
    return out


def capacity(inv: dict) -> int:
    return int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])


def _fits(invs: dict[str, dict], used: dict[str, int], resources: dict[str, int]) -> bool:
    for rc, amount in resources.items():
        inv = invs.get(rc)
        if inv is None or amount > inv["max_unit"]:
            return False
        if used.get(rc, 0) + amount > capacity(inv):
            return False
    return True


def _traits_match(have: set[str], required: list[list[str]], forbidden: list[str]) -> bool:
    """``required``: groups of which each needs one trait (a plain trait is a group of
    one; ``in:A,B`` from 1.39 a group of several)."""
    return all(have & set(group) for group in required) and not have & set(forbidden)


def _matching(session: Session, filters: dict) -> list[m.ResourceProvider]:
    """Providers passing ``filters``: name, uuid, member_of ([{"any": [...], "not":
    bool}]), resources ({rc: amount}), required ([[trait, ...]]), forbidden ([trait])."""
    q = sa.select(m.ResourceProvider).order_by(m.ResourceProvider.id)
    if filters.get("name") is not None:
        q = q.where(m.ResourceProvider.name == filters["name"])
    if filters.get("uuid") is not None:
        q = q.where(m.ResourceProvider.uuid == filters["uuid"])
    for group in filters.get("member_of") or []:
        members = (sa.select(m.ResourceProviderAggregate.resource_provider_id)
                   .where(m.ResourceProviderAggregate.aggregate_uuid.in_(group["any"])))
        q = q.where(m.ResourceProvider.id.not_in(members) if group.get("not")
                    else m.ResourceProvider.id.in_(members))
    rps = list(session.scalars(q))
    resources = filters.get("resources") or {}
    required = filters.get("required") or []
    forbidden = filters.get("forbidden") or []
    if not (resources or required or forbidden):
        return rps
    ids = [rp.id for rp in rps]
    invs, used = inventories_of(session, ids), usages_of(session, ids)
    traits = traits_of(session, ids)
    return [rp for rp in rps
            if _fits(invs[rp.id], used[rp.id], resources)
            and _traits_match(set(traits[rp.id]), required, forbidden)]


@transactional
def provider_list(session: Session, filters: dict) -> list[dict]:
    return [_view(rp) for rp in _matching(session, filters)]


@transactional
def provider_get(session: Session, uuid: str) -> dict:
    return _view(provider_row(session, uuid))


@transactional
def provider_detail(session: Session, uuid: str, what: str) -> dict:
    """The provider's generation and one of: inventories, usages, traits, aggregates,
    allocations ({consumer: {rc: amount}})."""
    rp = provider_row(session, uuid)
    out: dict[str, Any] = {"generation": rp.generation}
    if what == "inventories":
        out[what] = inventories_of(session, [rp.id])[rp.id]
    elif what == "usages":
        invs = inventories_of(session, [rp.id])[rp.id]
        used = usages_of(session, [rp.id])[rp.id]
        out[what] = {rc: used.get(rc, 0) for rc in invs} | used
    elif what == "traits":
        out[what] = traits_of(session, [rp.id])[rp.id]
    elif what == "aggregates":
        out[what] = aggregates_of(session, [rp.id])[rp.id]
    elif what == "allocations":
        allocs: dict[str, dict[str, int]] = {}
        for consumer, rc, used in session.execute(
                sa.select(m.Allocation.consumer_id, m.Allocation.resource_class,
                          m.Allocation.used)
                .where(m.Allocation.resource_provider_id == rp.id)
                .order_by(m.Allocation.consumer_id)):
            allocs.setdefault(consumer, {})[rc] = used
        out[what] = allocs
    else:
        raise ValueError(what)
    return out


@transactional
def consumer_allocations(session: Session, consumer_id: str) -> dict[str, dict]:
    """{provider uuid: {"generation": n, "resources": {rc: amount}}}."""
    out: dict[str, dict] = {}
    for uuid, gen, rc, used in session.execute(
            sa.select(m.ResourceProvider.uuid, m.ResourceProvider.generation,
                      m.Allocation.resource_class, m.Allocation.used)
            .join(m.ResourceProvider, m.ResourceProvider.id == m.Allocation.resource_provider_id)
            .where(m.Allocation.consumer_id == consumer_id)):
        out.setdefault(uuid, {"generation": gen, "resources": {}})["resources"][rc] = used
    return out


@transactional
def usage_totals(session: Session, consumer_ids: list[str]) -> dict[str, dict]:
    """{consumer: {rc: amount}} over every provider, for the consumers given."""
    out: dict[str, dict] = {}
    for chunk in range(0, len(consumer_ids), 500):
        ids = consumer_ids[chunk:chunk + 500]
        for consumer, rc, used in session.execute(
                sa.select(m.Allocation.consumer_id, m.Allocation.resource_class,
                          sa.func.sum(m.Allocation.used))
                .where(m.Allocation.consumer_id.in_(ids))
                .group_by(m.Allocation.consumer_id, m.Allocation.resource_class)):
            out.setdefault(consumer, {})[rc] = int(used or 0)
    return out


@transactional
def resource_classes_in_use(session: Session) -> list[str]:
    """Classes some inventory or allocation names (custom ones among them)."""
    names = set(session.scalars(sa.select(m.Inventory.resource_class).distinct()))
    names |= set(session.scalars(sa.select(m.Allocation.resource_class).distinct()))
    return sorted(names)


@transactional
def trait_names(session: Session, associated: Optional[bool] = None) -> list[str]:
    """Traits recorded in the database; ``associated``: only those some provider has
    (True) or none has (False)."""
    q = sa.select(m.Trait.name).order_by(m.Trait.name)
    linked = sa.select(m.ResourceProviderTrait.trait_id)
    if associated is True:
        q = q.where(m.Trait.id.in_(linked))
    elif associated is False:
        q = q.where(m.Trait.id.not_in(linked))
    return list(session.scalars(q))


@transactional
def allocation_candidates(session: Session, filters: dict, limit: Optional[int] = None
                          ) -> list[dict]:
    """Providers that can take ``filters["resources"]`` whole, with their inventories,
    usages and traits: [{"uuid", "generation", "inventories", "usages", "traits"}]."""
    rps = _matching(session, filters)
    if limit is not None:
        rps = rps[:limit]
    ids = [rp.id for rp in rps]
    invs, used = inventories_of(session, ids), usages_of(session, ids)
    traits = traits_of(session, ids)
    return [{"uuid": rp.uuid, "generation": rp.generation, "inventories": invs[rp.id],
             "usages": used[rp.id], "traits": traits[rp.id]} for rp in rps]


@transactional
def all_allocations(session: Session) -> list[dict]:
    """Every allocation grouped by (consumer, provider), for the audit:
    [{"consumer_id", "provider_uuid", "provider_name", "host", "resources"}]."""
    grouped: dict[tuple[str, str], dict] = {}
    for consumer, uuid, name, host, rc, used in session.execute(
            sa.select(m.Allocation.consumer_id, m.ResourceProvider.uuid,
                      m.ResourceProvider.name, m.ResourceProvider.host,
                      m.Allocation.resource_class, m.Allocation.used)
            .join(m.ResourceProvider, m.ResourceProvider.id == m.Allocation.resource_provider_id)
            .order_by(m.Allocation.consumer_id)):
        row = grouped.setdefault((consumer, uuid), {
            "consumer_id": consumer, "provider_uuid": uuid, "provider_name": name,
            "host": host, "resources": {}})
        row["resources"][rc] = used
    return list(grouped.values())


@transactional
def all_providers(session: Session) -> list[dict]:
    return [_view(rp) for rp in session.scalars(
        sa.select(m.ResourceProvider).order_by(m.ResourceProvider.id))]
