"""What the API database knows of a compute host, removed when its service is deleted:
resource providers (inventories, traits, provider aggregates), aggregate memberships and
the host mapping.

One transaction, and refused while a provider still holds allocations: a claim there is
a server on its way to (or still on) the host, and dropping it would leak or lose it.
Locking the providers first makes a concurrent claim's compare-and-swap miss.
"""

from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import transactional


def _providers(session: Session, host: str, uuids: list[str]) -> list[m.ResourceProvider]:
    cond = m.ResourceProvider.host == host
    if uuids:
        cond = sa.or_(cond, m.ResourceProvider.uuid.in_(uuids))
    return list(session.scalars(sa.select(m.ResourceProvider).where(cond)
                                .order_by(m.ResourceProvider.id).with_for_update()))


@transactional
def forget_compute_host(session: Session, host: str, provider_uuids: list[str]) -> dict:
    """Remove the host's providers, aggregate memberships and host mapping; return what
    went ({"providers": [uuid, ...], "aggregates": n, "host_mapping": bool})."""
    rps = _providers(session, host, provider_uuids)
    ids = [rp.id for rp in rps]
    if ids and session.scalars(sa.select(m.Allocation.id).where(
            m.Allocation.resource_provider_id.in_(ids)).limit(1)).first() is not None:
        raise exception.ServiceInUse()
    if ids:
        for table in (m.ResourceProviderTrait, m.ResourceProviderAggregate, m.Inventory):
            session.execute(sa.delete(table).where(table.resource_provider_id.in_(ids)))
        session.execute(sa.delete(m.ResourceProvider).where(m.ResourceProvider.id.in_(ids)))
    aggs = session.execute(sa.delete(m.AggregateHost).where(
        m.AggregateHost.host == host)).rowcount
    mapped = session.execute(sa.delete(m.HostMapping).where(
        m.HostMapping.host == host)).rowcount
    return {"providers": [rp.uuid for rp in rps], "aggregates": aggs,
            "host_mapping": bool(mapped)}


@transactional
def host_mapping_cell(session: Session, host: str) -> Optional[str]:
    """The uuid of the cell the host is mapped to, None if it is not mapped."""
    return session.scalars(
        sa.select(m.CellMapping.uuid).join(m.HostMapping, m.HostMapping.cell_id ==
                                           m.CellMapping.id)
        .where(m.HostMapping.host == host)).first()


@transactional
def host_mapping_delete(session: Session, host: str) -> bool:
    return bool(session.execute(sa.delete(m.HostMapping).where(
        m.HostMapping.host == host)).rowcount)


def delete_host(api_url: str, cell_uuid: str, host: str) -> tuple[int, str]:
    """`nova-lite-manage cell_v2 delete_host`: unmap a host with no instances from its
    cell. Returns (exit code, message) with Nova's codes: 1 no such cell, 2 host not
    mapped, 3 mapped to another cell, 4 instances on it, 0 done (message empty)."""
    from nova_lite.db import cells as cells_db
    from nova_lite.db import instances as inst_db
    from nova_lite.db import services as svc_db

    cell = next((c for c in cells_db.cell_list(api_url) if c["uuid"] == cell_uuid), None)
    if cell is None:
        return 1, f"Cell with uuid {cell_uuid} was not found."
    mapped_to = host_mapping_cell(api_url, host)
    if mapped_to is None:
        return 2, f"The host {host} was not found."
    if mapped_to != cell_uuid:
        return 3, f"The host {host} was not found in the cell {cell_uuid}."
    url = cell["database_connection"]
    if inst_db.instance_list(url, cell["name"], None,
                             {"host": host, "soft_deleted": True, "limit": 1}):
        return 4, f"There are instances on the host {host}."
    svc_db.mark_compute_hosts_unmapped(url, host)
    host_mapping_delete(api_url, host)
    return 0, ""
