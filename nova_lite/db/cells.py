"""Cell, host and instance mappings, build requests and request specs (API database)."""

from __future__ import annotations

import json
import uuid as uuidlib
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import reading, transactional

CELL0_UUID = "00000000-0000-0000-0000-000000000000"


def cell_to_dict(row: m.CellMapping) -> dict:
    return {"id": row.id, "uuid": row.uuid, "name": row.name,
            "transport_url": row.transport_url,
            "database_connection": row.database_connection, "disabled": row.disabled}


@reading
def cell_list(session: Session) -> list[dict]:
    rows = session.scalars(sa.select(m.CellMapping).order_by(m.CellMapping.id))
    return [cell_to_dict(r) for r in rows]


@transactional
def cell_create(session: Session, name: Optional[str], transport_url: str,
                database_connection: str, uuid: Optional[str] = None) -> dict:
    row = m.CellMapping(uuid=uuid or str(uuidlib.uuid4()), name=name,
                        transport_url=transport_url, database_connection=database_connection)
    session.add(row)
    session.flush()
    return cell_to_dict(row)


@transactional
def cell_update(session: Session, uuid: str, values: dict) -> Optional[dict]:
    """Set name, transport_url, database_connection and/or disabled of a cell; None if
    there is no such cell."""
    row = session.scalars(sa.select(m.CellMapping).where(m.CellMapping.uuid == uuid)).first()
    if row is None:
        return None
    for key in ("name", "transport_url", "database_connection", "disabled"):
        if key in values:
            setattr(row, key, values[key])
    session.flush()
    return cell_to_dict(row)


@reading
def host_mapping_list(session: Session) -> list[dict]:
    q = sa.select(m.HostMapping.host, m.CellMapping.uuid, m.CellMapping.name).join(
        m.CellMapping, m.CellMapping.id == m.HostMapping.cell_id)
    return [{"host": h, "cell_uuid": u, "cell_name": n} for h, u, n in session.execute(q)]


@transactional
def host_mapping_create(session: Session, host: str, cell_uuid: str) -> bool:
    """Map host to the cell; False if it was already mapped."""
    if session.scalars(sa.select(m.HostMapping.id).where(m.HostMapping.host == host)).first():
        return False
    cell = session.scalars(sa.select(m.CellMapping).where(m.CellMapping.uuid == cell_uuid)).one()
    session.add(m.HostMapping(host=host, cell_id=cell.id))
    return True


# -- instance mappings and build requests ------------------------------------------------

def add_build_request(session: Session, instance_uuid: str, project_id: str,
                      user_id: Optional[str], instance_primitive: dict,
                      spec_primitive: dict, taken_at: Optional[datetime] = None) -> None:
    """Record an accepted server in the caller's transaction: mapping (no cell yet),
    build request and request spec. ``taken_at``: the build request is created taken
    by the attempt whose lease stamp that is (as build_request_lease would take it)."""
    session.add(m.InstanceMapping(instance_uuid=instance_uuid, project_id=project_id,
                                  user_id=user_id, cell_id=None))
    session.add(m.BuildRequest(instance_uuid=instance_uuid, project_id=project_id,
                               instance=json.dumps(instance_primitive), updated_at=taken_at))
    session.add(m.RequestSpec(instance_uuid=instance_uuid, spec=json.dumps(spec_primitive)))


build_request_create = transactional(add_build_request)


@reading
def build_request_list(session: Session, project_id: Optional[str] = None,
                       instance_uuids: Optional[list[str]] = None) -> list[dict]:
    q = sa.select(m.BuildRequest)
    if project_id is not None:
        q = q.where(m.BuildRequest.project_id == project_id)
    if instance_uuids is not None:
        q = q.where(m.BuildRequest.instance_uuid.in_(instance_uuids))
    return [{"instance_uuid": r.instance_uuid, "created_at": r.created_at,
             "instance": json.loads(r.instance)} for r in session.scalars(q)]


@reading
def build_request_older_than(session: Session, cutoff) -> list[str]:
    """Build requests nobody has worked on since cutoff: created before it and not
    taken by an attempt (build_request_lease) since."""
    br = m.BuildRequest
    q = sa.select(br.instance_uuid).where(
        br.created_at < cutoff, sa.or_(br.updated_at.is_(None), br.updated_at < cutoff))
    return list(session.scalars(q))


def leases_of(session: Session, instance_uuids: list[str]) -> dict[str, Optional[datetime]]:
    """Lock build requests for the caller's transaction (in uuid order, so two attempts
    never deadlock) and read the lease each carries: uuid -> its attempt's stamp (None:
    never taken). Those gone are absent."""
    br = m.BuildRequest
    return dict(session.execute(
        sa.select(br.instance_uuid, br.updated_at).where(br.instance_uuid.in_(instance_uuids))
        .order_by(br.instance_uuid).with_for_update()).all())


def same_lease(stamp: Optional[datetime], lease: datetime) -> bool:
    """Whether a build request's stamp is the attempt's ``lease`` (stamps are kept to
    the second)."""
    return stamp is not None and stamp.replace(microsecond=0) == lease.replace(microsecond=0)


def _lease(session: Session, instance_uuids: list[str], stale_before: datetime,
           now: datetime) -> list[str]:
    """Take, in the caller's transaction, the build requests no attempt took after
    ``stale_before``: their rows are locked (leases_of), so a concurrent attempt waits
    and then sees them taken; one UPDATE stamps them all."""
    if not instance_uuids:
        return []
    stamps = leases_of(session, instance_uuids)
    taken = [u for u in instance_uuids
             if u in stamps and (stamps[u] is None or stamps[u] < stale_before)]
    _stamp(session, taken, now)
    return taken


def _stamp(session: Session, instance_uuids: list[str], now: datetime) -> None:
    if instance_uuids:
        br = m.BuildRequest
        session.execute(sa.update(br).where(br.instance_uuid.in_(instance_uuids)).values(
            updated_at=now), execution_options={"synchronize_session": False})


@transactional
def build_request_lease(session: Session, instance_uuids: list[str], stale_before: datetime,
                        now: Optional[datetime] = None) -> list[str]:
    """Take the build requests that no attempt took after ``stale_before`` (stamping them
    ``now``), so two conductors, or a retry and a slow first attempt, never build one
    server twice. The stamp is the attempt's lease: its claims carry it (see
    placement.claim). Returns the uuids taken."""
    return _lease(session, instance_uuids, stale_before, now or datetime.utcnow())


@transactional
def build_request_renew(session: Session, instance_uuids: list[str], lease: datetime,
                        now: datetime) -> list[str]:
    """Renew an attempt's lease: the build requests still carrying ``lease`` are stamped
    ``now`` (the attempt's new lease). Returns those renewed; the others were deleted
    or taken over by a later attempt."""
    stamps = leases_of(session, instance_uuids)
    mine = [u for u in instance_uuids if same_lease(stamps.get(u), lease)]
    _stamp(session, mine, now)
    return mine


@transactional
def build_requests_take(session: Session, instance_uuids: list[str], stale_before: datetime,
                        now: datetime) -> tuple[list[dict], Optional[dict]]:
    """A build attempt's start in one transaction: lease the build requests (as
    build_request_lease), read those taken (as build_request_list, in the order asked)
    and the request spec of the first of them (None when none was taken)."""
    taken = _lease(session, instance_uuids, stale_before, now)
    if not taken:
        return [], None
    rows = {r.instance_uuid: r for r in session.scalars(sa.select(m.BuildRequest).where(
        m.BuildRequest.instance_uuid.in_(taken)))}
    brs = [{"instance_uuid": u, "created_at": rows[u].created_at,
            "instance": json.loads(rows[u].instance)} for u in taken if u in rows]
    spec = session.scalars(sa.select(m.RequestSpec.spec).where(
        m.RequestSpec.instance_uuid == taken[0])).first()
    return brs, (json.loads(spec) if spec is not None else None)


@transactional
def build_request_delete(session: Session, instance_uuid: str) -> bool:
    """Delete a build request; False if it was already gone (scheduled or deleted)."""
    res = session.execute(sa.delete(m.BuildRequest).where(
        m.BuildRequest.instance_uuid == instance_uuid))
    return res.rowcount > 0


@reading
def request_spec_get(session: Session, instance_uuid: str) -> dict:
    row = session.scalars(sa.select(m.RequestSpec).where(
        m.RequestSpec.instance_uuid == instance_uuid)).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    return json.loads(row.spec)


@transactional
def request_spec_save(session: Session, instance_uuid: str, spec: dict) -> None:
    """Replace an instance's request spec (e.g. its availability zone after unshelve)."""
    row = session.scalars(sa.select(m.RequestSpec).where(
        m.RequestSpec.instance_uuid == instance_uuid)).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    row.spec = json.dumps(spec)


# Built once: a server's every read and update looks up its mapping (unless the
# conductor remembers its cell), and building the statement cost more than running it.
_MAPPING_WITH_CELL = (
    sa.select(m.InstanceMapping, m.CellMapping)
    .outerjoin(m.CellMapping, m.CellMapping.id == m.InstanceMapping.cell_id)
    .where(m.InstanceMapping.instance_uuid == sa.bindparam("uuid")))


@reading
def instance_mapping_get(session: Session, instance_uuid: str) -> dict:
    res = session.execute(_MAPPING_WITH_CELL, {"uuid": instance_uuid}).first()
    if res is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    im, cell = res
    return {"instance_uuid": im.instance_uuid, "project_id": im.project_id,
            "user_id": im.user_id, "created_at": im.created_at,
            "queued_for_delete": im.queued_for_delete,
            "cell": cell_to_dict(cell) if cell is not None else None}


# Where a server is, in one statement: its mapping's cell and, while it has none, its
# build request's instance. One statement reads one snapshot, and hand_over sets the
# cell and drops the build request in one transaction: a server is seen in exactly one.
_WHEREABOUTS = (
    sa.select(m.InstanceMapping.queued_for_delete, m.CellMapping, m.BuildRequest.instance)
    .select_from(m.InstanceMapping)
    .outerjoin(m.CellMapping, m.CellMapping.id == m.InstanceMapping.cell_id)
    .outerjoin(m.BuildRequest,
               m.BuildRequest.instance_uuid == m.InstanceMapping.instance_uuid)
    .where(m.InstanceMapping.instance_uuid == sa.bindparam("uuid")))


@reading
def instance_whereabouts(session: Session, instance_uuid: str
                         ) -> tuple[bool, Optional[dict], Optional[dict]]:
    """(queued for delete, the cell or None, the build request's instance primitive or
    None) of a mapped server: what instance_mapping_get and build_request_list would
    answer in two reads. InstanceNotFound without a mapping."""
    res = session.execute(_WHEREABOUTS, {"uuid": instance_uuid}).first()
    if res is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    queued, cell, blob = res
    return (bool(queued), cell_to_dict(cell) if cell is not None else None,
            json.loads(blob) if blob is not None else None)


# hand_over's statements (one pair per server built), built once.
_BUILD_REQUEST_DROP = sa.delete(m.BuildRequest).where(
    m.BuildRequest.instance_uuid == sa.bindparam("uuid"))
_LEASED_BUILD_REQUEST_DROP = _BUILD_REQUEST_DROP.where(
    m.BuildRequest.updated_at >= sa.bindparam("lease"),
    m.BuildRequest.updated_at < sa.bindparam("lease_end"))
_BUILD_REQUEST_ID = sa.select(m.BuildRequest.id).where(
    m.BuildRequest.instance_uuid == sa.bindparam("uuid"))
_MAPPING_TO_CELL = (
    sa.update(m.InstanceMapping)
    .where(m.InstanceMapping.instance_uuid == sa.bindparam("uuid"))
    .values(cell_id=sa.select(m.CellMapping.id)
            .where(m.CellMapping.uuid == sa.bindparam("cell_uuid")).scalar_subquery()))


def hand_over_in(session: Session, instance_uuid: str, cell_uuid: str,
                 lease: Optional[datetime] = None) -> bool:
    """A scheduled server goes to its cell (or a failed one to cell0) in the caller's
    transaction: its mapping names the cell and its build request goes. False (and
    nothing changed) when the build request was gone already: deleted by the user, or
    handed over by an earlier attempt. With ``lease``, only while the build request
    carries it: ClaimSuperseded (nothing changed) when a later attempt took it over."""
    conn = session.connection()
    if lease is None:
        dropped = conn.execute(_BUILD_REQUEST_DROP, {"uuid": instance_uuid}).rowcount
    else:
        start = lease.replace(microsecond=0)
        dropped = conn.execute(_LEASED_BUILD_REQUEST_DROP, {
            "uuid": instance_uuid, "lease": start,
            "lease_end": start + timedelta(seconds=1)}).rowcount
        if not dropped and conn.scalar(_BUILD_REQUEST_ID, {"uuid": instance_uuid}):
            raise exception.ClaimSuperseded(consumer=instance_uuid)
    if not dropped:
        return False
    conn.execute(_MAPPING_TO_CELL, {"uuid": instance_uuid, "cell_uuid": cell_uuid})
    return True


hand_over = transactional(hand_over_in)


def instance_mapping_queue_delete_in(session: Session, instance_uuid: str) -> None:
    session.execute(sa.update(m.InstanceMapping).where(
        m.InstanceMapping.instance_uuid == instance_uuid).values(queued_for_delete=True))


instance_mapping_queue_delete = transactional(instance_mapping_queue_delete_in)


@transactional
def instance_mapping_destroy(session: Session, instance_uuid: str) -> None:
    """Forget a server entirely: mapping, build request and request spec."""
    for model in (m.BuildRequest, m.RequestSpec, m.InstanceMapping):
        session.execute(sa.delete(model).where(model.instance_uuid == instance_uuid))


@reading
def instance_mappings_in_cell(session: Session, cell_uuid: str, project_id: Optional[str],
                              limit: Optional[int] = None) -> list[dict]:
    """What the API database knows of a cell's live servers (for a cell whose database
    is down): uuid, project, user and when it was accepted, newest first."""
    im = m.InstanceMapping
    q = sa.select(im).join(m.CellMapping, m.CellMapping.id == im.cell_id).where(
        m.CellMapping.uuid == cell_uuid, sa.not_(im.queued_for_delete))
    if project_id is not None:
        q = q.where(im.project_id == project_id)
    q = q.order_by(im.created_at.desc(), im.instance_uuid.desc())
    if limit is not None:
        q = q.limit(limit)
    return [{"instance_uuid": r.instance_uuid, "project_id": r.project_id,
             "user_id": r.user_id, "created_at": r.created_at} for r in session.scalars(q)]
