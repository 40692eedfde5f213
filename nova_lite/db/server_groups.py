"""Server groups (instance groups) and their members, in the API database.

Members are recorded when the API accepts a server, so the group's policy can be checked
inside the claim transaction (see ``claim_check``): membership, allocations and
providers all live in this database.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import reading, transactional
from nova_lite.objects.instance_group import InstanceGroup


def _members(session: Session, group_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {g: [] for g in group_ids}
    if group_ids:
        q = (sa.select(m.InstanceGroupMember.group_id, m.InstanceGroupMember.instance_uuid)
             .where(m.InstanceGroupMember.group_id.in_(group_ids))
             .order_by(m.InstanceGroupMember.id))
        for gid, uuid in session.execute(q):
            out[gid].append(uuid)
    return out


def _to_obj(row: m.InstanceGroup, members: list[str],
            hosts: Optional[dict] = None) -> InstanceGroup:
    return InstanceGroup(uuid=row.uuid, name=row.name, project_id=row.project_id,
                         user_id=row.user_id, policy=row.policy,
                         rules=json.loads(row.rules or "{}"), members=members,
                         hosts=hosts or {}, created_at=row.created_at)


def _row(session: Session, uuid: str) -> m.InstanceGroup:
    row = session.scalars(sa.select(m.InstanceGroup).where(m.InstanceGroup.uuid == uuid)
                          ).first()
    if row is None:
        raise exception.InstanceGroupNotFound(group_uuid=uuid)
    return row


def _member_hosts(session: Session, group_id: int, exclude: Optional[str] = None
                  ) -> dict[str, int]:
    """host -> number of this group's members holding an allocation there."""
    q = (sa.select(m.ResourceProvider.host,
                   sa.func.count(sa.distinct(m.Allocation.consumer_id)))
         .join(m.Allocation, m.Allocation.resource_provider_id == m.ResourceProvider.id)
         .join(m.InstanceGroupMember,
               m.InstanceGroupMember.instance_uuid == m.Allocation.consumer_id)
         .where(m.InstanceGroupMember.group_id == group_id)
         .group_by(m.ResourceProvider.host))
    if exclude is not None:
        q = q.where(m.Allocation.consumer_id != exclude)
    return {host: int(n) for host, n in session.execute(q)}


@transactional
def group_create(session: Session, name: str, project_id: str, user_id: Optional[str],
                 policy: str, rules: dict) -> InstanceGroup:
    return add_group(session, name, project_id, user_id, policy, rules)


@reading
def group_get(session: Session, uuid: str, with_hosts: bool = False) -> InstanceGroup:
    row = _row(session, uuid)
    hosts = _member_hosts(session, row.id) if with_hosts else None
    return _to_obj(row, _members(session, [row.id])[row.id], hosts)


@reading
def group_list(session: Session, project_id: Optional[str] = None) -> list[InstanceGroup]:
    q = sa.select(m.InstanceGroup).order_by(m.InstanceGroup.id)
    if project_id is not None:
        q = q.where(m.InstanceGroup.project_id == project_id)
    rows = list(session.scalars(q))
    members = _members(session, [r.id for r in rows])
    return [_to_obj(r, members[r.id]) for r in rows]


@transactional
def group_delete(session: Session, uuid: str) -> None:
    row = _row(session, uuid)
    session.execute(sa.delete(m.InstanceGroupMember).where(
        m.InstanceGroupMember.group_id == row.id))
    session.delete(row)


def add_members(session: Session, group_uuid: str, instance_uuids: list[str],
                max_members: int = -1) -> None:
    """Add servers to a group inside the caller's transaction; QuotaError (Nova's words)
    when it would hold more than max_members (-1: unlimited). The group row is locked so
    concurrent adds count each other."""
    row = session.scalars(sa.select(m.InstanceGroup).where(
        m.InstanceGroup.uuid == group_uuid).with_for_update()).first()
    if row is None:
        raise exception.InstanceGroupNotFound(group_uuid=group_uuid)
    if max_members >= 0:
        have = int(session.scalar(sa.select(sa.func.count(m.InstanceGroupMember.id)).where(
            m.InstanceGroupMember.group_id == row.id)) or 0)
        if have + len(instance_uuids) > max_members:
            raise exception.QuotaError(message="Quota exceeded, too many servers in group")
    for uuid in instance_uuids:
        session.add(m.InstanceGroupMember(group_id=row.id, instance_uuid=uuid))


@transactional
def members_add(session: Session, group_uuid: str, instance_uuids: list[str],
                max_members: int = -1) -> None:
    add_members(session, group_uuid, instance_uuids, max_members)


def count_groups(session: Session, project_id: str, user_id: Optional[str]
                 ) -> tuple[int, int]:
    """(groups of the project, of which the user's): the server_groups quota counter."""
    rows = session.execute(sa.select(m.InstanceGroup.user_id).where(
        m.InstanceGroup.project_id == project_id)).all()
    return len(rows), sum(1 for (uid,) in rows if uid == user_id)


def add_group(session: Session, name: str, project_id: str, user_id: Optional[str],
              policy: str, rules: dict) -> InstanceGroup:
    row = m.InstanceGroup(uuid=str(uuidlib.uuid4()), name=name, project_id=project_id,
                          user_id=user_id, policy=policy, rules=json.dumps(rules),
                          generation=0)
    session.add(row)
    session.flush()
    return _to_obj(row, [])


def member_remove_in(session: Session, instance_uuid: str) -> int:
    return session.execute(sa.delete(m.InstanceGroupMember).where(
        m.InstanceGroupMember.instance_uuid == instance_uuid)).rowcount


member_remove = transactional(member_remove_in)


@reading
def groups_of(session: Session, instance_uuid: str) -> list[str]:
    q = (sa.select(m.InstanceGroup.uuid)
         .join(m.InstanceGroupMember, m.InstanceGroupMember.group_id == m.InstanceGroup.id)
         .where(m.InstanceGroupMember.instance_uuid == instance_uuid))
    return list(session.scalars(q))


# Built once: every claim runs it (see placement's claim statements).
_GROUP_OF_MEMBER = (
    sa.select(m.InstanceGroup.id, m.InstanceGroup.uuid, m.InstanceGroup.policy,
              m.InstanceGroup.rules, m.InstanceGroup.generation)
    .join(m.InstanceGroupMember, m.InstanceGroupMember.group_id == m.InstanceGroup.id)
    .where(m.InstanceGroupMember.instance_uuid == sa.bindparam("consumer")))


def claim_check(session: Session, consumer_id: str, host: str) -> Optional[tuple[int, int]]:
    """Inside a claim's transaction: may consumer_id's group have it on ``host``?

    Raises GroupPolicyConflict when the (hard) policy forbids it. Returns the group's
    (id, generation) for the caller's compare-and-swap, or None for a server in no group
    (or in a soft-policy group, which only weighs hosts).
    """
    row = session.connection().execute(_GROUP_OF_MEMBER, {"consumer": consumer_id}).first()
    if row is None or row.policy not in ("affinity", "anti-affinity"):
        return None
    hosts = _member_hosts(session, row.id, exclude=consumer_id)
    if row.policy == "anti-affinity":
        limit = int(json.loads(row.rules or "{}").get("max_server_per_host", 1))
        if hosts.get(host, 0) >= limit:
            raise exception.GroupPolicyConflict(group=row.uuid, policy=row.policy, host=host)
    elif hosts and host not in hosts:
        raise exception.GroupPolicyConflict(group=row.uuid, policy=row.policy, host=host)
    return row.id, row.generation


def claim_swap(session: Session, group_id: int, generation: int) -> bool:
    """Compare-and-swap on the group's generation: False when another member's claim
    committed since claim_check read it (the caller then reads and checks again)."""
    res = session.execute(sa.update(m.InstanceGroup).where(
        m.InstanceGroup.id == group_id, m.InstanceGroup.generation == generation)
        .values(generation=generation + 1))
    return res.rowcount == 1
