"""A server's metadata and tags in its cell database, changed under the instance's row
lock so concurrent edits neither lose updates nor slip past the state check."""

from __future__ import annotations

import json
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import main_models as m
from nova_lite.db.engine import JOINED_MAX, transactional

MAX_TAGS = 50


def tags_of(session: Session, uuids: list[str]) -> dict[str, list[str]]:
    """Each instance's tags in code point order (sorted here, not by the database,
    whose collation may ignore case: every reader gives the same order)."""
    out: dict[str, list[str]] = {u: [] for u in uuids}
    if uuids:
        q = sa.select(m.Tag.resource_id, m.Tag.tag).where(m.Tag.resource_id.in_(uuids))
        for uuid, tag in session.execute(q):
            out[uuid].append(tag)
    for tags in out.values():
        tags.sort()
    return out


def tags_column() -> sa.ScalarSelect:
    """An instance's tags as one column of its own row's query (comma-separated: a tag
    holds no comma), so that reading one server takes one statement."""
    return (sa.select(sa.func.group_concat(m.Tag.tag))
            .where(m.Tag.resource_id == m.Instance.uuid).scalar_subquery())


def tags_from_column(session: Session, uuid: str, text: Optional[str]) -> list[str]:
    """The tags of tags_column's ``text``, in tags_of's order."""
    if text is None:
        return []
    if len(text) >= JOINED_MAX:
        return tags_of(session, [uuid])[uuid]
    return sorted(text.split(","))


def write_tags(session: Session, uuid: str, tags: list[str]) -> None:
    session.execute(sa.delete(m.Tag).where(m.Tag.resource_id == uuid))
    for tag in sorted(set(tags)):
        session.add(m.Tag(resource_id=uuid, tag=tag))


def tag_filters(q: Any, filters: dict) -> Any:
    """Nova's four tag filters on an instance query: ``tags`` (all of), ``tags-any``,
    ``not-tags`` (not all of) and ``not-tags-any`` (none of); each a list of tags."""
    def has(tag_list: list[str]) -> Any:
        return sa.exists().where(m.Tag.resource_id == m.Instance.uuid,
                                 m.Tag.tag.in_(tag_list))

    def has_each(tag_list: list[str]) -> Any:
        return sa.and_(*[sa.exists().where(m.Tag.resource_id == m.Instance.uuid,
                                           m.Tag.tag == t) for t in tag_list])

    if filters.get("tags"):
        q = q.where(has_each(filters["tags"]))
    if filters.get("tags-any"):
        q = q.where(has(filters["tags-any"]))
    if filters.get("not-tags"):
        q = q.where(sa.not_(has_each(filters["not-tags"])))
    if filters.get("not-tags-any"):
        q = q.where(sa.not_(has(filters["not-tags-any"])))
    return q


def _locked_row(session: Session, uuid: str, action: str, vm_states: tuple,
                needs_idle: bool) -> m.Instance:
    row = session.scalars(sa.select(m.Instance).where(
        m.Instance.uuid == uuid, m.Instance.deleted == 0).with_for_update()).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=uuid)
    if row.vm_state not in vm_states:
        raise exception.InstanceInvalidState(action=action, instance_uuid=uuid,
                                             attr="vm_state", state=row.vm_state)
    if needs_idle and row.task_state is not None:
        raise exception.InstanceInvalidState(action=action, instance_uuid=uuid,
                                             attr="task_state", state=row.task_state)
    return row


@transactional
def metadata_update(session: Session, uuid: str, vm_states: tuple, updates: dict,
                    delete_key: Optional[str] = None, replace: bool = False,
                    max_items: int = -1) -> dict:
    """Merge (or with replace, set) metadata, or delete one key; the metadata after.
    QuotaError when it would hold more than max_items keys (-1: unlimited)."""
    row = _locked_row(session, uuid, "update metadata", vm_states, needs_idle=True)
    current = {} if replace else json.loads(row.metadata_json or "{}")
    if delete_key is not None:
        if delete_key not in current:
            raise exception.MetadataItemNotFound()
        del current[delete_key]
    current.update(updates)
    if 0 <= max_items < len(current) and updates:
        raise exception.MetadataLimitExceeded(allowed=max_items)
    row.metadata_json = json.dumps(current)
    return current


@transactional
def tags_update(session: Session, uuid: str, vm_states: tuple, add: list[str],
                remove: list[str], replace: bool = False) -> tuple[list[str], bool]:
    """Add and remove tags (replace: set exactly ``add``); (tags after, changed)."""
    _locked_row(session, uuid, "update tags", vm_states, needs_idle=False)
    before = tags_of(session, [uuid])[uuid]
    missing = [t for t in remove if t not in before]
    if missing:
        raise exception.InstanceTagNotFound(instance_id=uuid, tag=missing[0])
    after = set(add) if replace else (set(before) | set(add)) - set(remove)
    if len(after) > MAX_TAGS:
        raise exception.Invalid(
            message=f"The number of tags exceeded the per-server limit {MAX_TAGS}")
    if after != set(before):
        write_tags(session, uuid, sorted(after))
    return sorted(after), after != set(before)
