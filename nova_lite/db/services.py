"""Service records and compute nodes in a cell database."""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timedelta
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import main_models as m
from nova_lite.db.engine import reading, transactional
from nova_lite.objects.compute_node import ComputeNode
from nova_lite.objects.service import Service, host_status


def is_up(last_seen_up: Optional[datetime], forced_down: bool, down_time: int) -> bool:
    if forced_down or last_seen_up is None:
        return False
    return datetime.utcnow() - last_seen_up <= timedelta(seconds=down_time)


def _svc_obj(row: m.Service, down_time: int, cell_name: Optional[str]) -> Service:
    return Service(id=row.id, uuid=row.uuid, host=row.host, binary=row.binary,
                   topic=row.topic, report_count=row.report_count, disabled=row.disabled,
                   disabled_reason=row.disabled_reason, forced_down=row.forced_down,
                   last_seen_up=row.last_seen_up, created_at=row.created_at,
                   updated_at=row.updated_at,
                   is_up=is_up(row.last_seen_up, row.forced_down, down_time),
                   cell_name=cell_name)


@transactional
def service_heartbeat(session: Session, host: str, binary: str, topic: str) -> int:
    """Create the service record if needed and mark it seen now; return its id."""
    now = datetime.utcnow()
    row = session.scalars(sa.select(m.Service).where(
        m.Service.host == host, m.Service.binary == binary, m.Service.deleted == 0)).first()
    if row is None:
        row = m.Service(uuid=str(uuidlib.uuid4()), host=host, binary=binary, topic=topic,
                        report_count=0, last_seen_up=now)
        session.add(row)
        session.flush()
    row.report_count += 1
    row.last_seen_up = now
    row.updated_at = now
    return row.id


@reading
def service_list(session: Session, down_time: int, cell_name: Optional[str],
                 binary: Optional[str] = None, host: Optional[str] = None) -> list[Service]:
    q = sa.select(m.Service).where(m.Service.deleted == 0)
    if binary:
        q = q.where(m.Service.binary == binary)
    if host:
        q = q.where(m.Service.host == host)
    return [_svc_obj(r, down_time, cell_name) for r in session.scalars(q.order_by(m.Service.id))]


@transactional
def compute_node_update(session: Session, host: str, service_id: int, values: dict) -> dict:
    """Upsert the compute node of host/values['hypervisor_hostname']."""
    row = session.scalars(sa.select(m.ComputeNode).where(
        m.ComputeNode.host == host,
        m.ComputeNode.hypervisor_hostname == values["hypervisor_hostname"],
        m.ComputeNode.deleted == 0)).first()
    if row is None:
        row = m.ComputeNode(uuid=str(uuidlib.uuid4()), host=host, service_id=service_id,
                            **values)
        session.add(row)
        session.flush()
    else:
        for k, v in values.items():
            setattr(row, k, v)
        row.service_id = service_id
        row.updated_at = datetime.utcnow()
    return {"uuid": row.uuid, "id": row.id, "mapped": row.mapped}


@reading
def compute_node_list(session: Session, down_time: int, cell_name: Optional[str]
                      ) -> list[ComputeNode]:
    return [ComputeNode(**d) for d in _compute_nodes(session, down_time, cell_name)]


@transactional
def compute_node_dicts(session: Session, down_time: int, cell_name: Optional[str]
                       ) -> list[dict]:
    """compute_node_list's nodes as plain dicts of the same fields (lists of many
    nodes, without an object each)."""
    return _compute_nodes(session, down_time, cell_name)


_NODE_COLUMNS = ("id", "uuid", "host", "hypervisor_hostname", "hypervisor_type",
                 "hypervisor_version", "cpu_info", "host_ip", "vcpus", "memory_mb",
                 "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "running_vms",
                 "service_id")


def _compute_nodes(session: Session, down_time: int, cell_name: Optional[str]
                   ) -> list[dict]:
    cn = m.ComputeNode
    q = sa.select(*(getattr(cn, c) for c in _NODE_COLUMNS), m.Service.disabled,
                  m.Service.last_seen_up, m.Service.forced_down,
                  m.Service.id.label("svc")).outerjoin(
        m.Service, sa.and_(m.Service.id == cn.service_id, m.Service.deleted == 0)
    ).where(cn.deleted == 0).order_by(cn.id)
    out = []
    width = len(_NODE_COLUMNS)
    for row in session.execute(q):
        node = dict(zip(_NODE_COLUMNS, row[:width]))
        found = row.svc is not None
        node["service_disabled"] = bool(row.disabled) if found else False
        node["service_up"] = (is_up(row.last_seen_up, row.forced_down, down_time)
                              if found else False)
        node["service_host"] = node["host"]
        node["cell_name"] = cell_name
        out.append(node)
    return out


@transactional
def unmapped_compute_hosts(session: Session) -> list[str]:
    q = sa.select(m.ComputeNode.host).where(m.ComputeNode.deleted == 0,
                                            m.ComputeNode.mapped == 0).distinct()
    return list(session.scalars(q))


@transactional
def mark_compute_hosts_mapped(session: Session, hosts: list[str]) -> None:
    session.execute(sa.update(m.ComputeNode).where(m.ComputeNode.host.in_(hosts))
                    .values(mapped=1))


@transactional
def service_get(session: Session, service_id: int) -> m.Service:
    row = session.get(m.Service, service_id)
    if row is None or row.deleted:
        raise exception.ServiceNotFound(service_id=service_id)
    return row


def _find(session: Session, service_id: int | str) -> Optional[m.Service]:
    """A live service by integer id or by uuid."""
    col = m.Service.uuid if isinstance(service_id, str) else m.Service.id
    return session.scalars(sa.select(m.Service).where(
        col == service_id, m.Service.deleted == 0)).first()


@transactional
def service_find(session: Session, down_time: int, cell_name: Optional[str],
                 service_id: int | str) -> Optional[Service]:
    row = _find(session, service_id)
    return _svc_obj(row, down_time, cell_name) if row is not None else None


@reading
def service_find_by_host(session: Session, down_time: int, cell_name: Optional[str],
                         host: str, binary: str) -> Optional[Service]:
    row = session.scalars(sa.select(m.Service).where(
        m.Service.host == host, m.Service.binary == binary, m.Service.deleted == 0)).first()
    return _svc_obj(row, down_time, cell_name) if row is not None else None


COMPUTE_BINARY = "nova-compute"


def compute_service_of(instance_host: Any) -> tuple[Any, tuple]:
    """(join condition, columns) of the live compute service of ``instance_host`` (a
    column), for a statement reading an instance to outer-join; host_status_of reads
    the columns."""
    svc = m.Service
    joined = sa.and_(svc.host == instance_host, svc.binary == COMPUTE_BINARY,
                     svc.deleted == 0)
    return joined, (svc.id, svc.last_seen_up, svc.forced_down, svc.disabled)


def host_status_of(host: Optional[str], values: tuple, down_time: int) -> str:
    """2.16 host_status from the columns of compute_service_of ("" without a host,
    UNKNOWN without such a service)."""
    if not host:
        return ""
    service_id, last_seen_up, forced_down, disabled = values
    if service_id is None:
        return "UNKNOWN"
    return host_status(is_up(last_seen_up, forced_down, down_time), bool(forced_down),
                       bool(disabled))


SERVICE_FIELDS = frozenset(("disabled", "disabled_reason", "forced_down"))


@transactional
def service_update(session: Session, down_time: int, cell_name: Optional[str],
                   service_id: int | str, values: dict) -> Service:
    """Set the operator's fields (disabled, disabled_reason, forced_down)."""
    unknown = set(values) - SERVICE_FIELDS
    if unknown:
        raise ValueError(f"not operator fields: {sorted(unknown)}")
    row = _find(session, service_id)
    if row is None:
        raise exception.ServiceNotFound(service_id=service_id)
    for k, v in values.items():
        setattr(row, k, v)
    row.updated_at = datetime.utcnow()
    session.flush()
    return _svc_obj(row, down_time, cell_name)


@transactional
def compute_nodes_of_host(session: Session, host: str) -> list[dict]:
    rows = session.scalars(sa.select(m.ComputeNode).where(
        m.ComputeNode.host == host, m.ComputeNode.deleted == 0))
    return [{"id": r.id, "uuid": r.uuid, "hypervisor_hostname": r.hypervisor_hostname}
            for r in rows]


@transactional
def service_destroy(session: Session, service_id: int, with_compute_nodes: bool) -> None:
    """Soft-delete the service and, for a compute service, its host's compute nodes."""
    row = session.get(m.Service, service_id)
    if row is None or row.deleted:
        return
    now = datetime.utcnow()
    if with_compute_nodes:
        session.execute(sa.update(m.ComputeNode).where(
            m.ComputeNode.host == row.host, m.ComputeNode.deleted == 0
        ).values(deleted=m.ComputeNode.id, deleted_at=now, mapped=0))
    row.deleted = row.id
    row.deleted_at = now


@transactional
def mark_compute_hosts_unmapped(session: Session, host: str) -> int:
    return session.execute(sa.update(m.ComputeNode).where(
        m.ComputeNode.host == host, m.ComputeNode.deleted == 0).values(mapped=0)).rowcount
