"""Multi-step orchestration in the conductor: builds, deletes and lifecycle actions.

Each step is ordered so that a crash between two steps leaves a state the next start
reconciles (``reconcile_build_requests``) or the user can always delete.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any, Optional, Sequence

from oslo_db import exception as db_exc

from nova_lite import context as nl_context
from nova_lite import exception, rpc
from nova_lite.compute import rpcapi as compute_rpcapi
from nova_lite.compute import states
from nova_lite.conf import CONF
from nova_lite.db import cells as cells_db
from nova_lite.db import engine as db_engine
from nova_lite.db import guest_access as guest_db
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import server_groups as groups_db
from nova_lite.db import services as svc_db
from nova_lite.objects.instance import Instance
from nova_lite.objects.request_spec import RequestSpec
from nova_lite.conductor import block_devices
from nova_lite.conductor.aggregates import AggregateMixin
from nova_lite.conductor.server_groups import ServerGroupMixin
from nova_lite.scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)

# A build request still failing to be scheduled after this many retry periods ends in
# ERROR instead of waiting for its scheduler or database any longer.
GIVE_UP_AFTER = 5

UPDATABLE = {"display_name", "display_description", "hostname", "metadata", "access_ip_v4",
             "access_ip_v6"}


class TaskMixin(ServerGroupMixin, AggregateMixin, block_devices.BlockDevicesMixin):
    """Builds, deletes and actions; a build also records the server's group membership,
    the zone of the host it lands on and its block device mappings."""

    api_url: str
    cells: Any
    quota: Any  # quota.QuotaEngine

    def __init__(self) -> None:
        self._scheduler: Optional[scheduler_rpcapi.SchedulerAPI] = None
        self._compute: Optional[compute_rpcapi.ComputeAPI] = None
        self._build_pool = concurrent.futures.ThreadPoolExecutor(
            CONF.conductor.build_threads, thread_name_prefix="build")

    @property
    def scheduler(self) -> scheduler_rpcapi.SchedulerAPI:
        if self._scheduler is None:
            self._scheduler = scheduler_rpcapi.SchedulerAPI()
        return self._scheduler

    @property
    def compute(self) -> compute_rpcapi.ComputeAPI:
        if self._compute is None:
            self._compute = compute_rpcapi.ComputeAPI(self.cells.transport_url_of)
        return self._compute

    def _forget(self, uuid: str, moves: Sequence[str] = ()) -> None:
        """Drop a deleted instance's claims (and those of its unfinished ``moves``), its
        group membership and its mapping in one API-database transaction, and its
        cached cell."""

        def forget(session: Any) -> None:
            for consumer in (uuid, *moves):
                placement_db.release_in(session, consumer)
            groups_db.member_remove_in(session, uuid)
            cells_db.instance_mapping_queue_delete_in(session, uuid)

        db_engine.run_in_transaction(self.api_url, forget)
        self.cells.forget_instance(uuid)

    def _destroy(self, url: str, uuid: str, request_id: Optional[str] = None,
                 event: Optional[str] = None, host: Optional[str] = None) -> None:
        """A delete's last step: the record goes (soft-deleted) with its console tokens
        and, with ``request_id``, its delete action finished (with ``event``, that
        event of ``host`` finished Success first), in one cell transaction; then what
        the API database holds for it (_forget). Its unfinished moves end after their
        claims went, so a retry of this step still finds and drops them."""

        def destroy(session: Any) -> list[str]:
            inst_db.destroy_in(session, uuid)
            guest_db.console_tokens_delete_in(session, uuid)
            if request_id is not None and event is not None:
                inst_db.action_event_in(session, uuid, request_id, event, "finish", host,
                                        "Success", finish_action=True)
            elif request_id is not None:
                inst_db.action_finish_in(session, uuid, request_id)
            return mig_db.moves_left_by_in(session, uuid)

        moves = db_engine.run_in_transaction(url, destroy)
        self._forget(uuid, moves)
        if moves:
            mig_db.migrations_end(url, moves)

    # -- build ----------------------------------------------------------------------------
    def build_requests_create(self, ctx: Any, instances: list, request_spec: Any,
                              schedule: bool = False, min_count: Optional[int] = None
                              ) -> int:
        """Record build requests if the project's quota allows them (checked and recorded
        as one serialised step); with ``min_count`` below their number, as many as fit.
        Returns how many were recorded (the first ones)."""
        first = instances[0]
        flavor = request_spec.flavor
        per_instance = {"instances": 1, "cores": flavor.vcpus, "ram": flavor.memory_mb}
        # Scheduled here: the build requests are recorded taken by the build attempt
        # that follows, which then needs no transaction to take and read them back.
        stamp = _lease_stamp() if schedule else None
        first_spec: list = []

        def record(session: Any, n: int) -> int:
            request_spec.num_instances = n
            self._check_metadata_items(session, first)
            self._group_add_members(session, request_spec, [i.uuid for i in instances[:n]])
            first_spec.clear()
            for inst in instances[:n]:
                spec = request_spec.obj_clone()
                spec.instance_uuid = inst.uuid
                spec.block_device_mappings = block_devices.for_instance(
                    request_spec.get("block_device_mappings") or [], inst.uuid)
                first_spec.append(spec)
                cells_db.add_build_request(session, inst.uuid, inst.project_id,
                                           inst.user_id, inst.obj_to_primitive(),
                                           spec.obj_to_primitive(), taken_at=stamp)
            return n

        count = self.quota.fit_instances(ctx, first.project_id, first.user_id, per_instance,
                                         min_count or len(instances), len(instances), record)
        if stamp is not None:
            held = Held(instances[:count], first_spec[0], stamp)
            self._build_pool.submit(self._schedule_and_build_logged, ctx,
                                    [i.uuid for i in held.instances], held)
        return count

    def _schedule_and_build_logged(self, ctx: Any, instance_uuids: list[str],
                                   held: Optional[Held] = None) -> None:
        ctx.update_store()
        LOG.debug("build of %s starts", instance_uuids)  # after its wait for a build thread
        try:
            self._schedule_and_build(ctx, instance_uuids, held=held)
        except Exception:
            LOG.exception("build of %s failed", instance_uuids)

    def _take(self, instance_uuids: list[str], retry: bool
              ) -> Optional[tuple[datetime, dict, list[str], RequestSpec]]:
        """Lease the build requests no other attempt holds and read them: (the lease
        stamp, uuid -> instance, the uuids taken in order, the first one's spec)."""
        lease = timedelta(seconds=CONF.conductor.build_request_retry_seconds)
        stamp = _lease_stamp()
        taken, first_spec = cells_db.build_requests_take(self.api_url, instance_uuids,
                                                         stamp - lease, stamp)
        brs = {b["instance_uuid"]: Instance.obj_from_primitive(b["instance"]) for b in taken}
        uuids = [u for u in instance_uuids if u in brs]  # others were deleted meanwhile
        if retry:
            uuids = [u for u in uuids if not self._left_after_hand_over(u)]
        if not uuids:
            return None
        spec = RequestSpec.obj_from_primitive(first_spec) if first_spec else None
        if spec is None or spec.instance_uuid != uuids[0]:
            spec = RequestSpec.obj_from_primitive(
                cells_db.request_spec_get(self.api_url, uuids[0]))
        return stamp, brs, uuids, spec

    def _schedule_and_build(self, ctx: Any, instance_uuids: list[str],
                            retry: bool = False, held: Optional[Held] = None) -> None:
        """Schedule build requests and hand them to their hosts. Each is taken first
        (a lease of [conductor] build_request_retry_seconds), so a retry never races the
        attempt it replaces; ``held``: recorded taken by this attempt already. While the
        scheduler or a database is unreachable the build requests are left for the
        periodic retry, not failed."""
        lease = timedelta(seconds=CONF.conductor.build_request_retry_seconds)
        if held is not None:
            # A build request deleted meanwhile makes its claim (the lease check) or
            # its hand-over refuse it, as it would make the take leave it out.
            stamp, spec, uuids = held.stamp, held.spec, instance_uuids
            brs = {i.uuid: i for i in held.instances}
        else:
            taken = self._take(instance_uuids, retry)
            if taken is None:
                return
            stamp, brs, uuids, spec = taken
        # The mappings each server asked for: none for all of them when the first asked
        # for none (they share one request); else read per server at its creation.
        no_bdms = not spec.get("block_device_mappings")
        spec = self._group_refresh(spec)
        try:
            selections = self.scheduler.select_destinations(ctx, spec, uuids,
                                                            build_lease=stamp.isoformat())
        except exception.ClaimSuperseded as err:
            LOG.warning("build of %s deleted, or taken over by a later attempt (%s)",
                        uuids, err)
            return
        except exception.NoValidHost as err:
            stamp, uuids = self._keep_lease(uuids, stamp)
            for uuid in uuids:
                self._bury_in_cell0(ctx, brs[uuid], err.format_message(), 500, stamp)
            return
        except Exception as err:  # scheduler unreachable, timed out, a database down ...
            # A claim made for a build another attempt took over meanwhile is that
            # attempt's: only this attempt's own claims go.
            for uuid in uuids:
                placement_db.release_if_leased(self.api_url, uuid, stamp)
            young = all(brs[u].created_at is None or brs[u].created_at.replace(tzinfo=None)
                        > datetime.utcnow() - GIVE_UP_AFTER * lease for u in uuids)
            if young and isinstance(err, (rpc.MessagingTimeout, exception.ServiceUnavailable)):
                LOG.warning("scheduling %s failed (%s); retrying in %d s", uuids, err,
                            lease.total_seconds())
                return
            LOG.exception("scheduling failed for %s", uuids)
            stamp, uuids = self._keep_lease(uuids, stamp)
            for uuid in uuids:
                self._bury_in_cell0(ctx, brs[uuid], f"Scheduling failed: {err}", 500, stamp)
            return
        stamp, kept = self._keep_lease([sel.instance_uuid for sel in selections], stamp)
        for sel in selections:
            if sel.instance_uuid not in kept:
                continue  # its claim is the successor's now, or went with the deletion
            try:
                self._create_in_cell(ctx, brs[sel.instance_uuid], sel, stamp,
                                     [] if no_bdms else None)
            except exception.ServiceUnavailable as err:
                LOG.warning("handing %s to its cell failed (%s); retrying later",
                            sel.instance_uuid, err)
                _best_effort(placement_db.release_if_leased, self.api_url,
                             sel.instance_uuid, stamp)
            except Exception as err:
                LOG.exception("could not create %s in its cell", sel.instance_uuid)
                self._bury_in_cell0(ctx, brs[sel.instance_uuid], f"Build failed: {err}", 500,
                                    stamp)

    def _keep_lease(self, uuids: list[str], stamp: datetime) -> tuple[datetime, list[str]]:
        """Before an attempt creates records for its builds: the lease it holds, and the
        builds it still holds. A lease past half its time (a scheduler that answered
        late) is renewed first, so that no later attempt takes the builds over while
        this one writes them to a cell; those a later attempt took over already, or the
        user deleted, are left out."""
        lease = timedelta(seconds=CONF.conductor.build_request_retry_seconds)
        if datetime.utcnow() - stamp < lease / 2:
            return stamp, uuids
        renewed = _lease_stamp()
        kept = cells_db.build_request_renew(self.api_url, uuids, stamp, renewed)
        if len(kept) < len(uuids):
            LOG.warning("builds of %s taken over by a later attempt or deleted; this "
                        "late attempt leaves them", sorted(set(uuids) - set(kept)))
        return renewed, kept

    def _left_after_hand_over(self, uuid: str) -> bool:
        """A build request an attempt handed over to a cell, then crashed before deleting
        it: it goes now, the server is in its cell."""
        try:
            mapping = cells_db.instance_mapping_get(self.api_url, uuid)
        except exception.InstanceNotFound:
            return False
        if mapping["cell"] is None:
            return False
        cells_db.build_request_delete(self.api_url, uuid)
        return True

    def _handed_over(self, uuid: str, cell_uuid: str) -> bool:
        try:
            mapping = cells_db.instance_mapping_get(self.api_url, uuid)
        except exception.InstanceNotFound:
            return False
        return (not mapping["queued_for_delete"] and mapping["cell"] is not None
                and mapping["cell"]["uuid"] == cell_uuid)

    def _create_in_cell(self, ctx: Any, inst: Instance, sel: Any, lease: datetime,
                        bdms: Optional[list] = None) -> None:
        """Create the server in its cell with its block device mappings (``bdms``, read
        from its request spec when None) in one transaction, hand it over while the
        attempt holds its ``lease`` (its mapping names the cell, its build request goes)
        and cast the build to its host."""
        cell = self.cells.by_uuid(sel.cell_uuid)
        url = cell["database_connection"]
        inst.host, inst.node = sel.host, sel.nodename
        # The zone the scheduler saw the host in (a scheduler before Selection 1.1
        # sends none: read it).
        inst.availability_zone = sel.get("availability_zone") or self._host_zone(sel.host)
        if bdms is None:
            bdms = self._bdms_of_spec(inst.uuid)
        # A record an earlier attempt created (it died before handing it over) takes
        # this attempt's host: its claim is there. One a later attempt wrote stays
        # as it is: this attempt stalled past its lease, the build is the later one's.
        scheduled_at = lease.replace(tzinfo=None)
        created = inst_db.instance_create_with_action(
            url, inst, cell["name"], ctx.request_id, ctx.user_id, ctx.project_id,
            bdms=[(b.uuid, block_devices.writable(b)) for b in bdms],
            scheduled_at=scheduled_at)
        if (created.host, created.node) != (inst.host, inst.node):
            LOG.warning("build of %s taken over by a later attempt before its hand-over",
                        inst.uuid)
            return
        try:
            if not cells_db.hand_over(self.api_url, inst.uuid, sel.cell_uuid, lease):
                if self._handed_over(inst.uuid, sel.cell_uuid):
                    return  # an earlier attempt finished the hand-over (and the cast)
                # Deleted by the user while we scheduled: undo.
                inst_db.instance_destroy(url, inst.uuid)
                self._forget(inst.uuid)
                return
        except exception.ClaimSuperseded:
            # A later attempt holds the build (this one stalled for a whole lease since
            # it renewed it): the claim is that attempt's, and so is the record once it
            # wrote it. A record still as this attempt wrote it goes: the later attempt
            # may create the server in another cell.
            LOG.warning("build of %s taken over by a later attempt before its hand-over",
                        inst.uuid)
            _best_effort(inst_db.instance_destroy, url, inst.uuid, scheduled_at)
            return
        except Exception:
            # Not handed over: the server is buried in cell0 instead, and a live copy here
            # would show as a second, never-ending build.
            _best_effort(inst_db.instance_destroy, url, inst.uuid)
            self.cells.forget_instance(inst.uuid)
            raise
        # The host's updates that reach this worker need no mapping read for the cell.
        self.cells.remember(inst.uuid, cell)
        try:
            self.compute.build_and_run_instance(ctx, sel.host, created, bdms)
        except Exception as err:  # the message bus went away, for one
            # Handed over: the server is in its cell with its claim and its mapping,
            # and reconcile_build_requests re-sends a build its host never started.
            # Burying it now would drop the claim and the mapping of a live record.
            LOG.warning("build of %s is in its cell, but sending it to %s failed (%s); "
                        "it is sent again later", inst.uuid, sel.host, err)

    def _bury_in_cell0(self, ctx: Any, inst: Instance, message: str, code: int,
                       lease: Optional[datetime] = None) -> None:
        """Record an instance that cannot be built in cell0, in ERROR, with the reason.

        Whatever made the build fail may be in the server's own values (one the database
        refuses), so when they cannot be stored the record keeps only what it must: the
        server's identity, owner, flavor and the fault. A build therefore always ends.
        With ``lease``, only while the attempt holds it: a late attempt never buries a
        build that a later one took over, nor drops that one's claim."""
        cell0 = self.cells.cell0()
        url = cell0["database_connection"]
        inst.vm_state, inst.task_state, inst.host, inst.node = states.ERROR, None, None, None
        event = "conductor_schedule_and_build_instances"
        try:
            inst_db.instance_create_with_action(url, inst, cell0["name"], ctx.request_id,
                                                ctx.user_id, ctx.project_id,
                                                failure=(code, message, event))
        except db_exc.DBError as err:
            if not _refused_values(err):
                raise  # unreachable or busy: the build request stays for a later attempt
            LOG.error("instance %s: storing its values in cell0 failed (%s); storing only "
                      "its essentials", inst.uuid, err.inner_exception or err)
            inst_db.instance_create_with_action(
                url, essentials(inst), cell0["name"], ctx.request_id, ctx.user_id,
                ctx.project_id, failure=(code, f"{message} (some of the server's values "
                                               "could not be stored)", event))

        def bury(session: Any) -> bool:
            # One transaction: mapped to cell0, build request gone and (a server in
            # cell0 holds no claim) whatever claim an attempt left dropped.
            if not cells_db.hand_over_in(session, inst.uuid, cell0["uuid"], lease):
                return False
            placement_db.release_in(session, inst.uuid)
            return True

        try:
            buried = db_engine.run_in_transaction(self.api_url, bury)
        except exception.ClaimSuperseded:
            LOG.warning("build of %s taken over by a later attempt; this late attempt "
                        "does not bury it", inst.uuid)
            inst_db.instance_destroy(url, inst.uuid)
            return
        if not buried:  # deleted meanwhile
            inst_db.instance_destroy(url, inst.uuid)
            self._forget(inst.uuid)
            return
        self._release_reserved_volumes(ctx, inst.uuid)

    def reconcile_build_requests(self) -> int:
        """At start-up and periodically: schedule again build requests that no attempt
        has worked on for [conductor] build_request_retry_seconds (a crash, a lost
        message, an unreachable scheduler or database), and re-send builds created in a
        cell but never handed to their host."""
        cutoff = datetime.utcnow() - timedelta(seconds=CONF.conductor.build_request_retry_seconds)
        stale = cells_db.build_request_older_than(self.api_url, cutoff)
        ctx = nl_context.get_admin_context()
        for uuid in stale:
            LOG.warning("re-scheduling build request %s left by an interrupted build", uuid)
            try:
                self._schedule_and_build(ctx, [uuid], retry=True)
            except Exception:
                LOG.exception("could not re-schedule %s", uuid)
        # Created in a cell but never handed to its host (a crash between the two); not
        # the build requests just handled above: an attempt sends the build it schedules,
        # and one found already handed over is re-sent by the next pass.
        for cell in self.cells.real_cells():
            for inst in inst_db.instance_list(cell["database_connection"], cell["name"], None,
                                              {"vm_state": [states.BUILDING]}):
                if (inst.task_state == states.SCHEDULING and inst.host
                        and inst.uuid not in stale
                        and inst.created_at.replace(tzinfo=None) < cutoff):
                    LOG.warning("re-sending build of %s to %s", inst.uuid, inst.host)
                    self.compute.build_and_run_instance(ctx, inst.host, inst)
        return len(stale)

    # -- update / delete ------------------------------------------------------------------
    def server_update(self, ctx: Any, uuid: str, values: dict) -> Instance:
        bad = set(values) - UPDATABLE
        if bad:
            raise exception.Invalid(reason=f"cannot update {', '.join(sorted(bad))}")
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            raise exception.Conflict(message=f"Instance {uuid} is still being scheduled; "
                                             "retry the update shortly.")
        return inst_db.instance_update(cell["database_connection"], uuid, values,
                                       cell_name=cell["name"])

    def server_delete(self, ctx: Any, uuid: str) -> None:
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            self._release_reserved_volumes(ctx, uuid)
            if cells_db.build_request_delete(self.api_url, uuid):
                cells_db.instance_mapping_destroy(self.api_url, uuid)
                placement_db.release(self.api_url, uuid)
                self._group_forget(uuid)
                return
            cell = self.cells.instance_cell(uuid)  # scheduled just now
            if cell is None:
                raise exception.InstanceNotFound(instance_id=uuid)
        url = cell["database_connection"]
        inst = inst_db.instance_get(url, uuid, cell["name"])
        if cell["uuid"] != cells_db.CELL0_UUID:
            states.check_allowed("delete", inst, ctx)
        if cell["uuid"] == cells_db.CELL0_UUID or not inst.host or not self._host_up(
                cell, inst.host):
            self._local_delete(ctx, url, inst)
            return
        if self._defers_delete(inst):
            self._soft_delete(ctx, cell, inst)
            return
        self._hard_delete(ctx, cell, inst, states.check_allowed("delete", inst, ctx))

    def _hard_delete(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition
                     ) -> Instance:
        """The compute host destroys the guest, then the record goes and its claims
        with it (instance_destroy); a move in progress also stops at its other host."""
        url = cell["database_connection"]
        inst = inst_db.instance_update(url, inst.uuid, {"task_state": t.task_state},
                                       cell_name=cell["name"],
                                       start_action=started_by(ctx, "delete"))
        self._stop_moves_elsewhere(ctx, url, inst)
        self.compute.terminate_instance(ctx, inst.host, inst)
        return inst

    def _host_up(self, cell: dict, host: str) -> bool:
        svcs = svc_db.service_list(cell["database_connection"], CONF.service_down_time,
                                   cell["name"], "nova-compute", host)
        return bool(svcs) and svcs[0].is_up

    def _local_delete(self, ctx: Any, url: str, inst: Instance) -> None:
        """Delete without the compute host (never scheduled, or host down): the host
        removes any leftover guest when it comes back (see ComputeManager.init_host)."""
        inst_db.action_start(url, inst.uuid, "delete", ctx.request_id, ctx.user_id,
                             ctx.project_id)
        self._release_volumes_of(ctx, url, inst.uuid)
        self._destroy(url, inst.uuid, ctx.request_id)

    # -- lifecycle actions ---------------------------------------------------------------------
    def server_action(self, ctx: Any, uuid: str, action: str, params: dict) -> Instance:
        """Start a transition after the one check every action passes (lock, state);
        an action with more to do than the generic start has a ``_start_<name>``
        method (see the conductor's action mixins). Returns the server as started."""
        verb = states.get(action).conflict_verb
        cell = self.cells.instance_cell(uuid)
        if cell is None:  # still a build request
            raise exception.InstanceInvalidState(action=verb, instance_uuid=uuid,
                                                 attr="vm_state", state=states.BUILDING)
        inst = inst_db.instance_get(cell["database_connection"], uuid, cell["name"])
        t = states.check_allowed(action, inst, ctx)
        if action in block_devices.NOT_FOR_VOLUME_BACKED and not (
                action == "rescue" and params.get("allow_bfv_rescue")):
            self._refuse_if_volume_backed(cell["database_connection"], uuid, action)
        starter = getattr(self, f"_start_{action}", None)
        if starter is not None:
            return starter(ctx, cell, inst, t, params)
        return self._start_on_host(ctx, cell, inst, t, params)

    def _start_on_host(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                       params: dict, values: Optional[dict] = None) -> Instance:
        """The generic start: hold the task_state (plus ``values``), record the action,
        and let the server's host carry it out (ComputeManager.run_action)."""
        if not inst.host:
            raise exception.InstanceInvalidState(action=t.conflict_verb,
                                                 instance_uuid=inst.uuid, attr="host",
                                                 state=None)
        url = cell["database_connection"]
        # The guard on the old task_state makes two racing requests safe: one wins.
        inst = inst_db.instance_update(url, inst.uuid,
                                       {**(values or {}), "task_state": t.task_state},
                                       expected_task_state=list(t.from_task_states),
                                       cell_name=cell["name"],
                                       start_action=started_by(ctx, t.action_record))
        self.compute.run_action(ctx, inst.host, inst, t.name, params)
        return inst

    def console_output(self, ctx: Any, uuid: str, length: Optional[int]) -> str:
        cell = self.cells.instance_cell(uuid)
        inst = self.server_get(ctx, uuid)
        if cell is None or not inst.host or inst.vm_state == states.BUILDING:
            raise exception.InstanceInvalidState(action="get console output",
                                                 instance_uuid=uuid, attr="vm_state",
                                                 state=inst.vm_state)
        return self.compute.get_console_output(ctx, inst.host, inst, length)


@dataclasses.dataclass
class Held:
    """Build requests recorded taken by the attempt about to schedule them: the servers
    as recorded, the first one's request spec and the attempt's lease stamp."""

    instances: list
    spec: RequestSpec
    stamp: datetime


def started_by(ctx: Any, action: str) -> dict:
    """instance_update's ``start_action``: ``action`` started by the request."""
    return {"action": action, "request_id": ctx.request_id, "user_id": ctx.user_id,
            "project_id": ctx.project_id}


def _lease_stamp() -> datetime:
    """A build attempt's lease stamp, to the second (as the database keeps it)."""
    return datetime.utcnow().replace(microsecond=0)


def essentials(inst: Instance) -> Instance:
    """A copy of an instance with only what identifies it and what it was asked to be:
    every free-form value a user supplied is dropped or cut to its column's size."""
    out = inst.obj_clone()
    out.display_name = (inst.display_name or "")[:255]
    out.hostname = (inst.get("hostname") or "")[:255] or None
    out.display_description = None
    out.metadata = {}
    out.user_data = None
    out.access_ip_v4 = out.access_ip_v6 = None
    out.key_name = None
    out.availability_zone = (inst.get("availability_zone") or "")[:255] or None
    out.image_ref = (inst.get("image_ref") or "")[:255] or None
    out.config_drive = ""
    return out


# MariaDB's answers about a row's values (too long, wrong type or encoding, out of range,
# missing): the server's own data is at fault, not the database.
_VALUE_ERRNOS = frozenset((1048, 1264, 1265, 1292, 1366, 1406))


def _refused_values(err: db_exc.DBError) -> bool:
    if isinstance(err, db_exc.DBDataError):
        return True
    args = getattr(getattr(err.inner_exception, "orig", None), "args", ())
    return bool(args) and args[0] in _VALUE_ERRNOS


def _best_effort(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        LOG.exception("clean-up step %s%s failed", fn.__name__, args)
