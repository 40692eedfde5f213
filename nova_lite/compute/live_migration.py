"""The compute hosts' side of a live migration: the guest keeps running while it is
copied, and the server stays on its source until the destination takes it over.

  source  live_migration          'queued' -> 'preparing'; asks the destination to
  dest    pre_live_migration        make room (a call), then 'running': the driver
  source                            copies, reporting progress into the migration record
  source                          the copy is done: what is left here goes, then
  dest    post_live_migration_at_destination   the server is the destination's
                                    ('completed'; the source claim is dropped)

A failure or an abort before the copy is done leaves the guest running on the source:
the destination removes what it made (rollback_live_migration_at_destination) and the
claim returns to the server ('error' with a fault, or 'cancelled'). Abort and force
complete reach the running copy from another RPC thread, without the instance lock.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.objects.instance import Instance
from nova_lite.objects.migration import CLAIM_DROP, CLAIM_RETURN
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

_GONE = (exception.InstanceNotFound, exception.InstanceInvalidState,
         exception.MigrationNotFound, exception.MigrationInvalidState)
# Statuses of a live migration that has not reached its destination yet.
UNFINISHED = ("accepted", "queued", "preparing", "running")
# Progress reports go to the database at most this often (seconds).
PROGRESS_INTERVAL = 0.5


class LiveMigrationMixin:
    host: str
    conductor: Any
    driver: Any
    image_api: Any
    move_rpc: Any

    # -- source --------------------------------------------------------------------------
    def live_migration(self, ctx: Any, instance: Instance, migration: Any,
                       block_migration: bool) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            try:
                self._live_migrate(ctx, instance, migration, block_migration)
            finally:
                self.__dict__.get("_live_aborts", set()).discard(migration.uuid)

    def _live_migrate(self, ctx: Any, inst: Instance, mig: Any, block: bool) -> None:
        event = f"compute_{states.get('live_migration').event}"
        try:
            inst = self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid, {}, {"status": "preparing"},
                expected_task_state=states.MIGRATING, expected_status="queued",
                event=self._event("live_migration", "start"))  # type: ignore[attr-defined]
        except _GONE as err:
            LOG.info("live migration of %s not started: %s", inst.uuid, err)
            return
        spec = self._spec(inst, inst.flavor)  # type: ignore[attr-defined]
        moved: list = []  # the volumes' attachments on the destination (pre_live_migration)
        try:
            data = self.move_rpc.pre_live_migration(ctx, mig.dest_compute, inst, mig, block)
            moved = list(data.get("volumes") or [])
            if self._abort_requested(mig.uuid):  # aborted while it was being prepared
                raise virt_driver.LiveMigrationAborted("aborted before the copy")
            self.conductor.migration_step(ctx, inst.uuid, mig.uuid, {}, {"status": "running"},
                                          expected_task_state=states.MIGRATING,
                                          expected_status="preparing")
            self.driver.live_migration(spec, mig.dest_compute, data, block,
                                       self._progress_reporter(ctx, inst, mig))
        except virt_driver.LiveMigrationAborted:
            LOG.info("live migration of %s aborted", inst.uuid)
            self._live_rollback(ctx, inst, mig, None, event, moved)
            return
        except _GONE as err:
            LOG.info("%s changed during its live migration (%s); rolling back", inst.uuid,
                     err)
            self._live_rollback(ctx, inst, mig, err, event, moved)
            return
        except Exception as err:
            LOG.exception("live migration of %s to %s failed", inst.uuid, mig.dest_compute)
            self._live_rollback(ctx, inst, mig, err, event, moved)
            return
        self._live_volumes_left(ctx, inst, moved)  # type: ignore[attr-defined]
        try:
            self.driver.post_live_migration(spec)
        except Exception:
            LOG.exception("clean-up of %s on %s after its live migration failed",
                          inst.uuid, self.host)
        self.conductor.action_event(ctx, inst.uuid, event, "finish", self.host, "Success")
        self.move_rpc.post_live_migration_at_destination(ctx, mig.dest_compute, inst, mig)

    def _progress_reporter(self, ctx: Any, inst: Instance, mig: Any) -> Any:
        last = [0.0]

        def report(stats: dict) -> None:
            now = time.monotonic()
            done = not stats.get("memory_remaining") and not stats.get("disk_remaining")
            if now - last[0] < PROGRESS_INTERVAL and not done:
                return
            last[0] = now
            values = {k: int(stats[k]) for k in (
                "memory_total", "memory_processed", "memory_remaining", "disk_total",
                "disk_processed", "disk_remaining") if stats.get(k) is not None}
            try:
                self.conductor.migration_step(ctx, inst.uuid, mig.uuid, {}, values,
                                              expected_task_state=states.MIGRATING,
                                              expected_status="running")
            except _GONE as err:  # deleted or reset: stop copying
                LOG.info("%s changed during its live migration: %s", inst.uuid, err)
                self.driver.live_migration_abort(self._spec(  # type: ignore[attr-defined]
                    inst, inst.flavor))
        return report

    def _live_rollback(self, ctx: Any, inst: Instance, mig: Any,
                       err: Optional[BaseException], event: str,
                       moved: Optional[list] = None) -> None:
        """The guest still runs here: the destination removes what it made (and its
        volume attachments, ``moved``), the claim returns to the server (err None: an
        abort, 'cancelled', no fault)."""
        self._live_volumes_undo(ctx, inst, moved or [])  # type: ignore[attr-defined]
        try:
            self.move_rpc.rollback_live_migration_at_destination(ctx, mig.dest_compute,
                                                                 inst, mig)
        except Exception:
            LOG.exception("could not ask %s to clean up after %s", mig.dest_compute,
                          inst.uuid)
        from nova_lite.compute.resize import _fault

        fault = _fault(err, self.host) if err is not None else None
        spec = self._spec(inst, inst.flavor)  # type: ignore[attr-defined]
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid,
                {"task_state": None, "host": mig.source_compute, "node": mig.source_node,
                 "power_state": self.driver.get_power_state(spec)},
                {"status": "error" if err is not None else "cancelled"},
                expected_task_state=states.MIGRATING, expected_status=list(UNFINISHED),
                claims=CLAIM_RETURN,
                event=self._event(  # type: ignore[attr-defined]
                    "live_migration", "finish", "Error" if fault else "Cancelled",
                    fault["details"] if fault else None),
                fault=fault)
        except _GONE as gone:
            LOG.info("%s changed while its live migration was rolled back: %s", inst.uuid,
                     gone)

    def _abort_requested(self, migration_uuid: str) -> bool:
        aborts = self.__dict__.get("_live_aborts", set())
        return migration_uuid in aborts

    def live_migration_abort(self, ctx: Any, instance: Instance, migration: Any) -> None:
        """Stop the copy, or (still 'preparing', 2.65) keep it from starting; no instance
        lock: live_migration holds it."""
        self.__dict__.setdefault("_live_aborts", set()).add(migration.uuid)
        try:
            self.driver.live_migration_abort(self._spec(  # type: ignore[attr-defined]
                instance, instance.flavor))
        except virt_driver.DriverError as err:
            LOG.info("abort of the live migration of %s: %s", instance.uuid, err)

    def live_migration_force_complete(self, ctx: Any, instance: Instance,
                                      migration: Any) -> None:
        """Finish the copy now (no instance lock: live_migration holds it)."""
        event = "compute_live_migration_force_complete"
        self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
        try:
            self.driver.live_migration_force_complete(self._spec(  # type: ignore[attr-defined]
                instance, instance.flavor))
        except virt_driver.DriverError as err:
            LOG.info("force complete of the live migration of %s: %s", instance.uuid, err)
            self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                        "Error", str(err))
            return
        self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                    "Success")

    # -- destination ---------------------------------------------------------------------
    def pre_live_migration(self, ctx: Any, instance: Instance, migration: Any,
                           block_migration: bool) -> dict:
        """Make room for the incoming guest; the migrate_data for the source."""
        event = "compute_pre_live_migration"
        self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
        try:
            from nova_lite.compute import guest_access
            from nova_lite.conf import CONF

            image_meta = (self.image_api.show(None, instance.image_ref)
                          if instance.image_ref else {})
            spec = self._spec(instance, instance.flavor)  # type: ignore[attr-defined]
            # the config drive is made again here (a read-only disk the copy leaves out)
            drive = guest_access.config_drive_files(self.conductor, ctx, instance,
                                                    image_meta, CONF)
            if drive is not None:
                spec.extra["config_drive"] = drive
            moved = self._live_volumes_here(ctx, instance, spec)  # type: ignore[attr-defined]
            try:
                data = self.driver.pre_live_migration(spec, block_migration, image_meta)
            except Exception:
                self._live_volumes_undo(ctx, instance, moved)  # type: ignore[attr-defined]
                raise
            if moved:
                data = dict(data, volumes=moved)
        except Exception as err:
            LOG.exception("preparing %s for the live migration of %s failed", self.host,
                          instance.uuid)
            self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                        "Error", str(err))
            raise exception.NovaLiteException(
                f"pre_live_migration on {self.host} failed: {err}") from err
        self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host, "Success")
        return data

    def post_live_migration_at_destination(self, ctx: Any, instance: Instance,
                                           migration: Any) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._post_at_destination(ctx, instance, migration)

    def _post_at_destination(self, ctx: Any, inst: Instance, mig: Any) -> None:
        from nova_lite.compute.resize import _fault

        spec = self._spec(inst, inst.flavor)  # type: ignore[attr-defined]
        name = "post_live_migration_at_destination"
        failure: Optional[BaseException] = None
        try:
            # the ports follow the guest: bound to this host from now on (Neutron)
            self._bind_ports_here(ctx, inst)  # type: ignore[attr-defined]
        except Exception:
            LOG.exception("binding the ports of %s to %s failed", inst.uuid, self.host)
        try:
            self.driver.post_live_migration_at_destination(
                spec, paused=inst.vm_state == states.PAUSED)
            self._live_volumes_complete(ctx, inst)  # type: ignore[attr-defined]
        except Exception as err:
            LOG.exception("taking over %s on %s failed", inst.uuid, self.host)
            failure = err
        fault = _fault(failure, self.host) if failure else None
        values = {"host": self.host, "node": mig.dest_node, "task_state": None,
                  "power_state": self.driver.get_power_state(spec)}
        if failure:
            values["vm_state"] = states.ERROR
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid, values,
                {"status": "error" if failure else "completed"},
                expected_task_state=states.MIGRATING, expected_status="running",
                claims=CLAIM_DROP,
                event=self._event(name, "finish",  # type: ignore[attr-defined]
                                  "Error" if failure else "Success",
                                  fault["details"] if fault else None),
                fault=fault)
        except _GONE as err:
            LOG.info("%s changed while its live migration finished: %s", inst.uuid, err)
            return
        LOG.info("instance %s: live-migrated from %s to %s (migration %s)", inst.uuid,
                 mig.source_compute, self.host, mig.uuid)

    def rollback_live_migration_at_destination(self, ctx: Any, instance: Instance,
                                               migration: Any) -> None:
        try:
            self.driver.rollback_live_migration_at_destination(
                self._spec(instance, instance.flavor))  # type: ignore[attr-defined]
        except Exception:
            LOG.exception("clean-up of the incoming %s on %s failed", instance.uuid,
                          self.host)

    # -- restart -------------------------------------------------------------------------
    def _recover_live_migration(self, ctx: Any, inst: Instance, mig: Any) -> None:
        """A restart of the source ended its copy: the server stays on the source, the
        destination cleans up, the claim returns. A restarted destination leaves the
        move to the source (its post or rollback step arrives when it is done)."""
        if mig.source_compute != self.host or inst.task_state != states.MIGRATING:
            return
        LOG.warning("rolling back the live migration of %s interrupted on its source",
                    inst.uuid)
        self._live_volumes_recover(ctx, inst)  # type: ignore[attr-defined]
        self._live_rollback(ctx, inst, mig, exception.NovaLiteException(
            f"Live migration interrupted by a restart of nova-compute on {self.host}; "
            "the server stays on its source host."), "compute_live_migration")
