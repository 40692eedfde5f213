"""Migration records and the steps of moves: the conductor's side of every move (resize
today; the operator's cold and live migrations and evacuations reuse it).

A compute host advances a move with one call, ``migration_step``: the claim operation
first (idempotent, see move_claims), then the instance and its migration record
together in one transaction, guarded by the task_state and status the step expects.
Doing the claims first means a crash between the two leaves the step to be replayed,
never a claim that nothing accounts for.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from nova_lite import context as nl_context
from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor import move_claims
from nova_lite.conf import CONF
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.objects.instance import Instance
from nova_lite.objects.migration import Migration

LOG = logging.getLogger(__name__)

# Statuses of a move that has not reached its destination yet (Nova's values).
BEFORE_DESTINATION = ("pre-migrating", "migrating", "post-migrating", "accepted", "queued",
                      "preparing", "running")


_TIME_FILTERS = frozenset(("changes_since", "changes_before"))
_SEARCH_FILTERS = frozenset(("instance_uuid", "host", "status", "migration_type",
                             "source_compute", "user_id", "project_id")) | _TIME_FILTERS


def _naive_utc(text: str) -> datetime:
    """ISO 8601 text as the naive UTC datetime the database stores."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def begin_move(ctx: Any, url: str, mig: Migration, transition: states.Transition,
               schedule_event: str, update: Callable[[], Instance]) -> Instance:
    """Every move's start: ``update`` sets the server's task state (and whatever else
    the move records); when it is refused (state, lock, quota) the move never started
    and its record is hidden from operators. Then the instance action and its
    scheduling event begin."""
    try:
        inst = update()
    except Exception:
        mig_db.migration_update(url, mig.uuid, {"status": "error", "hidden": True})
        raise
    inst_db.action_start(url, inst.uuid, transition.action_record, ctx.request_id,
                         ctx.user_id, ctx.project_id)
    inst_db.action_event(url, inst.uuid, ctx.request_id, schedule_event, "start", None)
    return inst


class MigrationsMixin:
    api_url: str
    cells: Any
    compute: Any

    # -- records, for every service ----------------------------------------------------
    def migration_get(self, ctx: Any, uuid: str) -> Migration:
        for cell in self.cells.real_cells():
            try:
                return mig_db.migration_get(cell["database_connection"], uuid)
            except exception.MigrationNotFound:
                continue
        raise exception.MigrationNotFound(migration_id=uuid)

    def migration_list(self, ctx: Any, instance_uuid: Optional[str] = None,
                       host: Optional[str] = None, status: Any = None,
                       in_progress: Optional[bool] = None,
                       migration_type: Optional[str] = None,
                       unchanged_for: Optional[int] = None,
                       limit: Optional[int] = None) -> list:
        """Migrations of every cell, newest first. ``host``: source or destination;
        ``unchanged_for``: not updated for that many seconds."""
        before = (datetime.utcnow() - timedelta(seconds=unchanged_for)
                  if unchanged_for is not None else None)
        out: list[Migration] = []
        for cell in self.cells.real_cells():
            out.extend(mig_db.migration_list(
                cell["database_connection"], instance_uuid=instance_uuid, host=host,
                status=status, in_progress=in_progress, migration_type=migration_type,
                updated_before=before, limit=limit))
        out.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return out[:limit] if limit else out

    def migration_search(self, ctx: Any, filters: dict, limit: Optional[int] = None,
                         marker: Optional[str] = None) -> list:
        """The operator's view (GET /os-migrations): visible migrations of every cell
        matching ``filters`` (instance_uuid, host, status, migration_type,
        source_compute, user_id, project_id; changes_since/changes_before as ISO 8601
        UTC text), newest first, the page after ``marker`` (a uuid) of ``limit``."""
        unknown = set(filters) - _SEARCH_FILTERS
        if unknown:
            raise exception.Invalid(reason=f"unknown migration filters {sorted(unknown)}")
        args = {k: v for k, v in filters.items() if k in _SEARCH_FILTERS - _TIME_FILTERS}
        for key, arg in (("changes_since", "changed_since"),
                         ("changes_before", "changed_before")):
            if filters.get(key):
                args[arg] = _naive_utc(filters[key])
        out: list[Migration] = []
        for cell in self.cells.real_cells():
            out.extend(mig_db.migration_list(cell["database_connection"], hidden=False,
                                             **args))
        out.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        if marker is not None:
            at = next((n for n, m in enumerate(out) if m.uuid == marker), None)
            if at is None:
                raise exception.MarkerNotFound(marker=marker)
            out = out[at + 1:]
        return out[:limit] if limit is not None else out

    # -- steps of a move -----------------------------------------------------------------
    def migration_step(self, ctx: Any, instance_uuid: str, migration_uuid: str,
                       instance_values: dict, migration_values: dict,
                       expected_task_state: Any = "__any__", expected_status: Any = None,
                       claims: Optional[str] = None, event: Optional[dict] = None,
                       fault: Optional[dict] = None) -> Instance:
        """Advance a move: ``claims`` (move_claims.HOLD/RETURN/DROP) first, then the
        instance and the migration together; ``fault`` ({"code", "message",
        "details", "host"}) and ``event`` as instance_update records them."""
        cell = self.cells.instance_cell(instance_uuid)
        if cell is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        url = cell["database_connection"]
        if claims:
            move_claims.apply(self.api_url, claims, instance_uuid, migration_uuid)
        inst = mig_db.advance(url, instance_uuid, instance_values, expected_task_state,
                              migration_uuid, migration_values, expected_status,
                              cell["name"])
        if fault:
            inst_db.fault_create(url, instance_uuid, fault.get("code", 500),
                                 fault["message"], fault.get("details"), fault.get("host"))
        if event:
            inst_db.action_event(url, instance_uuid, ctx.request_id, event["event"],
                                 event["phase"], event.get("host"), event.get("result"),
                                 event.get("traceback"))
            if event["phase"] == "finish":
                inst_db.action_finish(url, instance_uuid, ctx.request_id)
        return inst

    def _move_in_progress(self, url: str, instance_uuid: str) -> Optional[Migration]:
        moves = mig_db.migration_list(url, instance_uuid=instance_uuid, in_progress=True,
                                      limit=1)
        return moves[0] if moves else None

    def _abort_move(self, ctx: Any, cell: dict, instance_uuid: str, mig: Migration,
                    message: str, event: str, code: int = 500,
                    expected_task_state: Any = "__any__") -> None:
        """A move that failed before reaching its destination: the claim goes back to
        the server, which keeps its host, flavor and vm_state, with a fault saying why."""
        url = cell["database_connection"]
        inst = inst_db.instance_get(url, instance_uuid, cell["name"])
        sysmeta = dict(inst.get("system_metadata") or {})
        vm_state = sysmeta.pop("old_vm_state", None) or inst.vm_state
        old = inst.get("old_flavor") or inst.flavor
        try:
            self.migration_step(
                ctx, instance_uuid, mig.uuid,
                {"task_state": None, "vm_state": vm_state, "old_flavor": None,
                 "new_flavor": None, "system_metadata": sysmeta, "vcpus": old.vcpus,
                 "memory_mb": old.memory_mb},
                {"status": "error"}, expected_task_state=expected_task_state,
                claims=move_claims.RETURN,
                event={"event": event, "phase": "finish", "result": "Error",
                       "traceback": message},
                fault={"code": code, "message": message})
        except (exception.InstanceInvalidState, exception.MigrationInvalidState,
                exception.InstanceNotFound) as err:
            LOG.info("move %s of %s changed while being aborted: %s", mig.uuid,
                     instance_uuid, err)

    # -- deletes and resets --------------------------------------------------------------
    def _end_moves_of_deleted(self, instance_uuid: str, cell_url: str) -> None:
        """A deleted server's unfinished moves end, and their claims with them (an
        evacuation whose dead source has not come back yet holds one too)."""
        moves = mig_db.moves_left_by(cell_url, instance_uuid)
        for mig in moves:
            move_claims.drop_source_claim(self.api_url, mig)
        if moves:
            mig_db.migrations_end(cell_url, moves)

    def _stop_moves_elsewhere(self, ctx: Any, url: str, inst: Instance) -> None:
        """Deleting a server mid-move: the move's other host removes its guest too."""
        mig = self._move_in_progress(url, inst.uuid)
        if mig is None:
            return
        for host in {mig.source_compute, mig.dest_compute} - {inst.host, None}:
            self.compute.remove_guest(ctx, host, inst)

    def _settle_move_on_reset(self, ctx: Any, cell: dict, inst: Instance) -> None:
        """os-resetState on a server mid-move ends the move where the server is now: on
        the source (the claim returns to it) or on the destination (the source claim
        is dropped), so no claim outlives it."""
        url = cell["database_connection"]
        mig = self._move_in_progress(url, inst.uuid)
        if mig is None:
            return
        if inst.host == mig.source_compute and mig.status in BEFORE_DESTINATION:
            move_claims.return_source_claim(self.api_url, mig.uuid, inst.uuid)
        else:
            move_claims.drop_source_claim(self.api_url, mig.uuid)
        mig_db.migration_update(url, mig.uuid, {"status": "error"})
        LOG.warning("reset state of %s ended its move %s (%s)", inst.uuid, mig.uuid,
                    mig.status)

    # -- start-up ----------------------------------------------------------------------
    def reconcile_moves(self) -> int:
        """At start-up: moves a crash of a conductor left unscheduled ('pre-migrating',
        or 'accepted' for live migrations and evacuations, 'queued' for a live migration
        its source never started, and not changed for [conductor]
        build_request_retry_seconds) are aborted."""
        ctx = nl_context.get_admin_context()
        count = 0
        for cell in self.cells.real_cells():
            url = cell["database_connection"]
            cutoff = datetime.utcnow() - timedelta(
                seconds=CONF.conductor.build_request_retry_seconds)
            for mig in mig_db.migration_list(url, status=["pre-migrating", "accepted",
                                                          "queued"],
                                             updated_before=cutoff):
                if mig.dest_compute and mig.migration_type == "evacuation":
                    continue  # scheduled: its destination carries it on
                # 'queued': a live migration whose source never took it up (the cast was
                # lost with the conductor); the source's first step then finds it ended
                LOG.warning("aborting move %s of %s, left unscheduled by a restart",
                            mig.uuid, mig.instance_uuid)
                try:
                    self._abort_move(ctx, cell, mig.instance_uuid, mig,
                                     "The move was interrupted by a restart of "
                                     "nova-lite-conductor before it was scheduled.",
                                     "conductor_migrate_server",
                                     expected_task_state=[states.RESIZE_PREP,
                                                          states.MIGRATING,
                                                          states.REBUILDING, None])
                    count += 1
                except exception.InstanceNotFound:
                    self._end_moves_of_deleted(mig.instance_uuid, url)
        return count
