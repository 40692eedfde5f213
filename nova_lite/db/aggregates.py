"""Host aggregates in the API database, and the zones and metadata they give hosts.

Rules kept here, in the transaction that changes an aggregate: a host is in at most one
availability zone, and a zone may not change under hosts that already run servers there
(the servers' recorded zone would then be wrong).
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Callable, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import transactional
from nova_lite.objects.aggregate import Aggregate

AZ_KEY = "availability_zone"


def _objects(session: Session, rows: list[m.Aggregate]) -> list[Aggregate]:
    ids = [r.id for r in rows]
    hosts: dict[int, list[str]] = {i: [] for i in ids}
    meta: dict[int, dict] = {i: {} for i in ids}
    if ids:
        for agg_id, host in session.execute(
                sa.select(m.AggregateHost.aggregate_id, m.AggregateHost.host)
                .where(m.AggregateHost.aggregate_id.in_(ids)).order_by(m.AggregateHost.id)):
            hosts[agg_id].append(host)
        for agg_id, key, value in session.execute(
                sa.select(m.AggregateMetadata.aggregate_id, m.AggregateMetadata.key,
                          m.AggregateMetadata.value)
                .where(m.AggregateMetadata.aggregate_id.in_(ids))):
            meta[agg_id][key] = value
    return [Aggregate(id=r.id, uuid=r.uuid, name=r.name, hosts=hosts[r.id],
                      metadata=meta[r.id], created_at=r.created_at, updated_at=r.updated_at)
            for r in rows]


def _row(session: Session, agg_id: int, lock: bool = False) -> m.Aggregate:
    q = sa.select(m.Aggregate).where(m.Aggregate.id == agg_id)
    row = session.scalars(q.with_for_update() if lock else q).first()
    if row is None:
        raise exception.AggregateNotFound(aggregate_id=agg_id)
    return row


def _zones_of_hosts(session: Session, hosts: list[str], skip_aggregate: int
                    ) -> dict[str, set]:
    """host -> zones given to it by aggregates other than skip_aggregate."""
    q = (sa.select(m.AggregateHost.host, m.AggregateMetadata.value)
         .join(m.AggregateMetadata,
               m.AggregateMetadata.aggregate_id == m.AggregateHost.aggregate_id)
         .where(m.AggregateHost.host.in_(hosts), m.AggregateMetadata.key == AZ_KEY,
                m.AggregateHost.aggregate_id != skip_aggregate))
    out: dict[str, set] = {}
    for host, zone in session.execute(q):
        out.setdefault(host, set()).add(zone)
    return out


def _check_zone(session: Session, agg: m.Aggregate, hosts: list[str],
                zone: Optional[str], default_zone: str, action: str) -> None:
    """409 when giving ``hosts`` the zone ``zone`` (None: the default) would put one of
    them in two zones."""
    wanted = zone or default_zone
    for zones in _zones_of_hosts(session, hosts, agg.id).values():
        if zones and zones != {wanted}:
            raise exception.AggregateActionConflict(
                action=action, aggregate_id=agg.id,
                reason=f"One or more hosts already in availability zone(s) "
                       f"{sorted(zones)}")


def _metadata_set(session: Session, agg_id: int, values: dict) -> None:
    """Set keys (None deletes one)."""
    current = {r.key: r for r in session.scalars(sa.select(m.AggregateMetadata).where(
        m.AggregateMetadata.aggregate_id == agg_id))}
    for key, value in values.items():
        row = current.get(key)
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(m.AggregateMetadata(aggregate_id=agg_id, key=key, value=value))
        else:
            row.value = value


def _name_free(session: Session, name: str, except_id: Optional[int] = None) -> None:
    q = sa.select(m.Aggregate.id).where(m.Aggregate.name == name)
    if except_id is not None:
        q = q.where(m.Aggregate.id != except_id)
    if session.scalars(q).first() is not None:
        raise exception.AggregateNameExists(aggregate_name=name)


@transactional
def aggregate_create(session: Session, name: str, zone: Optional[str]) -> Aggregate:
    _name_free(session, name)
    row = m.Aggregate(uuid=str(uuidlib.uuid4()), name=name)
    session.add(row)
    session.flush()
    if zone:
        _metadata_set(session, row.id, {AZ_KEY: zone})
    session.flush()
    return _objects(session, [row])[0]


@transactional
def aggregate_get(session: Session, agg_id: int) -> Aggregate:
    return _objects(session, [_row(session, agg_id)])[0]


@transactional
def aggregate_list(session: Session) -> list[Aggregate]:
    return _objects(session, list(session.scalars(sa.select(m.Aggregate)
                                                   .order_by(m.Aggregate.id))))


@transactional
def aggregate_update(session: Session, agg_id: int, values: dict, default_zone: str,
                     hosts_with_servers: Callable[[list[str]], list[str]]) -> Aggregate:
    """Rename and/or re-zone (``metadata``: keys to set, None deleting) an aggregate."""
    row = _row(session, agg_id, lock=True)
    if values.get("name") is not None and values["name"] != row.name:
        _name_free(session, values["name"], row.id)
        row.name = values["name"]
    meta = dict(values.get("metadata") or {})
    if AZ_KEY in meta:
        hosts = list(session.scalars(sa.select(m.AggregateHost.host).where(
            m.AggregateHost.aggregate_id == row.id)))
        current = session.scalars(sa.select(m.AggregateMetadata.value).where(
            m.AggregateMetadata.aggregate_id == row.id,
            m.AggregateMetadata.key == AZ_KEY)).first()
        if hosts and meta[AZ_KEY] != current:
            _check_zone(session, row, hosts, meta[AZ_KEY], default_zone, "update")
            busy = hosts_with_servers(hosts)
            if busy:
                raise exception.AggregateActionConflict(
                    action="update", aggregate_id=row.id,
                    reason=f"One or more hosts contain instances in this zone: "
                           f"{', '.join(sorted(busy))}")
    _metadata_set(session, row.id, meta)
    row.updated_at = m._now()
    session.flush()
    return _objects(session, [row])[0]


@transactional
def aggregate_delete(session: Session, agg_id: int) -> None:
    row = _row(session, agg_id, lock=True)
    if session.scalars(sa.select(m.AggregateHost.id).where(
            m.AggregateHost.aggregate_id == row.id)).first() is not None:
        raise exception.AggregateActionConflict(
            action="delete", aggregate_id=row.id, reason="Host aggregate is not empty",
            code=400)
    session.execute(sa.delete(m.AggregateMetadata).where(
        m.AggregateMetadata.aggregate_id == row.id))
    session.delete(row)


@transactional
def host_add(session: Session, agg_id: int, host: str, default_zone: str) -> Aggregate:
    row = _row(session, agg_id, lock=True)
    if session.scalars(sa.select(m.AggregateHost.id).where(
            m.AggregateHost.aggregate_id == row.id, m.AggregateHost.host == host)).first():
        raise exception.AggregateHostExists(aggregate_id=agg_id, host=host)
    zone = session.scalars(sa.select(m.AggregateMetadata.value).where(
        m.AggregateMetadata.aggregate_id == row.id,
        m.AggregateMetadata.key == AZ_KEY)).first()
    if zone is not None:
        _check_zone(session, row, [host], zone, default_zone, "add")
    session.add(m.AggregateHost(aggregate_id=row.id, host=host))
    _mirror(session, row.uuid, host, add=True)
    session.flush()
    return _objects(session, [row])[0]


@transactional
def host_remove(session: Session, agg_id: int, host: str) -> Aggregate:
    row = _row(session, agg_id, lock=True)
    res = session.execute(sa.delete(m.AggregateHost).where(
        m.AggregateHost.aggregate_id == row.id, m.AggregateHost.host == host))
    if res.rowcount == 0:
        raise exception.AggregateHostNotFound(aggregate_id=agg_id, host=host)
    _mirror(session, row.uuid, host, add=False)
    return _objects(session, [row])[0]


def _mirror(session: Session, agg_uuid: str, host: str, add: bool) -> None:
    """The host's providers join (leave) the aggregate in Placement's terms too
    (``member_of``), as Nova mirrors host aggregates into Placement."""
    rps = list(session.scalars(sa.select(m.ResourceProvider.id).where(
        m.ResourceProvider.host == host)))
    if not rps:
        return
    have = set(session.scalars(sa.select(m.ResourceProviderAggregate.resource_provider_id)
                               .where(m.ResourceProviderAggregate.aggregate_uuid == agg_uuid,
                                      m.ResourceProviderAggregate.resource_provider_id.in_(
                                          rps))))
    if add:
        for rp_id in set(rps) - have:
            session.add(m.ResourceProviderAggregate(resource_provider_id=rp_id,
                                                    aggregate_uuid=agg_uuid))
    elif have:
        session.execute(sa.delete(m.ResourceProviderAggregate).where(
            m.ResourceProviderAggregate.aggregate_uuid == agg_uuid,
            m.ResourceProviderAggregate.resource_provider_id.in_(have)))
    changed = (set(rps) - have) if add else have
    if changed:
        session.execute(sa.update(m.ResourceProvider)
                        .where(m.ResourceProvider.id.in_(changed))
                        .values(generation=m.ResourceProvider.generation + 1))


@transactional
def host_views(session: Session) -> tuple[dict[str, str], dict[str, dict[str, list]]]:
    """(host -> zone, host -> {key: [values]}) over every aggregate, in one read."""
    zones: dict[str, str] = {}
    meta: dict[str, dict[str, list]] = {}
    q = (sa.select(m.AggregateHost.host, m.AggregateMetadata.key, m.AggregateMetadata.value)
         .join(m.AggregateMetadata,
               m.AggregateMetadata.aggregate_id == m.AggregateHost.aggregate_id)
         .order_by(m.AggregateHost.host, m.AggregateMetadata.key, m.AggregateMetadata.value))
    for host, key, value in session.execute(q):
        if key == AZ_KEY:
            zones[host] = value
        values = meta.setdefault(host, {}).setdefault(key, [])
        if value not in values:
            values.append(value)
    return zones, meta
