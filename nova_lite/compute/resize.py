"""The compute host's side of a resize (and of later moves): each step runs on the host
the migration names, and hands over to the next with a cast.

  source  resize_instance       resize_migrating: power off, set the guest aside
  dest    finish_resize         resize_finish: the guest at its new size -> VERIFY_RESIZE
  source  confirm_resize        drop what was set aside; the source claim goes
  dest    revert_resize         remove the resized guest, then
  source  finish_revert_resize  the guest set aside comes back; the claim returns

A failure at any step before VERIFY_RESIZE brings the server back on its source host,
as it was, with a fault saying why (``_rollback``); the claims follow in the same
conductor call (migration_step). After a restart, ``_recover_moves`` settles every
unfinished move this host takes part in, each by the host whose step was interrupted.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import rpcapi as compute_rpcapi
from nova_lite.compute import states
from nova_lite.conf import CONF
from nova_lite.objects.instance import Instance
from nova_lite.objects.migration import CLAIM_DROP, CLAIM_RETURN
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

# The server changed under us (deleted, reset, or another step won the race).
_GONE = (exception.InstanceNotFound, exception.InstanceInvalidState,
         exception.MigrationNotFound, exception.MigrationInvalidState)


def _fault(err: BaseException, host: str) -> dict:
    msg = (err.format_message() if isinstance(err, exception.NovaLiteException)
           else str(err)) or err.__class__.__name__
    return {"code": getattr(err, "code", 500), "message": msg,
            "details": "".join(traceback.format_exception(err)), "host": host}


class ResizeMixin:
    host: str
    conductor: Any
    driver: Any
    image_api: Any
    _move_rpc: Optional[compute_rpcapi.ComputeAPI] = None

    @property
    def move_rpc(self) -> compute_rpcapi.ComputeAPI:
        """Casts to the other host of a move."""
        if self._move_rpc is None:
            self._move_rpc = compute_rpcapi.ComputeAPI()
        return self._move_rpc

    def _spec(self, inst: Instance, flavor: Any) -> virt_driver.InstanceSpec:
        from nova_lite.compute.manager import instance_spec

        return instance_spec(inst, flavor)

    @staticmethod
    def _power_on_after(inst: Instance) -> bool:
        """A server stopped before its resize stays stopped, as in Nova."""
        return (inst.get("system_metadata") or {}).get("old_vm_state") != states.STOPPED

    def _event(self, name: str, phase: str, result: Optional[str] = None,
               tb: Optional[str] = None) -> dict:
        return {"event": f"compute_{name}", "phase": phase, "host": self.host,
                "result": result, "traceback": tb}

    def _on_source(self, inst: Instance, mig: Any, vm_state: str) -> dict:
        """The instance as it is again on its source host, at its old size."""
        sysmeta = dict(inst.get("system_metadata") or {})
        sysmeta.pop("old_vm_state", None)
        old = inst.get("old_flavor") or inst.flavor
        return {"host": mig.source_compute, "node": mig.source_node, "flavor": old,
                "vcpus": old.vcpus, "memory_mb": old.memory_mb, "root_gb": old.root_gb,
                "vm_state": vm_state, "task_state": None, "old_flavor": None,
                "new_flavor": None, "system_metadata": sysmeta}

    # -- resize ---------------------------------------------------------------------------
    def resize_instance(self, ctx: Any, instance: Instance, migration: Any) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._resize_instance(ctx, instance, migration)

    def _resize_instance(self, ctx: Any, inst: Instance, mig: Any) -> None:
        step = states.step("resize", states.RESIZE_MIGRATING)
        try:
            inst = self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid, {"task_state": step.task_state},
                {"status": "migrating"}, expected_task_state=states.RESIZE_PREP,
                expected_status="pre-migrating", event=self._event(step.event, "start"))
        except _GONE as err:
            LOG.info("resize of %s not started: %s", inst.uuid, err)
            return
        try:
            old = self._spec(inst, inst.old_flavor)
            self._volumes_of_guest(ctx, inst, old)  # type: ignore[attr-defined]
            disk_info = getattr(self.driver, step.driver_call)(
                old, mig.dest_compute, self._spec(inst, inst.new_flavor),
                CONF.compute.shutdown_timeout)
            self._leave_volumes(ctx, inst)  # type: ignore[attr-defined]
        except Exception as err:
            LOG.exception("resize of %s failed on its source %s", inst.uuid, self.host)
            self._rollback(ctx, inst, mig, err, step.event, states.RESIZE_MIGRATING,
                           "migrating")
            return
        try:
            inst = self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid,
                {"task_state": states.RESIZE_MIGRATED, "power_state": virt_driver.SHUTDOWN},
                {"status": "post-migrating"}, expected_task_state=states.RESIZE_MIGRATING,
                expected_status="migrating",
                event=self._event(step.event, "finish", "Success"))
        except _GONE as err:
            LOG.info("%s changed while its disk was set aside (%s); stopping", inst.uuid, err)
            return
        self.move_rpc.finish_resize(ctx, mig.dest_compute, inst, mig, disk_info)

    def _rollback(self, ctx: Any, inst: Instance, mig: Any, err: BaseException,
                  event: str, expected_task_state: Any, expected_status: Any) -> None:
        """On the source: the guest set aside comes back as it was; the claim returns to
        the server; the move ends in 'error' with a fault. If even that fails, the server
        is ERROR (on its source, holding its old claim)."""
        vm_state = (inst.get("system_metadata") or {}).get("old_vm_state") or states.ACTIVE
        power_on = self._power_on_after(inst)
        try:
            self._restore_guest(ctx, inst, power_on)
        except Exception:
            LOG.exception("could not bring %s back on %s", inst.uuid, self.host)
            vm_state = states.ERROR
        fault = _fault(err, self.host)
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid,
                {**self._on_source(inst, mig, vm_state),
                 "power_state": self.driver.get_power_state(self._spec(inst, inst.old_flavor))},
                {"status": "error"}, expected_task_state=expected_task_state,
                expected_status=expected_status, claims=CLAIM_RETURN,
                event=self._event(event, "finish", "Error", fault["details"]), fault=fault)
        except _GONE as gone:
            LOG.info("%s changed while its move was rolled back: %s", inst.uuid, gone)

    def _restore_guest(self, ctx: Any, inst: Instance, power_on: bool,
                       spec: Optional[virt_driver.InstanceSpec] = None) -> None:
        """The guest set aside here comes back at its old size, its volumes exported
        to this host again."""
        spec = spec or self._spec(inst, inst.old_flavor)
        devices = self._volumes_here(ctx, inst, spec)  # type: ignore[attr-defined]
        if devices and not inst.image_ref:  # the image a root volume was made from
            spec.extra["image_meta"] = self._guest_image_meta(  # type: ignore[attr-defined]
                ctx, inst, devices)
        self.driver.finish_revert_migration(spec, power_on)
        self._complete_moved_volumes(ctx, devices)  # type: ignore[attr-defined]

    def finish_resize(self, ctx: Any, instance: Instance, migration: Any,
                      disk_info: dict) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._finish_resize(ctx, instance, migration, disk_info)

    def _finish_resize(self, ctx: Any, inst: Instance, mig: Any, disk_info: dict) -> None:
        step = states.step("resize", states.RESIZE_FINISH)
        try:
            inst = self.conductor.instance_update(
                ctx, inst.uuid, {"task_state": step.task_state},
                expected_task_state=states.RESIZE_MIGRATED,
                event=self._event(step.event, "start"))
        except _GONE as err:
            LOG.info("finish of the resize of %s not started: %s", inst.uuid, err)
            return
        new = self._spec(inst, inst.new_flavor)
        try:
            devices = self._volumes_here(ctx, inst, new)  # type: ignore[attr-defined]
            image_meta = self._guest_image_meta(ctx, inst, devices)  # type: ignore[attr-defined]
            getattr(self.driver, step.driver_call)(new, disk_info, image_meta, mig.same_host,
                                                   self._power_on_after(inst))
            self._complete_moved_volumes(ctx, devices)  # type: ignore[attr-defined]
        except Exception as err:
            LOG.exception("resize of %s failed on its destination %s", inst.uuid, self.host)
            self._abandon_destination(ctx, inst, mig, err, step.event)
            return
        flavor = inst.new_flavor
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid,
                {"host": self.host, "node": mig.dest_node, "flavor": flavor,
                 # the larger of both counts against the quota until confirm or revert
                 "vcpus": max(flavor.vcpus, inst.old_flavor.vcpus),
                 "memory_mb": max(flavor.memory_mb, inst.old_flavor.memory_mb),
                 "root_gb": flavor.root_gb, "vm_state": states.RESIZED, "task_state": None,
                 "power_state": self.driver.get_power_state(new)},
                {"status": "finished"}, expected_task_state=states.RESIZE_FINISH,
                expected_status="post-migrating",
                event=self._event(step.event, "finish", "Success"))
        except _GONE as err:
            LOG.info("%s changed while it was resized here (%s)", inst.uuid, err)
            return
        LOG.info("instance %s: resized to %s on %s (migration %s)", inst.uuid,
                 flavor.name, self.host, mig.uuid)

    def _abandon_destination(self, ctx: Any, inst: Instance, mig: Any, err: BaseException,
                             event: str) -> None:
        """The destination could not finish: remove its half-made guest and let the
        source roll the move back."""
        fault = _fault(err, self.host)
        try:
            self.driver.cleanup_migration_destination(self._spec(inst, inst.new_flavor),
                                                      mig.same_host)
        except Exception:
            LOG.exception("clean-up of %s on %s failed", inst.uuid, self.host)
        self._leave_volumes_logged(ctx, inst)  # type: ignore[attr-defined]
        self.conductor.action_event(ctx, inst.uuid, f"compute_{event}", "finish", self.host,
                                    "Error", fault["details"])
        self.move_rpc.finish_revert_resize(ctx, mig.source_compute, inst, mig,
                                           reason=fault["message"])

    # -- confirm -------------------------------------------------------------------------
    def confirm_resize(self, ctx: Any, instance: Instance, migration: Any) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._confirm_resize(ctx, instance, migration)

    def _confirm_resize(self, ctx: Any, inst: Instance, mig: Any) -> None:
        t = states.get("confirm_resize")
        self.conductor.action_event(ctx, inst.uuid, f"compute_{t.event}", "start", self.host)
        failure: Optional[BaseException] = None
        try:
            getattr(self.driver, t.driver_call)(self._spec(inst, inst.old_flavor),
                                                mig.same_host)
        except Exception as err:
            LOG.exception("confirming the resize of %s failed", inst.uuid)
            failure = err
        sysmeta = dict(inst.get("system_metadata") or {})
        sysmeta.pop("old_vm_state", None)
        vm_state = (states.STOPPED if inst.power_state == virt_driver.SHUTDOWN
                    else t.to_vm_state)
        fault = _fault(failure, self.host) if failure else None
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid,
                {"vm_state": states.ERROR if failure else vm_state, "task_state": None,
                 "old_flavor": None, "new_flavor": None, "system_metadata": sysmeta,
                 "vcpus": inst.flavor.vcpus, "memory_mb": inst.flavor.memory_mb},
                {"status": "error" if failure else "confirmed"},
                expected_task_state=t.task_state, expected_status="confirming",
                claims=CLAIM_DROP,
                event=self._event(t.event, "finish", "Error" if failure else "Success",
                                  fault["details"] if fault else None), fault=fault)
        except _GONE as err:
            LOG.info("%s changed while its resize was confirmed: %s", inst.uuid, err)

    # -- revert --------------------------------------------------------------------------
    def revert_resize(self, ctx: Any, instance: Instance, migration: Any) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._revert_resize(ctx, instance, migration)

    def _revert_resize(self, ctx: Any, inst: Instance, mig: Any) -> None:
        t = states.get("revert_resize")
        event = f"compute_{t.event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        try:
            getattr(self.driver, t.driver_call)(self._spec(inst, inst.new_flavor),
                                                mig.same_host)
            self._leave_volumes(ctx, inst)  # type: ignore[attr-defined]
        except Exception as err:
            # Both guests would run: the server stays here, ERROR, its source claim freed.
            LOG.exception("reverting the resize of %s failed on %s", inst.uuid, self.host)
            fault = _fault(err, self.host)
            try:
                self.conductor.migration_step(
                    ctx, inst.uuid, mig.uuid,
                    {"vm_state": states.ERROR, "task_state": None,
                     "vcpus": inst.flavor.vcpus, "memory_mb": inst.flavor.memory_mb},
                    {"status": "error"}, expected_task_state=t.task_state,
                    expected_status="reverting", claims=CLAIM_DROP,
                    event=self._event(t.event, "finish", "Error", fault["details"]),
                    fault=fault)
            except _GONE as gone:
                LOG.info("%s changed during its revert: %s", inst.uuid, gone)
            return
        self.conductor.action_event(ctx, inst.uuid, event, "finish", self.host, "Success")
        if mig.source_compute == self.host:
            self._finish_revert_resize(ctx, inst, mig, None)
        else:
            self.move_rpc.finish_revert_resize(ctx, mig.source_compute, inst, mig)

    def finish_revert_resize(self, ctx: Any, instance: Instance, migration: Any,
                             reason: Optional[str] = None) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._finish_revert_resize(ctx, instance, migration, reason)

    def _finish_revert_resize(self, ctx: Any, inst: Instance, mig: Any,
                              reason: Optional[str]) -> None:
        """User revert (reason None) or a failure past the source (reason says which):
        the guest set aside comes back at its old size and the claim returns."""
        st = states.step("revert_resize", states.RESIZE_REVERTING)
        self.conductor.action_event(ctx, inst.uuid, f"compute_{st.event}", "start", self.host)
        old = self._spec(inst, inst.old_flavor)
        vm_state = (inst.get("system_metadata") or {}).get("old_vm_state") or states.ACTIVE
        failure: Optional[BaseException] = None
        try:
            self._restore_guest(ctx, inst, self._power_on_after(inst), old)
        except Exception as err:
            LOG.exception("could not bring %s back on %s", inst.uuid, self.host)
            failure, vm_state = err, states.ERROR
        fault = _fault(failure, self.host) if failure else None
        if reason and not fault:
            fault = {"code": 500, "message": reason, "host": mig.dest_compute}
        if reason:
            expected_task: Any = [states.RESIZE_MIGRATED, states.RESIZE_FINISH]
            expected_status: Any = "post-migrating"
        else:
            expected_task, expected_status = st.task_state, "reverting"
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid,
                {**self._on_source(inst, mig, vm_state),
                 "power_state": self.driver.get_power_state(old)},
                {"status": "error" if reason or failure else "reverted"},
                expected_task_state=expected_task, expected_status=expected_status,
                claims=CLAIM_RETURN,
                event=self._event(st.event, "finish", "Error" if failure else "Success",
                                  fault["details"] if failure and fault else None),
                fault=fault)
        except _GONE as err:
            LOG.info("%s changed while its resize was reverted: %s", inst.uuid, err)
            return
        LOG.info("instance %s: back on %s at its old size (%s)", inst.uuid, self.host,
                 reason or "reverted")

    # -- deletes mid-move, auto-confirm --------------------------------------------------
    def remove_guest(self, ctx: Any, instance: Instance) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            try:
                self.driver.destroy(self._spec(instance, instance.flavor))
            except Exception:
                LOG.exception("removing what %s left on %s failed", instance.uuid, self.host)

    def poll_unconfirmed_resizes(self, ctx: Any) -> None:
        """Confirm resizes that waited in VERIFY_RESIZE on this destination for longer
        than [DEFAULT] resize_confirm_window (as an admin: a lock does not stop it)."""
        window = CONF.resize_confirm_window
        if window <= 0:
            return
        for mig in self.conductor.migration_list(ctx, host=self.host, status="finished",
                                                 unchanged_for=window):
            if mig.dest_compute != self.host:
                continue
            LOG.info("confirming the resize of %s automatically (waited over %d s)",
                     mig.instance_uuid, window)
            try:
                self.conductor.server_action(ctx, mig.instance_uuid, "confirm_resize", {})
            except exception.NovaLiteException as err:
                LOG.info("automatic confirmation of %s skipped: %s", mig.instance_uuid,
                         err.format_message())

    # -- restart -------------------------------------------------------------------------
    def restarted_in_move(self, ctx: Any, inst: Instance) -> None:
        """Nothing per instance: _recover_moves (run first at start-up, by each host of
        the move) has settled it or handed it to the host whose step it was."""
    def _recover_moves(self, ctx: Any) -> set[str]:
        """Settle every unfinished move through this host after a restart; the uuids of
        their instances (whose guests here are not orphans)."""
        moving: set[str] = set()
        for mig in self.conductor.migration_list(ctx, host=self.host, in_progress=True):
            moving.add(mig.instance_uuid)
            try:
                inst = self.conductor.server_get(ctx, mig.instance_uuid)
                with self._lock(inst.uuid):  # type: ignore[attr-defined]
                    self._recover_move(ctx, inst, mig)
            except exception.InstanceNotFound:
                continue
            except Exception:
                LOG.exception("could not settle move %s of %s", mig.uuid, mig.instance_uuid)
        return moving

    def _recover_move(self, ctx: Any, inst: Instance, mig: Any) -> None:
        if mig.migration_type == "live-migration":
            self._recover_live_migration(ctx, inst, mig)  # type: ignore[attr-defined]
            return
        if mig.migration_type == "evacuation":
            self._recover_evacuation(ctx, inst, mig)  # type: ignore[attr-defined]
            return
        task, source, dest = inst.task_state, mig.source_compute, mig.dest_compute
        why = exception.NovaLiteException(
            f"Resize interrupted by a restart of nova-compute on {self.host}; the server "
            "is back on its source host.")
        if task == states.RESIZE_MIGRATING and source == self.host:
            LOG.warning("rolling back the resize of %s interrupted on its source", inst.uuid)
            self._rollback(ctx, inst, mig, why, "resize_instance", states.RESIZE_MIGRATING,
                           ["pre-migrating", "migrating"])
        elif task in (states.RESIZE_MIGRATED, states.RESIZE_FINISH) and dest == self.host:
            LOG.warning("abandoning the resize of %s interrupted on its destination",
                        inst.uuid)
            try:
                self.driver.cleanup_migration_destination(
                    self._spec(inst, inst.new_flavor), mig.same_host)
            except Exception:
                LOG.exception("clean-up of %s on %s failed", inst.uuid, self.host)
            self._leave_volumes_logged(ctx, inst)  # type: ignore[attr-defined]
            if source == self.host:
                self._finish_revert_resize(ctx, inst, mig, why.format_message())
            else:
                self.move_rpc.finish_revert_resize(ctx, source, inst, mig,
                                                   reason=why.format_message())
        elif task == states.RESIZE_CONFIRMING and source == self.host:
            LOG.warning("finishing the interrupted confirmation of %s", inst.uuid)
            self._confirm_resize(ctx, inst, mig)
        elif task == states.RESIZE_REVERTING and mig.status == "reverting":
            LOG.warning("finishing the interrupted revert of %s", inst.uuid)
            if dest == self.host:
                self._revert_resize(ctx, inst, mig)
            else:
                self._finish_revert_resize(ctx, inst, mig, None)
