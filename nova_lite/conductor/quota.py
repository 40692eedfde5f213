"""The quota engine: limits, usage counted from the real records, and one serialised
check-and-record step.

Usage is never stored: every check counts what exists (instances in the cells, pending
build requests, key pairs, ...). To keep concurrent requests from overshooting a limit,
``check_deltas`` takes the project's row in ``quota_locks`` FOR UPDATE, counts, compares,
and runs the caller's ``record`` (which writes the new usage, e.g. the build requests)
in that same API-database transaction. Every conductor worker process goes through that
row lock, so the check and the record are one step across all of them.

Adding a counted resource is one call::

    quota.register_counter("server_groups", lambda c: {"server_groups": (n_project, n_user)})

A counter gets a CountContext (the locked API session, the cells, the project, the user,
the caller's ``scope``) and returns ``{resource: (project_used, user_used)}``. Resources
without a counter are absolute: the delta itself is compared with the limit (e.g.
``{"metadata_items": 12}`` for a server with 12 items).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Optional, Union

from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.conf import CONF
from nova_lite.db import engine as db_engine
from nova_lite.db import instances as inst_db
from nova_lite.db import quotas as quotas_db

UNLIMITED = -1

# Every resource a quota set shows: name -> the [quota] option holding its default, or
# the fixed default of resources kept only for the API's older microversions
# (nova-network's and personality files', which nothing here consumes).
RESOURCES: dict[str, Union[str, int]] = {
    "instances": "instances",
    "cores": "cores",
    "ram": "ram",
    "metadata_items": "metadata_items",
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "key_pairs": "key_pairs",
    "server_groups": "server_groups",
    "server_group_members": "server_group_members",
    "fixed_ips": -1,
    "floating_ips": 10,
    "security_groups": 10,
    "security_group_rules": 20,
}
# Counted per user, not per project (their project usage is not meaningful).
PER_USER = {"key_pairs", "server_group_members"}

Usage = tuple[int, int]  # (used in the project, used by the user)


@dataclasses.dataclass
class CountContext:
    session: Session  # API database, inside the transaction holding the quota lock
    cells: Any  # conductor.cells.CellDirectory
    project_id: str
    user_id: Optional[str]
    scope: dict  # whatever the caller passed (e.g. {"group_uuid": ...})


Counter = Callable[[CountContext], dict[str, Usage]]
COUNTERS: dict[str, Counter] = {}


def register_counter(resources: Union[str, Iterable[str]], counter: Counter) -> None:
    """Count ``resources`` with ``counter`` (one call may count several at once)."""
    for name in [resources] if isinstance(resources, str) else resources:
        if name not in RESOURCES:
            raise ValueError(f"unknown quota resource {name}")
        COUNTERS[name] = counter


def count_instances(c: CountContext) -> dict[str, Usage]:
    """instances, cores and ram: live instances in every cell (cell0's ERROR ones too)
    plus build requests not yet in a cell. Build requests are read first (in the locked
    transaction), then the cells: a server moving from one to the other meanwhile is
    found in the cell, so it is never missed."""
    pending = quotas_db.pending_instances(c.session, c.project_id)
    totals = {"instances": [0, 0], "cores": [0, 0], "ram": [0, 0]}

    def add(user_id: Optional[str], n: int, cpus: int, ram: int) -> None:
        mine = user_id is not None and user_id == c.user_id
        for name, value in (("instances", n), ("cores", cpus), ("ram", ram)):
            totals[name][0] += value
            if mine:
                totals[name][1] += value

    for cell in c.cells.all():
        usage, present = inst_db.usage_by_user(cell["database_connection"], c.project_id,
                                               list(pending))
        for uuid in present:
            pending.pop(uuid, None)
        for user_id, (n, cpus, ram) in usage.items():
            add(user_id, n, cpus, ram)
    for user_id, cpus, ram in pending.values():
        add(user_id, 1, cpus, ram)
    return {k: (v[0], v[1]) for k, v in totals.items()}


def count_keypairs(c: CountContext) -> dict[str, Usage]:
    n = quotas_db.keypair_count(c.session, c.user_id) if c.user_id else 0
    return {"key_pairs": (n, n)}


register_counter(("instances", "cores", "ram"), count_instances)
register_counter("key_pairs", count_keypairs)


def _unlimited(limit: int) -> bool:
    return limit < 0


class QuotaEngine:
    """Limits and checks; the conductor holds one, ``ConductorManager.quota``."""

    def __init__(self, api_url: str, cells: Any) -> None:
        self.api_url = api_url
        self.cells = cells

    # -- limits --------------------------------------------------------------------------
    @staticmethod
    def config_defaults() -> dict[str, int]:
        return {name: getattr(CONF.quota, src) if isinstance(src, str) else src
                for name, src in RESOURCES.items()}

    def defaults(self, session: Session) -> dict[str, int]:
        """[quota] options, overridden by the 'default' quota class set via the API."""
        values = self.config_defaults()
        values.update({k: v for k, v in quotas_db.class_limits(session).items()
                       if k in values})
        return values

    def limits(self, session: Session, project_id: str, user_id: Optional[str] = None
               ) -> tuple[dict[str, int], dict[str, int]]:
        """(project limits, user limits); a user without own limits has the project's."""
        default_class, own, users = quotas_db.all_limits(session, project_id, user_id)
        project = self.config_defaults()
        for values in (default_class, own):
            project.update({k: v for k, v in values.items() if k in project})
        user = dict(project)
        user.update({k: v for k, v in users.items() if k in user})
        return project, user

    def usage(self, session: Session, project_id: str, user_id: Optional[str],
              resources: Iterable[str], scope: Optional[dict] = None) -> dict[str, Usage]:
        """Counted usage of ``resources`` (absolute ones are 0)."""
        ctx = CountContext(session, self.cells, project_id, user_id, dict(scope or {}))
        out: dict[str, Usage] = {}
        for name in resources:
            if name in out:
                continue
            counter = COUNTERS.get(name)
            if counter is None:
                out[name] = (0, 0)
                continue
            out.update(counter(ctx))
        return out

    # -- the check ---------------------------------------------------------------------------
    def check_deltas(self, ctx: Any, project_id: str, user_id: Optional[str],
                     deltas: dict[str, int], scope: Optional[dict] = None,
                     record: Optional[Callable[[Session], Any]] = None) -> Any:
        """Raise OverQuota (403, Nova's message) if adding ``deltas`` to the counted usage
        of ``project_id``/``user_id`` passes a limit; else run ``record(session)`` under
        the same lock and transaction and return what it returns.

        ``record`` writes the new usage (build requests, a keypair row, a resized
        flavor...) so the next check counts it; it may also write elsewhere, since the
        lock is held until it returns. It is re-run if the transaction is replayed after
        a deadlock.
        """
        def step(session: Session) -> Any:
            self._check(session, project_id, user_id, deltas, scope)
            return record(session) if record is not None else None

        return db_engine.run_in_transaction(self.api_url, step)

    def fit_instances(self, ctx: Any, project_id: str, user_id: Optional[str],
                      per_instance: dict[str, int], min_count: int, max_count: int,
                      record: Callable[[Session, int], Any]) -> Any:
        """Multiple create: run ``record(session, n)`` with the largest n in
        [min_count, max_count] that fits; OverQuota for max_count if not even min_count
        fits (as Nova words it)."""
        def step(session: Session) -> Any:
            n = max_count
            try:
                self._check(session, project_id, user_id, _times(per_instance, n), None)
            except exception.OverQuota as err:
                room = self._room(session, project_id, user_id, per_instance)
                n = min(room, max_count)
                if n < min_count:
                    raise err from None
            return record(session, n)

        return db_engine.run_in_transaction(self.api_url, step)

    def _check(self, session: Session, project_id: str, user_id: Optional[str],
               deltas: dict[str, int], scope: Optional[dict]) -> None:
        growing = {k: v for k, v in deltas.items() if v > 0}
        if not growing:
            return
        project_limits, user_limits = self.limits(session, project_id, user_id)
        limited = {k for k in growing
                   if not (_unlimited(project_limits.get(k, UNLIMITED))
                           and _unlimited(user_limits.get(k, UNLIMITED)))}
        if not limited:
            return
        if any(k in COUNTERS for k in limited):
            quotas_db.lock_project(session, project_id)
        used = self.usage(session, project_id, user_id, sorted(limited), scope)
        overs = []
        for name in sorted(limited):
            over = _over(name, growing[name], used[name], project_limits[name],
                         user_limits[name])
            if over is not None:
                overs.append((name, growing[name]) + over)
        if overs:
            raise exception.OverQuota(
                overs=", ".join(o[0] for o in overs), req=", ".join(str(o[1]) for o in overs),
                used=", ".join(str(o[2]) for o in overs),
                allowed=", ".join(str(o[3]) for o in overs))

    def _room(self, session: Session, project_id: str, user_id: Optional[str],
              per_instance: dict[str, int]) -> int:
        """How many more instances of ``per_instance`` fit (the lock is already held)."""
        project_limits, user_limits = self.limits(session, project_id, user_id)
        wanted = [k for k, v in per_instance.items() if v > 0]
        used = self.usage(session, project_id, user_id, wanted)
        room: Optional[int] = None
        for name in wanted:
            for limit, have in ((project_limits[name], used[name][0]),
                                (user_limits[name], used[name][1])):
                if not _unlimited(limit):
                    fits = max(0, limit - have) // per_instance[name]
                    room = fits if room is None else min(room, fits)
        return room if room is not None else 1 << 30


def _times(per_instance: dict[str, int], n: int) -> dict[str, int]:
    return {k: v * n for k, v in per_instance.items()}


def _over(name: str, delta: int, used: Usage, project_limit: int, user_limit: int
          ) -> Optional[tuple[int, int]]:
    """(used, limit) of the first limit ``delta`` would pass, or None."""
    project_used, user_used = used
    checks = [(user_used, user_limit)] if name in PER_USER else [
        (project_used, project_limit), (user_used, user_limit)]
    for have, limit in checks:
        if not _unlimited(limit) and have + delta > limit:
            return have, limit
    return None
