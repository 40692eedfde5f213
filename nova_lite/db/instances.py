"""Instances, their faults and their actions, in a cell database."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import block_devices, instance_paging, instance_tags, services
from nova_lite.db import main_models as m
from nova_lite.db.engine import reading, transactional
from nova_lite.objects.instance import Instance, InstanceFault
from nova_lite.objects.instance_action import InstanceAction, InstanceActionEvent
from nova_lite.objects.flavor import Flavor

_COPIED = ("id", "uuid", "display_name", "display_description", "hostname", "project_id",
           "user_id", "host", "node", "vm_state", "task_state", "power_state", "image_ref",
           "vcpus", "memory_mb", "root_gb", "key_name", "availability_zone",
           "pinned_availability_zone", "user_data",
           "access_ip_v4", "access_ip_v6", "config_drive", "locked", "locked_by", "launch_index",
           "reservation_id", "launched_at", "terminated_at", "created_at", "updated_at",
           "deleted_at")
_WRITABLE = set(_COPIED) - {"id", "uuid", "created_at", "updated_at", "deleted_at"}


def _to_obj(row: Any, fault: Optional[m.InstanceFault], cell_name: Optional[str],
            cache: Any = None, tags: Optional[list[str]] = None) -> Instance:
    """``row``: an instances row, or the values of one just written (same names);
    ``cache``: its info cache, likewise."""
    inst = Instance()
    inst.tags = list(tags or [])
    for name in _COPIED:
        setattr(inst, name, getattr(row, name))
    inst.flavor = Flavor.from_dict(json.loads(row.flavor))
    inst.metadata = json.loads(row.metadata_json or "{}")
    inst.system_metadata = json.loads(row.system_metadata or "{}")
    inst.old_flavor = _flavor_or_none(row.old_flavor)
    inst.new_flavor = _flavor_or_none(row.new_flavor)
    inst.deleted = bool(row.deleted)
    inst.cell_name = cell_name
    inst.network_info = cache.network_info if cache is not None else None
    inst.network_request = cache.network_request if cache is not None else None
    inst.fault = None
    if fault is not None:
        inst.fault = InstanceFault(code=fault.code, message=fault.message,
                                   details=fault.details, host=fault.host,
                                   created_at=fault.created_at)
    inst.obj_reset_changes()
    return inst


def _flavor_or_none(text: Optional[str]) -> Optional[Flavor]:
    return Flavor.from_dict(json.loads(text)) if text else None


def _flavor_json(flavor: Any) -> Optional[str]:
    """A Flavor (or None) as stored in the flavor columns."""
    return json.dumps(flavor.to_dict()) if flavor is not None else None


# Instance fields stored as JSON, with their column and encoder.
_JSON_FIELDS = {
    "metadata": ("metadata_json", json.dumps),
    "system_metadata": ("system_metadata", json.dumps),
    "flavor": ("flavor", _flavor_json),
    "old_flavor": ("old_flavor", _flavor_json),
    "new_flavor": ("new_flavor", _flavor_json),
}


def _latest_faults(session: Session, uuids: list[str]) -> dict[str, m.InstanceFault]:
    if not uuids:
        return {}
    latest = (sa.select(sa.func.max(m.InstanceFault.id))
              .where(m.InstanceFault.instance_uuid.in_(uuids))
              .group_by(m.InstanceFault.instance_uuid))
    rows = session.scalars(sa.select(m.InstanceFault).where(m.InstanceFault.id.in_(latest)))
    return {f.instance_uuid: f for f in rows}


def _info_caches(session: Session, uuids: list[str]) -> dict[str, m.InstanceInfoCache]:
    if not uuids:
        return {}
    rows = session.scalars(sa.select(m.InstanceInfoCache).where(
        m.InstanceInfoCache.instance_uuid.in_(uuids)))
    return {c.instance_uuid: c for c in rows}


def _save_info_cache(session: Session, uuid: str, network_info: Optional[str]) -> None:
    cache = _info_caches(session, [uuid]).get(uuid)
    if cache is None:
        session.add(m.InstanceInfoCache(instance_uuid=uuid, network_info=network_info))
    else:
        cache.network_info = network_info


def _save_keypairs(session: Session, uuid: str, keypairs: Optional[list]) -> None:
    """instance_extra.keypairs: the copies an instance keeps of its key pairs."""
    row = session.scalars(sa.select(m.InstanceExtra).where(
        m.InstanceExtra.instance_uuid == uuid)).first()
    blob = json.dumps(list(keypairs)) if keypairs is not None else None
    if row is None:
        if blob is not None:
            session.add(m.InstanceExtra(instance_uuid=uuid, keypairs=blob))
    else:
        row.keypairs = blob


def _with_keypairs(session: Session, inst: Instance) -> Instance:
    return _set_keypairs(inst, session.scalars(sa.select(m.InstanceExtra.keypairs).where(
        m.InstanceExtra.instance_uuid == inst.uuid)).first())


def _set_keypairs(inst: Instance, blob: Optional[str]) -> Instance:
    """The instance with its key pairs from instance_extra.keypairs (``blob``)."""
    inst.keypairs = json.loads(blob) if blob else []
    inst.obj_reset_changes(["keypairs"])
    return inst


def _fault_if_shown(session: Session, row: m.Instance) -> Optional[m.InstanceFault]:
    """The latest fault, read only for states whose API view shows it (ERROR, DELETED),
    which saves a query on every other read."""
    if row.vm_state not in ("error", "deleted"):
        return None
    return _latest_faults(session, [row.uuid]).get(row.uuid)


_LIVE_ID = sa.select(m.Instance.id).where(m.Instance.uuid == sa.bindparam("uuid"),
                                          m.Instance.deleted == 0)
_INSTANCE_ADD = sa.insert(m.Instance)
_ACTION_ADD = sa.insert(m.InstanceAction)
_CACHE_ADD = sa.insert(m.InstanceInfoCache)
_INSTANCE_COLUMNS = dict.fromkeys(m.Instance.__table__.columns.keys())


@transactional
def instance_create_with_action(session: Session, inst: Instance, cell_name: Optional[str],
                                request_id: str, user_id: Optional[str],
                                project_id: Optional[str],
                                failure: Optional[tuple[int, str, str]] = None,
                                bdms: Sequence[tuple[str, dict]] = (),
                                scheduled_at: Optional[datetime] = None) -> Instance:
    """Create the instance, its 'create' action and its block device mappings ``bdms``
    ((uuid, values) each) in one transaction, so a crash never leaves one without the
    others. ``failure`` (code, message, event) records, for a server that cannot be
    built, its fault and the failed event as well. A live row with this uuid (an earlier
    attempt that committed) is returned with any of ``bdms`` it lacks added.

    ``scheduled_at``: the lease of the build attempt writing, kept in the row. An
    earlier attempt's row, still waiting for its host, takes this attempt's host, node
    and zone; a later attempt's row (a newer lease: this attempt stalled past its own)
    is returned unchanged, so that a late attempt never moves the server off the host
    its successor claimed and sent it to.

    The rows are written with statements built once, on the session's connection: through
    the ORM's unit of work, this write cost twice the CPU on every build."""
    conn = session.connection()
    row = None
    if conn.scalar(_LIVE_ID, {"uuid": inst.uuid}) is not None:
        q = sa.select(m.Instance).where(m.Instance.uuid == inst.uuid,
                                        m.Instance.deleted == 0)
        # Locked when it may take this attempt's host: a concurrent attempt waits.
        row = session.scalars(q.with_for_update() if scheduled_at is not None
                              else q).first()
    if row is not None:
        if scheduled_at is not None:
            _take_over_row(session, row, inst, scheduled_at)
        _add_bdms(session, inst.uuid, bdms, existing=True)
        return _to_obj(row, _fault_if_shown(session, row), cell_name,
                       _info_caches(session, [row.uuid]).get(row.uuid),
                       instance_tags.tags_of(session, [row.uuid])[row.uuid])
    values = {k: inst.get(k) for k in _WRITABLE if inst.obj_attr_is_set(k)}
    values.update(uuid=inst.uuid, flavor=json.dumps(inst.flavor.to_dict()),
                  metadata_json=json.dumps(inst.get("metadata") or {}),
                  system_metadata=json.dumps(inst.get("system_metadata") or {}),
                  scheduled_at=scheduled_at)
    if inst.obj_attr_is_set("created_at") and inst.created_at is not None:
        values["created_at"] = inst.created_at.replace(tzinfo=None)
    res = conn.execute(_INSTANCE_ADD, values)
    # The row as written, defaults included: nothing to read back.
    row = SimpleNamespace(**{**_INSTANCE_COLUMNS, **res.last_inserted_params(),
                             "id": res.inserted_primary_key[0]})
    now = datetime.utcnow()
    action = {"instance_uuid": inst.uuid, "action": "create", "request_id": request_id,
              "user_id": user_id, "project_id": project_id}
    if failure is not None:
        action.update(message="Error", finish_time=now)
    action_id = conn.execute(_ACTION_ADD, action).inserted_primary_key[0]
    cache = SimpleNamespace(network_info=inst.get("network_info"),
                            network_request=inst.get("network_request"))
    conn.execute(_CACHE_ADD, {"instance_uuid": inst.uuid, **vars(cache)})
    if inst.get("keypairs"):
        _save_keypairs(session, inst.uuid, inst.keypairs)
    tags = sorted(set(inst.get("tags") or []))
    session.add_all(m.Tag(resource_id=inst.uuid, tag=tag) for tag in tags)
    _add_bdms(session, inst.uuid, bdms, existing=False)
    fault = None
    if failure is not None:
        code, message, event = failure
        fault = m.InstanceFault(instance_uuid=inst.uuid, code=code, message=message[:1024],
                                host=None, created_at=now)
        session.add(fault)
        session.add(m.InstanceActionEvent(action_id=action_id, event=event, start_time=now,
                                          finish_time=now, result="Error",
                                          traceback=message))
    session.flush()
    out = _to_obj(row, fault, cell_name, cache, tags=tags)
    out.keypairs = list(inst.get("keypairs") or [])
    out.obj_reset_changes(["keypairs"])
    return out


def _take_over_row(session: Session, row: m.Instance, inst: Instance,
                   scheduled_at: datetime) -> None:
    """An earlier attempt's row (still scheduling, an older lease; read locked) takes
    this attempt's placement."""
    older = row.scheduled_at is None or row.scheduled_at < scheduled_at
    if row.task_state != "scheduling" or not older:
        return
    row.host, row.node = inst.host, inst.node
    row.availability_zone = inst.get("availability_zone")
    row.scheduled_at = scheduled_at
    session.flush()


def _add_bdms(session: Session, instance_uuid: str, bdms: Sequence[tuple[str, dict]],
              existing: bool) -> None:
    """Add the mappings (uuid, values) an instance does not have yet (``existing``: it
    may have some, from an earlier attempt)."""
    if not bdms:
        return
    have = set(session.scalars(sa.select(m.BlockDeviceMapping.uuid).where(
        m.BlockDeviceMapping.instance_uuid == instance_uuid,
        m.BlockDeviceMapping.deleted == 0))) if existing else set()
    for bdm_uuid, values in bdms:
        if bdm_uuid not in have:
            block_devices.add(session, instance_uuid, values, bdm_uuid)


def _get_row(session: Session, uuid: str, read_deleted: bool = False,
             for_update: bool = False) -> m.Instance:
    q = sa.select(m.Instance).where(m.Instance.uuid == uuid)
    if not read_deleted:
        q = q.where(m.Instance.deleted == 0)
    if for_update:
        q = q.with_for_update()
    row = session.scalars(q).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=uuid)
    return row


# instance_get's statements, one per (read_deleted, with_volumes, with_host), built
# once: a server's GET is polled, and building the statement cost more than running it.
_GET_STATEMENTS: dict[tuple[bool, bool, bool], sa.Select] = {}


def _get_statement(read_deleted: bool, with_volumes: bool, with_host: bool) -> sa.Select:
    """The row with its one-to-one parts (info cache, key pairs), its tags, volumes and
    its host's compute service in one statement (each statement costs about as much as
    the next)."""
    key = (read_deleted, with_volumes, with_host)
    q = _GET_STATEMENTS.get(key)
    if q is None:
        volumes = block_devices.volumes_column() if with_volumes else sa.null()
        q = (sa.select(m.Instance, m.InstanceInfoCache, m.InstanceExtra.keypairs,
                       instance_tags.tags_column(), volumes)
             .outerjoin(m.InstanceInfoCache,
                        m.InstanceInfoCache.instance_uuid == m.Instance.uuid)
             .outerjoin(m.InstanceExtra, m.InstanceExtra.instance_uuid == m.Instance.uuid)
             .where(m.Instance.uuid == sa.bindparam("uuid")))
        if with_host:
            joined, columns = services.compute_service_of(m.Instance.host)
            q = q.outerjoin(m.Service, joined).add_columns(*columns)
        if not read_deleted:
            q = q.where(m.Instance.deleted == 0)
        _GET_STATEMENTS[key] = q
    return q


@reading
def instance_get(session: Session, uuid: str, cell_name: Optional[str] = None,
                 read_deleted: bool = False, with_volumes: bool = False,
                 host_down_time: Optional[int] = None) -> Instance:
    """``with_volumes``: volumes_attached read in the same transaction (what a server
    view shows), so the API needs no second call for them. ``host_down_time`` (the
    [DEFAULT] service_down_time): host_status (2.16) read in the same statement."""
    with_host = host_down_time is not None
    found = session.execute(_get_statement(read_deleted, with_volumes, with_host),
                            {"uuid": uuid}).first()
    if found is None:
        raise exception.InstanceNotFound(instance_id=uuid)
    row, cache, keypairs, tags, volumes = found[:5]
    inst = _set_keypairs(_to_obj(row, _fault_if_shown(session, row), cell_name, cache,
                                 instance_tags.tags_from_column(session, uuid, tags)),
                         keypairs)
    if with_volumes:
        inst.volumes_attached = block_devices.volumes_from_column(session, uuid, volumes)
        inst.obj_reset_changes(["volumes_attached"])
    if with_host:
        inst.host_status = services.host_status_of(row.host, tuple(found[5:]),
                                                   host_down_time)
        inst.obj_reset_changes(["host_status"])
    return inst


@transactional
def instance_update(session: Session, uuid: str, values: dict,
                    expected_task_state: Any = "__any__",
                    cell_name: Optional[str] = None, event: Optional[dict] = None,
                    load: bool = True, start_action: Optional[dict] = None
                    ) -> Optional[Instance]:
    """Update an instance; with expected_task_state, only if it still holds that value
    (a list allows several) — the guard against racing operations. ``event``: an
    action event recorded in the same transaction ({"request_id", "event", "phase",
    "host", "result", "traceback"}; a finish also finishes the action), as
    action_event and action_finish would in two more. ``start_action``: an action
    started in the same transaction, as action_start would in another (its keyword
    arguments but the uuid). ``load`` False: None instead of the updated instance (its
    caches, tags and key pairs are not read)."""
    allowed = None if expected_task_state == "__any__" else (
        list(expected_task_state) if isinstance(expected_task_state, (list, tuple))
        else [expected_task_state])
    if not load and values and all(k in _WRITABLE for k in values):
        _guarded_update(session, uuid, values, allowed)
        row = None
    else:
        # Lock the row: under READ COMMITTED two racers would otherwise both read the
        # old task_state, both pass the guard and both write.
        row = _get_row(session, uuid, for_update=True)
        if allowed is not None and row.task_state not in allowed:
            raise exception.InstanceInvalidState(
                action="update", instance_uuid=uuid, attr="task_state", state=row.task_state)
    if row is not None:
        _set_values(session, row, values)
    if event is not None:
        action_event_in(session, uuid, event["request_id"], event["event"], event["phase"],
                        event.get("host"), event.get("result"), event.get("traceback"),
                        finish_action=event["phase"] == "finish")
    if start_action is not None:
        action_start_in(session, uuid, **start_action)
    session.flush()
    if row is None or not load:
        return None
    return _with_keypairs(session, _to_obj(row, _fault_if_shown(session, row), cell_name,
                                           _info_caches(session, [uuid]).get(uuid),
                                           instance_tags.tags_of(session, [uuid])[uuid]))


def _set_values(session: Session, row: m.Instance, values: dict) -> None:
    """instance_update's values on the locked row (and the tables beside it)."""
    for k, v in values.items():
        if k in _JSON_FIELDS:
            column, encode = _JSON_FIELDS[k]
            setattr(row, column, encode(v))
        elif k == "network_info":
            _save_info_cache(session, row.uuid, v)
        elif k == "keypairs":  # e.g. a rebuild with another key_name (2.54)
            _save_keypairs(session, row.uuid, v)
        elif k in _WRITABLE or k == "deleted_at":  # deleted_at: soft delete / restore
            setattr(row, k, v.replace(tzinfo=None) if isinstance(v, datetime) else v)


def _guarded_update(session: Session, uuid: str, values: dict,
                    allowed: Optional[list]) -> None:
    """Plain column values in one UPDATE whose condition is the task_state guard (the
    row it matches stays locked until the commit, as the locking read would keep it),
    instead of reading the whole row first; read only to tell why it matched nothing."""
    live = (m.Instance.uuid == uuid, m.Instance.deleted == 0)
    q = sa.update(m.Instance).where(*live)
    if allowed is not None:
        states = [s for s in allowed if s is not None]
        guard = m.Instance.task_state.in_(states) if states else sa.false()
        if None in allowed:
            guard = sa.or_(guard, m.Instance.task_state.is_(None))
        q = q.where(guard)
    q = q.values({k: v.replace(tzinfo=None) if isinstance(v, datetime) else v
                  for k, v in values.items()})
    # On the session's connection: the ORM's handling of an UPDATE (which loaded rows
    # to synchronise: none here) costs as much as the statement.
    res = session.connection().execute(q)
    if res.rowcount == 1:
        return
    state = session.execute(sa.select(m.Instance.task_state).where(*live)).first()
    if state is None:
        raise exception.InstanceNotFound(instance_id=uuid)
    raise exception.InstanceInvalidState(action="update", instance_uuid=uuid,
                                         attr="task_state", state=state[0])


def destroy_in(session: Session, uuid: str, scheduled_at: Optional[datetime] = None
               ) -> bool:
    """Soft-delete in the caller's transaction; False if it was already deleted (or,
    with ``scheduled_at``, unless it is a record that build attempt wrote and left
    waiting for its host)."""
    now = datetime.utcnow()
    q = sa.update(m.Instance).where(m.Instance.uuid == uuid, m.Instance.deleted == 0)
    if scheduled_at is not None:
        q = q.where(m.Instance.scheduled_at == scheduled_at,
                    m.Instance.task_state == "scheduling")
    res = session.execute(q.values(deleted=m.Instance.id, deleted_at=now,
                                   terminated_at=now, vm_state="deleted", task_state=None,
                                   power_state=0))
    if scheduled_at is not None and not res.rowcount:
        return False
    block_devices.destroy_of_instance(session, uuid)
    return res.rowcount > 0


instance_destroy = transactional(destroy_in)


@reading
def instance_list(session: Session, cell_name: Optional[str], project_id: Optional[str] = None,
                  filters: Optional[dict] = None, sort: Optional[list] = None,
                  after: Optional[dict] = None) -> list[Instance]:
    """Instances in this cell with their latest fault and attached volumes, in ``sort``
    order (see instance_paging; newest first by default), only those after the marker
    values ``after`` when given."""
    filters = filters or {}
    q = instance_paging.listed(sa.select(m.Instance), project_id, filters,
                               instance_paging.normalize(sort), after)
    rows = list(session.scalars(q))
    faults = _latest_faults(session, [r.uuid for r in rows
                                      if r.vm_state in ("error", "deleted")])
    caches = _info_caches(session, [r.uuid for r in rows])
    tags = instance_tags.tags_of(session, [r.uuid for r in rows])
    volumes = block_devices.volumes_of(session, [r.uuid for r in rows])
    out = []
    for r in rows:
        inst = _to_obj(r, faults.get(r.uuid), cell_name, caches.get(r.uuid), tags[r.uuid])
        inst.volumes_attached = volumes[r.uuid]
        inst.obj_reset_changes(["volumes_attached"])
        out.append(inst)
    return out


@transactional
def fault_create(session: Session, uuid: str, code: int, message: str,
                 details: Optional[str], host: Optional[str]) -> None:
    session.add(m.InstanceFault(instance_uuid=uuid, code=code, message=message[:1024],
                                details=details, host=host))


# -- instance actions ---------------------------------------------------------------------

def action_start_in(session: Session, uuid: str, action: str, request_id: str,
                    user_id: Optional[str], project_id: Optional[str]) -> None:
    session.add(m.InstanceAction(instance_uuid=uuid, action=action, request_id=request_id,
                                 user_id=user_id, project_id=project_id))


action_start = transactional(action_start_in)


def _action_row(session: Session, uuid: str, request_id: str) -> Optional[m.InstanceAction]:
    return session.scalars(sa.select(m.InstanceAction).where(
        m.InstanceAction.instance_uuid == uuid, m.InstanceAction.request_id == request_id)
        .order_by(m.InstanceAction.id.desc())).first()


@transactional
def action_event(session: Session, uuid: str, request_id: str, event: str, phase: str,
                 host: Optional[str], result: Optional[str] = None,
                 traceback: Optional[str] = None, finish_action: bool = False) -> None:
    """phase 'start' opens an event; 'finish' closes it with result Success or Error
    (and, with ``finish_action``, the action too)."""
    action_event_in(session, uuid, request_id, event, phase, host, result, traceback,
                    finish_action)


# An action event's statements, built once: every step of a build and of each server
# action records one, and building the statements (and the ORM's unit of work for two
# rows) cost more Python than the database spends on them.
_ACTION_OF_REQUEST = (
    sa.select(m.InstanceAction.id)
    .where(m.InstanceAction.instance_uuid == sa.bindparam("uuid"),
           m.InstanceAction.request_id == sa.bindparam("request_id"))
    .order_by(m.InstanceAction.id.desc()).limit(1))
_LAST_EVENT = (
    sa.select(m.InstanceActionEvent.id)
    .where(m.InstanceActionEvent.action_id == sa.bindparam("action_id"),
           m.InstanceActionEvent.event == sa.bindparam("event"))
    .order_by(m.InstanceActionEvent.id.desc()).limit(1))
_EVENT_ADD = sa.insert(m.InstanceActionEvent)
_EVENT_FINISH = (
    sa.update(m.InstanceActionEvent)
    .where(m.InstanceActionEvent.id == sa.bindparam("event_id"))
    .values(finish_time=sa.bindparam("now"), result=sa.bindparam("result"),
            traceback=sa.bindparam("traceback")))


def action_event_in(session: Session, uuid: str, request_id: str, event: str, phase: str,
                    host: Optional[str], result: Optional[str] = None,
                    traceback: Optional[str] = None, finish_action: bool = False) -> bool:
    """Record the event on the request's action; False if the instance has no action of
    that request. ``finish_action``: a finish also finishes the action."""
    conn = session.connection()
    action_id = conn.scalar(_ACTION_OF_REQUEST, {"uuid": uuid, "request_id": request_id})
    if action_id is None:
        return False
    now = datetime.utcnow()
    touch: dict[str, Any] = {"updated_at": now}
    if phase == "start":
        conn.execute(_EVENT_ADD, {"action_id": action_id, "event": event, "start_time": now,
                                  "host": host})
    else:
        event_id = conn.scalar(_LAST_EVENT, {"action_id": action_id, "event": event})
        if event_id is None:
            conn.execute(_EVENT_ADD, {"action_id": action_id, "event": event,
                                      "start_time": now, "host": host,
                                      "finish_time": now, "result": result,
                                      "traceback": traceback})
        else:
            conn.execute(_EVENT_FINISH, {"event_id": event_id, "now": now,
                                         "result": result, "traceback": traceback})
        if result == "Error":
            touch["message"] = "Error"
        if finish_action:
            touch["finish_time"] = now
    conn.execute(sa.update(m.InstanceAction).where(m.InstanceAction.id == action_id)
                 .values(**touch))
    return True


def action_finish_in(session: Session, uuid: str, request_id: str) -> None:
    """Finish the request's action, in the caller's transaction."""
    action = _action_row(session, uuid, request_id)
    if action is not None:
        action.finish_time = datetime.utcnow()


action_finish = transactional(action_finish_in)


@reading
def action_list(session: Session, uuid: str, with_events: bool = False,
                request_id: Optional[str] = None) -> list[InstanceAction]:
    q = sa.select(m.InstanceAction).where(m.InstanceAction.instance_uuid == uuid)
    if request_id is not None:
        q = q.where(m.InstanceAction.request_id == request_id)
    actions = list(session.scalars(q.order_by(m.InstanceAction.id.desc())))
    events: dict[int, list] = {a.id: [] for a in actions}
    if with_events and actions:
        for ev in session.scalars(sa.select(m.InstanceActionEvent).where(
                m.InstanceActionEvent.action_id.in_(events)).order_by(
                m.InstanceActionEvent.id)):
            events[ev.action_id].append(InstanceActionEvent(
                event=ev.event, start_time=ev.start_time, finish_time=ev.finish_time,
                result=ev.result, traceback=ev.traceback, host=ev.host, details=ev.details))
    return [InstanceAction(
        action=a.action, instance_uuid=a.instance_uuid, request_id=a.request_id,
        user_id=a.user_id, project_id=a.project_id, start_time=a.start_time,
        finish_time=a.finish_time, message=a.message, updated_at=a.updated_at,
        events=events[a.id]) for a in actions]


# Built once (every boot's quota check runs it in each cell): the pending uuids are an
# expanding parameter, so one statement serves any number of them, none included.
_PENDING_HERE = m.Instance.uuid.in_(sa.bindparam("uuids", expanding=True))
_PENDING_TAG = sa.case((_PENDING_HERE, m.Instance.uuid), else_=None).label("pending_uuid")
_USAGE_BY_USER = (
    sa.select(_PENDING_TAG, m.Instance.user_id, sa.func.count(m.Instance.id),
              sa.func.coalesce(sa.func.sum(m.Instance.vcpus), 0),
              sa.func.coalesce(sa.func.sum(m.Instance.memory_mb), 0))
    .where(m.Instance.project_id == sa.bindparam("project_id"), m.Instance.deleted == 0)
    .group_by(_PENDING_TAG, m.Instance.user_id))


@reading
def usage_by_user(session: Session, project_id: str, uuids: list[str]
                  ) -> tuple[dict[str, tuple[int, int, int]], set[str]]:
    """A project's live instances in this cell, per user: {user_id: (instances, vcpus,
    memory_mb)}; and which of ``uuids`` (pending build requests) already live here.

    One statement, so both answers come from the same snapshot: an instance arriving
    meanwhile is either in both or in neither (then its build request counts it)."""
    usage: dict[str, tuple[int, int, int]] = {}
    present: set[str] = set()
    for uuid, user, n, cpus, ram in session.connection().execute(
            _USAGE_BY_USER, {"project_id": project_id, "uuids": list(uuids)}):
        if uuid is not None:
            present.add(uuid)
        had = usage.get(user, (0, 0, 0))
        usage[user] = (had[0] + int(n), had[1] + int(cpus), had[2] + int(ram))
    return usage, present


@reading
def instance_sort_key(session: Session, uuid: str) -> Optional[tuple[str, str]]:
    """(project_id, uuid) of an instance, deleted or not; None if not in this cell."""
    row = session.execute(sa.select(m.Instance.project_id, m.Instance.uuid).where(
        m.Instance.uuid == uuid)).first()
    return (row[0], row[1]) if row is not None else None


@reading
def instance_list_in_window(session: Session, cell_name: Optional[str],
                            project_id: Optional[str], start: datetime, end: datetime,
                            limit: Optional[int] = None,
                            after: Optional[tuple[str, str]] = None) -> list[Instance]:
    """Instances (deleted too) launched before ``end`` and not terminated before
    ``start``, ordered by (project_id, uuid), after the ``after`` key."""
    q = sa.select(m.Instance).where(
        m.Instance.launched_at < end,
        sa.or_(m.Instance.terminated_at.is_(None), m.Instance.terminated_at > start))
    if project_id is not None:
        q = q.where(m.Instance.project_id == project_id)
    if after is not None:
        q = q.where(sa.tuple_(m.Instance.project_id, m.Instance.uuid) > sa.tuple_(*after))
    q = q.order_by(m.Instance.project_id, m.Instance.uuid)
    if limit is not None:
        q = q.limit(limit)
    return [_to_obj(r, None, cell_name) for r in session.scalars(q)]
