"""Flavor records in the API database."""

from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import reading, transactional
from nova_lite.objects.flavor import Flavor

# Flavors a fresh API database is given, as DevStack names them.
DEFAULT_FLAVORS = [
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 1, 20),
    ("3", "m1.medium", 4096, 2, 40),
    ("4", "m1.large", 8192, 4, 80),
    ("5", "m1.xlarge", 16384, 8, 160),
    ("42", "m1.nano", 128, 1, 1),
    ("84", "m1.micro", 192, 1, 1),
]


def _to_obj(row: m.Flavor, extra: dict, projects: Optional[list] = None) -> Flavor:
    return Flavor(projects=sorted(projects or []),
        id=row.id, flavorid=row.flavorid, name=row.name, memory_mb=row.memory_mb,
        vcpus=row.vcpus, root_gb=row.root_gb, ephemeral_gb=row.ephemeral_gb, swap=row.swap,
        rxtx_factor=row.rxtx_factor, is_public=row.is_public, disabled=row.disabled,
        description=row.description, extra_specs=extra)


def _extra_specs(session: Session, ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {i: {} for i in ids}
    if ids:
        q = sa.select(m.FlavorExtraSpec).where(m.FlavorExtraSpec.flavor_id.in_(ids))
        for spec in session.scalars(q):
            out[spec.flavor_id][spec.key] = spec.value
    return out


def _projects(session: Session, ids: list[int]) -> dict[int, list]:
    out: dict[int, list] = {i: [] for i in ids}
    if ids:
        q = sa.select(m.FlavorProject).where(m.FlavorProject.flavor_id.in_(ids))
        for access in session.scalars(q):
            out[access.flavor_id].append(access.project_id)
    return out


def _objects(session: Session, rows: list[m.Flavor]) -> list[Flavor]:
    ids = [r.id for r in rows]
    extra, projects = _extra_specs(session, ids), _projects(session, ids)
    return [_to_obj(r, extra[r.id], projects[r.id]) for r in rows]


@reading
def flavor_list(session: Session, is_public: Optional[bool] = True,
                min_memory_mb: int = 0, min_root_gb: int = 0,
                project_id: Optional[str] = None) -> list[Flavor]:
    """Flavors by visibility: is_public True gives the public ones plus the private ones
    ``project_id`` was given access to, False only private ones, None all."""
    q = sa.select(m.Flavor).where(m.Flavor.memory_mb >= min_memory_mb,
                                  m.Flavor.root_gb >= min_root_gb)
    if is_public and project_id is not None:
        shared = sa.select(m.FlavorProject.flavor_id).where(
            m.FlavorProject.project_id == project_id)
        q = q.where(sa.or_(m.Flavor.is_public == sa.true(), m.Flavor.id.in_(shared)))
    elif is_public is not None:
        q = q.where(m.Flavor.is_public == is_public)
    return _objects(session, list(session.scalars(q.order_by(m.Flavor.flavorid))))


def _row(session: Session, flavorid: str, lock: bool = False) -> m.Flavor:
    q = sa.select(m.Flavor).where(m.Flavor.flavorid == flavorid)
    row = session.scalars(q.with_for_update() if lock else q).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    return row


@reading
def flavor_get(session: Session, flavorid: str) -> Flavor:
    return _objects(session, [_row(session, flavorid)])[0]


@transactional
def flavor_update(session: Session, flavorid: str, values: dict) -> Flavor:
    """Change the mutable fields of a flavor (only ``description``, as in Nova)."""
    row = _row(session, flavorid)
    if "description" in values:
        row.description = values["description"]
    session.flush()
    return _objects(session, [row])[0]


# -- extra specs --------------------------------------------------------------------------

@transactional
def extra_specs_update(session: Session, flavorid: str, specs: dict) -> dict:
    """Create or overwrite the given keys; the flavor's whole set of extra specs after."""
    row = _row(session, flavorid, lock=True)
    current = {s.key: s for s in session.scalars(
        sa.select(m.FlavorExtraSpec).where(m.FlavorExtraSpec.flavor_id == row.id))}
    for key, value in specs.items():
        spec = current.get(key)
        if spec is None:
            session.add(m.FlavorExtraSpec(flavor_id=row.id, key=key, value=value))
        else:
            spec.value = value
    session.flush()
    return _extra_specs(session, [row.id])[row.id]


@transactional
def extra_spec_delete(session: Session, flavorid: str, key: str) -> None:
    row = _row(session, flavorid)
    res = session.execute(sa.delete(m.FlavorExtraSpec).where(
        m.FlavorExtraSpec.flavor_id == row.id, m.FlavorExtraSpec.key == key))
    if res.rowcount == 0:
        raise exception.FlavorExtraSpecsNotFound(flavor_id=flavorid, extra_specs_key=key)


# -- access to private flavors ------------------------------------------------------------

@transactional
def access_add(session: Session, flavorid: str, project_id: str) -> list[str]:
    row = _row(session, flavorid, lock=True)
    if row.is_public:
        raise exception.Conflict(message="Can not add access to a public flavor.")
    have = _projects(session, [row.id])[row.id]
    if project_id in have:
        raise exception.FlavorAccessExists(flavor_id=flavorid, project_id=project_id)
    session.add(m.FlavorProject(flavor_id=row.id, project_id=project_id))
    return sorted(have + [project_id])


@transactional
def access_remove(session: Session, flavorid: str, project_id: str) -> list[str]:
    row = _row(session, flavorid, lock=True)
    res = session.execute(sa.delete(m.FlavorProject).where(
        m.FlavorProject.flavor_id == row.id, m.FlavorProject.project_id == project_id))
    if res.rowcount == 0:
        raise exception.FlavorAccessNotFound(flavor_id=flavorid, project_id=project_id)
    return sorted(_projects(session, [row.id])[row.id])


@transactional
def flavor_create(session: Session, values: dict) -> Flavor:
    for what in ("flavorid", "name"):
        col = getattr(m.Flavor, what)
        if session.scalars(sa.select(m.Flavor.id).where(col == values[what])).first():
            raise exception.FlavorExists(what="ID" if what == "flavorid" else "name",
                                         value=values[what])
    extra = values.pop("extra_specs", None) or {}
    row = m.Flavor(**values)
    session.add(row)
    session.flush()
    for k, v in extra.items():
        session.add(m.FlavorExtraSpec(flavor_id=row.id, key=k, value=v))
    return _to_obj(row, dict(extra), [])


@transactional
def flavor_destroy(session: Session, flavorid: str) -> None:
    row = session.scalars(sa.select(m.Flavor).where(m.Flavor.flavorid == flavorid)).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    session.execute(sa.delete(m.FlavorExtraSpec).where(m.FlavorExtraSpec.flavor_id == row.id))
    session.execute(sa.delete(m.FlavorProject).where(m.FlavorProject.flavor_id == row.id))
    session.delete(row)


@transactional
def ensure_default_flavors(session: Session) -> int:
    """Create DEFAULT_FLAVORS that are missing; return how many were created."""
    have = set(session.scalars(sa.select(m.Flavor.flavorid)))
    names = set(session.scalars(sa.select(m.Flavor.name)))
    created = 0
    for flavorid, name, mem, vcpus, disk in DEFAULT_FLAVORS:
        if flavorid in have or name in names:
            continue
        session.add(m.Flavor(flavorid=flavorid, name=name, memory_mb=mem, vcpus=vcpus,
                             root_gb=disk, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
                             is_public=True, disabled=False))
        created += 1
    return created
