"""Flavor records in the API database."""

from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import transactional
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


def _to_obj(row: m.Flavor, extra: dict) -> Flavor:
    return Flavor(
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


@transactional
def flavor_list(session: Session, is_public: Optional[bool] = True,
                min_memory_mb: int = 0, min_root_gb: int = 0) -> list[Flavor]:
    q = sa.select(m.Flavor).where(m.Flavor.memory_mb >= min_memory_mb,
                                  m.Flavor.root_gb >= min_root_gb)
    if is_public is not None:
        q = q.where(m.Flavor.is_public == is_public)
    rows = list(session.scalars(q.order_by(m.Flavor.flavorid)))
    extra = _extra_specs(session, [r.id for r in rows])
    return [_to_obj(r, extra[r.id]) for r in rows]


@transactional
def flavor_get(session: Session, flavorid: str) -> Flavor:
    row = session.scalars(sa.select(m.Flavor).where(m.Flavor.flavorid == flavorid)).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    return _to_obj(row, _extra_specs(session, [row.id])[row.id])


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
    return _to_obj(row, dict(extra))


@transactional
def flavor_destroy(session: Session, flavorid: str) -> None:
    row = session.scalars(sa.select(m.Flavor).where(m.Flavor.flavorid == flavorid)).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    session.execute(sa.delete(m.FlavorExtraSpec).where(m.FlavorExtraSpec.flavor_id == row.id))
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
