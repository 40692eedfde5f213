"""An in-memory stand-in for ConductorAPI, so API tests need no bus or database.

It follows the real conductor's contract: the same method names and arguments, the
same exceptions, versioned objects as results, servers newest first.
"""

from __future__ import annotations

import datetime
import json
import uuid as uuidlib
from typing import Any, Optional

from nova_lite import exception
from nova_lite.db import instance_paging
from nova_lite.network import model as net_model
from nova_lite.compute import states
from nova_lite.objects.aggregate import Aggregate
from nova_lite.objects.compute_node import ComputeNode
from nova_lite.objects.flavor import Flavor
from nova_lite.objects.instance import Instance, InstanceFault
from nova_lite.objects.keypair import KeyPair
from nova_lite.objects.migration import Migration
from nova_lite.objects.instance_action import InstanceAction, InstanceActionEvent
from nova_lite.objects.instance_group import InstanceGroup
from nova_lite.objects.service import Service

DEFAULT_FLAVORS = [("1", "m1.tiny", 512, 1, 1), ("2", "m1.small", 2048, 1, 20),
                   ("42", "m1.nano", 128, 1, 1)]


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def make_flavor(flavorid: str, name: str, ram: int, vcpus: int, disk: int, n: int,
                **kw: Any) -> Flavor:
    values = dict(id=n, flavorid=flavorid, name=name, memory_mb=ram, vcpus=vcpus,
                  root_gb=disk, ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True,
                  disabled=False, description=None, extra_specs={}, projects=[])
    values.update(kw)
    return Flavor(**values)


class FakeConductor:
    def __init__(self) -> None:
        self.events: list[dict] = []  # external events routed to a host
        self.compute_network: Any = None  # what the compute host would use for ports
        self.flavors: dict[str, Flavor] = {}
        for n, (fid, name, ram, vcpus, disk) in enumerate(DEFAULT_FLAVORS, 1):
            self.flavors[fid] = make_flavor(fid, name, ram, vcpus, disk, n)
        self.servers: dict[str, Instance] = {}
        self.actions: dict[str, list[InstanceAction]] = {}
        self.services: list[Service] = []
        self.nodes: list[ComputeNode] = []
        self.calls: list[str] = []
        self.request_specs: list[Any] = []
        self.bdms: dict[str, list] = {}  # instance uuid -> [BlockDeviceMapping]
        self.groups: dict[str, InstanceGroup] = {}
        self.aggregates: dict[int, Aggregate] = {}
        self.console = "line1\nline2\nline3\n"
        self.keypairs: dict[str, list[dict]] = {}
        self.network_info: dict[str, list] = {}
        self.action_params: list[tuple[str, dict]] = []
        self.admin_passwords: dict[str, str] = {}
        self.passwords: dict[str, str] = {}
        self.console_tokens: dict[str, dict] = {}
        self.keypair_rows: dict[tuple[str, str], KeyPair] = {}  # (user, name) -> KeyPair
        self.quotas: dict[tuple, dict] = {}  # (project, user or None) -> limits
        self.quota_classes: dict[str, dict] = {}
        self.migrations: list[Migration] = []  # newest last

    # -- flavors ----------------------------------------------------------------------
    def ping(self, ctx: Any, timeout: float) -> str:
        return "pong"

    def flavor_list(self, ctx: Any, is_public: Optional[bool] = True, min_memory_mb: int = 0,
                    min_root_gb: int = 0, project_id: Optional[str] = None) -> list:
        self.calls.append("flavor_list")

        def visible(f: Flavor) -> bool:
            if is_public and project_id is not None:
                return f.is_public or project_id in f.projects
            return is_public is None or f.is_public == is_public

        return [f for f in sorted(self.flavors.values(), key=lambda f: f.flavorid)
                if visible(f) and f.memory_mb >= min_memory_mb and f.root_gb >= min_root_gb]

    def flavor_get(self, ctx: Any, flavorid: str) -> Flavor:
        self.calls.append("flavor_get")
        try:
            return self.flavors[flavorid]
        except KeyError:
            raise exception.FlavorNotFound(flavor_id=flavorid) from None

    def flavor_create(self, ctx: Any, values: dict) -> Flavor:
        self.calls.append("flavor_create")
        if values["flavorid"] in self.flavors:
            raise exception.FlavorExists(what="ID", value=values["flavorid"])
        if any(f.name == values["name"] for f in self.flavors.values()):
            raise exception.FlavorExists(what="name", value=values["name"])
        values = dict(values)
        extra = values.pop("extra_specs", None) or {}
        flavor = Flavor(id=len(self.flavors) + 100, extra_specs=extra, projects=[], **values)
        self.flavors[flavor.flavorid] = flavor
        return flavor

    def flavor_destroy(self, ctx: Any, flavorid: str) -> None:
        self.calls.append("flavor_destroy")
        if self.flavors.pop(flavorid, None) is None:
            raise exception.FlavorNotFound(flavor_id=flavorid)

    def flavor_update(self, ctx: Any, flavorid: str, values: dict) -> Flavor:
        self.calls.append("flavor_update")
        flavor = self.flavor_get(ctx, flavorid)
        flavor.description = values["description"]
        return flavor

    def flavor_extra_specs_update(self, ctx: Any, flavorid: str, specs: dict) -> dict:
        self.calls.append("flavor_extra_specs_update")
        flavor = self.flavor_get(ctx, flavorid)
        flavor.extra_specs = dict(flavor.extra_specs, **specs)
        return dict(flavor.extra_specs)

    def flavor_extra_spec_delete(self, ctx: Any, flavorid: str, key: str) -> None:
        self.calls.append("flavor_extra_spec_delete")
        flavor = self.flavor_get(ctx, flavorid)
        if key not in flavor.extra_specs:
            raise exception.FlavorExtraSpecsNotFound(flavor_id=flavorid, extra_specs_key=key)
        flavor.extra_specs = {k: v for k, v in flavor.extra_specs.items() if k != key}

    def flavor_access_add(self, ctx: Any, flavorid: str, project_id: str) -> list:
        self.calls.append("flavor_access_add")
        flavor = self.flavor_get(ctx, flavorid)
        if flavor.is_public:
            raise exception.Conflict(message="Can not add access to a public flavor.")
        if project_id in flavor.projects:
            raise exception.FlavorAccessExists(flavor_id=flavorid, project_id=project_id)
        flavor.projects = sorted(flavor.projects + [project_id])
        return list(flavor.projects)

    def flavor_access_remove(self, ctx: Any, flavorid: str, project_id: str) -> list:
        self.calls.append("flavor_access_remove")
        flavor = self.flavor_get(ctx, flavorid)
        if project_id not in flavor.projects:
            raise exception.FlavorAccessNotFound(flavor_id=flavorid, project_id=project_id)
        flavor.projects = [p for p in flavor.projects if p != project_id]
        return list(flavor.projects)

    # -- servers ----------------------------------------------------------------------
    def server_create(self, ctx: Any, instances: list, request_spec: Any,
                      min_count: Optional[int] = None) -> int:
        self.calls.append("server_create")
        self.request_specs.append(request_spec)
        limit = self.quota_get(ctx, ctx.project_id, ctx.user_id)["instances"]
        used = self._usage(ctx.project_id)["instances"]
        if limit >= 0 and used + (min_count or len(instances)) > limit:
            raise exception.OverQuota(overs="instances", req=str(len(instances)),
                                      used=str(used), allowed=str(limit))
        if limit >= 0:
            instances = instances[:limit - used]
        group = request_spec.get("instance_group")
        if group is not None:
            self.groups[group.uuid].members = (self.groups[group.uuid].members
                                               + [i.uuid for i in instances])
        from nova_lite.conductor.block_devices import for_instance

        for inst in instances:
            self.servers[inst.uuid] = inst
            self.bdms[inst.uuid] = for_instance(
                request_spec.get("block_device_mappings") or [], inst.uuid)
            self._action(ctx, inst, "create")
        return len(instances)

    def bdm_list_by_instance(self, ctx: Any, instance_uuid: str) -> Any:
        from nova_lite.objects.block_device import BlockDeviceMappingList

        return BlockDeviceMappingList.of(list(self.bdms.get(instance_uuid, [])))

    def bdm_list_by_instances(self, ctx: Any, instance_uuids: list) -> dict:
        return {u: list(self.bdms.get(u, [])) for u in instance_uuids}

    def _action(self, ctx: Any, inst: Instance, name: str) -> None:
        self.actions.setdefault(inst.uuid, []).insert(0, InstanceAction(
            action=name, instance_uuid=inst.uuid, request_id=ctx.request_id,
            user_id=ctx.user_id, project_id=ctx.project_id, start_time=utcnow(),
            finish_time=None, message=None, updated_at=None,
            events=[InstanceActionEvent(event=f"compute_{name}", start_time=utcnow(),
                                        finish_time=None, result=None,
                                        traceback="Traceback: boom", host="c1",
                                        details=None)]))

    def server_get(self, ctx: Any, uuid: str, read_deleted: bool = False,
                   down_cell_minimal: bool = False, with_groups: bool = False,
                   with_host_status: bool = False) -> Instance:
        self.calls.append("server_get")
        inst = self.servers.get(uuid)
        if inst is None or (inst.deleted and not read_deleted):
            raise exception.InstanceNotFound(instance_id=uuid)
        if not (with_groups or with_host_status):
            return inst
        inst = inst.obj_clone()  # the stored server keeps no reader's additions
        if with_groups:
            inst.server_groups = [g.uuid for g in self.groups.values() if uuid in g.members]
        if with_host_status:
            inst.host_status = "" if not inst.host else next(
                (s.host_status() for s in self.services
                 if s.host == inst.host and s.binary == "nova-compute"), "UNKNOWN")
        return inst

    def server_list(self, ctx: Any, project_id: Optional[str], filters: dict,
                    limit: Optional[int], marker: Optional[str],
                    sort: Optional[list] = None, down_cells: str = "skip") -> list:
        self.calls.append("server_list")
        self.last_list = {"sort": sort, "down_cells": down_cells, "limit": limit}
        out = []
        for inst in self.servers.values():
            if project_id is not None and inst.project_id != project_id:
                continue
            if inst.deleted and not filters.get("deleted"):
                continue
            if (inst.vm_state == states.SOFT_DELETED and not filters.get("deleted")
                    and not filters.get("soft_deleted")):
                continue
            if filters.get("vm_state") and inst.vm_state not in filters["vm_state"]:
                continue
            if filters.get("uuids") is not None and inst.uuid not in filters["uuids"]:
                continue
            if filters.get("image") and inst.image_ref != filters["image"]:
                continue
            if filters.get("flavor_id") and inst.flavor.flavorid != filters["flavor_id"]:
                continue
            if filters.get("host") and inst.host != filters["host"]:
                continue
            if any(str(inst.get(c)) != v for c, v in (filters.get("columns") or {}).items()):
                continue
            if filters.get("name_contains") and (
                    filters["name_contains"].lower() not in (inst.display_name or "").lower()):
                continue
            tags = set(inst.get("tags") or ())
            if (filters.get("tags") and not set(filters["tags"]) <= tags
                    or filters.get("tags-any") and not set(filters["tags-any"]) & tags
                    or filters.get("not-tags") and set(filters["not-tags"]) <= tags
                    or filters.get("not-tags-any") and set(filters["not-tags-any"]) & tags):
                continue
            out.append(inst)
        out.sort(key=instance_paging.sort_key(instance_paging.normalize(sort)))
        if marker:
            idx = next((n for n, i in enumerate(out) if i.uuid == marker), None)
            if idx is None:
                raise exception.Invalid(message=f"marker [{marker}] not found")
            out = out[idx + 1:]
        return [self._with_volumes(i) for i in (out[:limit] if limit is not None else out)]

    def server_list_rows(self, ctx: Any, project_id: Optional[str], filters: dict,
                         limit: Optional[int], marker: Optional[str],
                         sort: Optional[list] = None, down_cells: str = "skip",
                         detail: bool = True) -> list:
        from nova_lite.conductor import server_rows

        self.calls.append("server_list_rows")
        self.last_list = {"sort": sort, "down_cells": down_cells, "limit": limit,
                          "detail": detail}
        listed = self.server_list(ctx, project_id, filters, limit, marker, sort, down_cells)
        self.calls.pop()
        # As the real client returns them: decoded from the conductor's JSON text.
        return json.loads(server_rows.dumps(
            [server_rows.for_wire(server_rows.from_instance(i, detail)) for i in listed]))

    def _with_volumes(self, inst: Instance) -> Instance:
        """A copy of a listed server carrying its attached volumes, as the real list's."""
        listed = inst.obj_clone()
        listed.volumes_attached = [
            {"id": b.volume_id, "delete_on_termination": bool(b.delete_on_termination)}
            for b in self.bdms.get(inst.uuid, [])
            if b.destination_type == "volume" and b.volume_id]
        listed.obj_reset_changes(["volumes_attached"])
        return listed

    def server_update(self, ctx: Any, uuid: str, values: dict) -> Instance:
        self.calls.append("server_update")
        inst = self.server_get(ctx, uuid)
        for k, v in values.items():
            setattr(inst, k, v)
        inst.updated_at = utcnow()
        return inst

    def _idle(self, uuid: str, action: str, states_ok: tuple) -> Instance:
        inst = self.server_get(None, uuid)
        if inst.vm_state not in states_ok:
            raise exception.InstanceInvalidState(action=action, instance_uuid=uuid,
                                                 attr="vm_state", state=inst.vm_state)
        return inst

    def server_metadata_update(self, ctx: Any, uuid: str, metadata: dict,
                               replace: bool = False) -> dict:
        self.calls.append("server_metadata_update")
        inst = self._idle(uuid, "update metadata", (states.ACTIVE, states.STOPPED))
        new = dict(metadata) if replace else dict(inst.metadata, **metadata)
        if len(new) > 128:
            raise exception.MetadataLimitExceeded(allowed=128)
        inst.metadata = new
        return dict(new)

    def server_metadata_delete(self, ctx: Any, uuid: str, key: str) -> None:
        self.calls.append("server_metadata_delete")
        inst = self._idle(uuid, "delete metadata", (states.ACTIVE, states.STOPPED))
        if key not in inst.metadata:
            raise exception.MetadataItemNotFound()
        inst.metadata = {k: v for k, v in inst.metadata.items() if k != key}

    def server_tags_update(self, ctx: Any, uuid: str, add: list, remove: list,
                           replace: bool = False) -> list:
        self.calls.append("server_tags_update")
        inst = self._idle(uuid, "update tags", (states.ACTIVE, states.STOPPED))
        before = set(inst.tags)
        missing = [t for t in remove if t not in before]
        if missing:
            raise exception.InstanceTagNotFound(instance_id=uuid, tag=missing[0])
        after = set(add) if replace else (before | set(add)) - set(remove)
        if len(after) > 50:
            raise exception.Invalid(message="The number of tags exceeded the per-server "
                                            "limit 50")
        inst.tags = sorted(after)
        return [sorted(after), after != before]

    def server_delete(self, ctx: Any, uuid: str) -> None:
        self.calls.append("server_delete")
        inst = self.server_get(ctx, uuid)
        states.check_allowed("delete", inst, ctx)
        inst.deleted = True
        inst.vm_state = states.DELETED
        inst.task_state = None

    def server_action(self, ctx: Any, uuid: str, action: str,
                      params: Optional[dict] = None) -> Instance:
        self.calls.append(f"server_action:{action}")
        inst = self.server_get(ctx, uuid)
        t = states.check_allowed(action, inst, ctx)
        self.action_params.append((action, dict(params or {})))
        starter = getattr(self, f"_start_{action}", None)
        if starter is not None:
            starter(ctx, inst, params or {})
        else:
            inst.task_state = t.task_state
        self._action(ctx, inst, t.action_record)
        return inst

    # the conductor's per-action starts, as far as the API can see them
    def _start_lock(self, ctx: Any, inst: Instance, params: dict) -> None:
        owner = inst.project_id == ctx.project_id
        if inst.locked and owner:
            return
        sysmeta = dict(inst.get("system_metadata") or {})
        if params.get("locked_reason"):
            sysmeta["locked_reason"] = params["locked_reason"]
        inst.locked, inst.locked_by = True, "owner" if owner else "admin"
        inst.system_metadata = sysmeta

    def _start_unlock(self, ctx: Any, inst: Instance, params: dict) -> None:
        sysmeta = dict(inst.get("system_metadata") or {})
        sysmeta.pop("locked_reason", None)
        inst.locked, inst.locked_by, inst.system_metadata = False, None, sysmeta

    def _start_reset_state(self, ctx: Any, inst: Instance, params: dict) -> None:
        inst.vm_state, inst.task_state = params["state"], None

    def _start_rebuild(self, ctx: Any, inst: Instance, params: dict) -> None:
        for key, value in params["values"].items():
            setattr(inst, key, value)
        inst.system_metadata = dict(params.get("image_system_metadata") or {})
        inst.task_state = states.REBUILDING

    def _start_resize(self, ctx: Any, inst: Instance, params: dict) -> None:
        from nova_lite.conductor.resize import check_new_flavor

        new = check_new_flavor(ctx, inst.flavor, self.flavors.get(params["flavor_id"]))
        inst.old_flavor, inst.new_flavor = inst.flavor, new
        inst.task_state = states.RESIZE_PREP

    def _start_confirm_resize(self, ctx: Any, inst: Instance, params: dict) -> None:
        inst.task_state = states.RESIZE_CONFIRMING

    def _start_force_delete(self, ctx: Any, inst: Instance, params: dict) -> None:
        inst.task_state = states.DELETING

    def _start_migrate(self, ctx: Any, inst: Instance, params: dict) -> None:
        host = params.get("host")
        if host is not None:
            if host == inst.host:
                raise exception.CannotMigrateToSameHost()
            if not any(n.host == host for n in self.nodes):
                raise exception.ComputeHostNotFound(host=host)
        if any(svc.host == inst.host and not svc.is_up for svc in self.services):
            raise exception.SourceHostUnavailable()
        inst.old_flavor = inst.new_flavor = inst.flavor
        inst.task_state = states.RESIZE_PREP
        self.add_migration(inst.uuid, migration_type="migration", source_compute=inst.host,
                           dest_compute=host)

    # -- migration records ------------------------------------------------------------
    def add_migration(self, instance_uuid: str, **values: Any) -> Migration:
        now = utcnow()
        fields = dict(id=len(self.migrations) + 1, uuid=str(uuidlib.uuid4()),
                      instance_uuid=instance_uuid, migration_type="resize",
                      status="pre-migrating", source_compute="host1", source_node="host1",
                      dest_compute=None, dest_node=None, dest_host=None,
                      old_instance_type_id=1, new_instance_type_id=1, hidden=False,
                      cross_cell_move=False, user_id="u", project_id="p",
                      memory_total=None, memory_processed=None, memory_remaining=None,
                      disk_total=None, disk_processed=None, disk_remaining=None,
                      created_at=now, updated_at=None, deleted=False, deleted_at=None)
        fields.update(values)
        mig = Migration(**fields)
        self.migrations.append(mig)
        return mig

    def migration_search(self, ctx: Any, filters: dict, limit: Optional[int] = None,
                         marker: Optional[str] = None) -> list:
        self.calls.append("migration_search")
        self.search_filters = dict(filters)

        def match(m: Migration) -> bool:
            for key, want in filters.items():
                if key == "host":
                    if want not in (m.source_compute, m.dest_compute):
                        return False
                elif key == "status":
                    if m.status not in (want if isinstance(want, list) else [want]):
                        return False
                elif key in ("changes_since", "changes_before"):
                    when = datetime.datetime.fromisoformat(want)
                    changed = m.updated_at or m.created_at
                    if (changed < when) if key == "changes_since" else (changed > when):
                        return False
                elif getattr(m, key) != want:
                    return False
            return not m.hidden

        out = [m for m in reversed(self.migrations) if match(m)]
        if marker is not None:
            at = next((n for n, m in enumerate(out) if m.uuid == marker), None)
            if at is None:
                raise exception.MarkerNotFound(marker=marker)
            out = out[at + 1:]
        return out[:limit] if limit is not None else out

    # -- the operator's moves (live migration, evacuate) ---------------------------------
    def _move_target(self, inst: Instance, host: Optional[str]) -> None:
        if host and host not in {s.host for s in self.services}:
            raise exception.ComputeHostNotFound(host=host)
        if host and host == inst.host:
            raise exception.Invalid(message="The target host can't be the same one.")

    def _start_live_migration(self, ctx: Any, inst: Instance, params: dict) -> None:
        self._move_target(inst, params.get("host"))
        inst.task_state = states.MIGRATING
        self.add_move(inst, "live-migration", "queued", params.get("host"))

    def _start_evacuate(self, ctx: Any, inst: Instance, params: dict) -> None:
        if any(s.host == inst.host and s.is_up for s in self.services):
            raise exception.ComputeServiceInUse(host=inst.host)
        self._move_target(inst, params.get("host"))
        inst.task_state = states.REBUILDING
        self.add_move(inst, "evacuation", "accepted", params.get("host"))

    def add_move(self, inst: Instance, kind: str, status: str,
                 dest: Optional[str] = None) -> Migration:
        """Test helper: a migration record of ``inst``."""
        return self.add_migration(inst.uuid, migration_type=kind, status=status,
                                  source_compute=inst.host, dest_compute=dest)

    def _live_move(self, ctx: Any, instance_uuid: str, migration_id: int,
                   method: str) -> tuple[Instance, Migration]:
        inst = self.server_get(ctx, instance_uuid)
        mig = next((m for m in self.migrations if m.instance_uuid == instance_uuid
                    and m.id == migration_id), None)
        if mig is None:
            raise exception.MigrationNotFoundForInstance(migration_id=migration_id,
                                                         instance_id=instance_uuid)
        if inst.task_state != states.MIGRATING:
            raise exception.InstanceInvalidState(action=method, instance_uuid=inst.uuid,
                                                 attr="task_state", state=inst.task_state)
        if mig.migration_type != "live-migration":
            raise exception.Invalid(message="not a live migration")
        return inst, mig

    def live_migration_force_complete(self, ctx: Any, instance_uuid: str,
                                      migration_id: int) -> None:
        self.calls.append("live_migration_force_complete")
        inst, mig = self._live_move(ctx, instance_uuid, migration_id, "force_complete")
        if mig.status != "running":
            raise exception.InvalidMigrationState(
                migration_id=migration_id, instance_uuid=instance_uuid, state=mig.status,
                method="force complete")

    def live_migration_abort(self, ctx: Any, instance_uuid: str, migration_id: int,
                             queued_too: bool = False) -> None:
        self.calls.append(f"live_migration_abort:{queued_too}")
        inst, mig = self._live_move(ctx, instance_uuid, migration_id, "abort")
        if mig.status not in (("running", "queued", "preparing") if queued_too
                              else ("running",)):
            raise exception.InvalidMigrationState(
                migration_id=migration_id, instance_uuid=instance_uuid, state=mig.status,
                method="abort live migration")
        mig.status = "cancelled"

    def server_unshelve(self, ctx: Any, uuid: str, params: dict) -> None:
        self.calls.append("server_unshelve")
        inst = self.server_get(ctx, uuid)
        t = states.check_allowed("unshelve", inst, ctx)  # lock, then state
        if ("availability_zone" in params or params.get("host")) and \
                inst.vm_state != states.SHELVED_OFFLOADED:
            raise exception.UnshelveInstanceInvalidState(instance_uuid=uuid,
                                                         state=inst.vm_state)
        if params.get("host") and params["host"] not in {s.host for s in self.services}:
            raise exception.ComputeHostNotFound(host=params["host"])
        inst.task_state = t.task_state
        self.action_params.append(("unshelve", dict(params)))
        self._action(ctx, inst, "unshelve")

    def server_set_password(self, ctx: Any, uuid: str, password: str) -> None:
        self.calls.append("server_set_password")
        inst = self.server_get(ctx, uuid)
        states.check_allowed("changePassword", inst, ctx)
        if (inst.metadata or {}).get("fake_no_agent"):
            raise exception.InstanceAgentNotEnabled(instance_uuid=uuid)
        self.admin_passwords[uuid] = password
        self._action(ctx, inst, "changePassword")

    def server_diagnostics(self, ctx: Any, uuid: str) -> dict:
        self.calls.append("server_diagnostics")
        inst = self.server_get(ctx, uuid)
        if not inst.host:
            raise exception.InstanceNotReady(instance_id=uuid)
        return {"state": "running", "driver": "fake", "hypervisor": "fake",
                "hypervisor_os": "fake-os", "uptime": 7, "config_drive": False,
                "num_cpus": 1, "num_disks": 1, "num_nics": 0,
                "cpu_details": [{"id": 0, "time": 1000, "utilisation": None}],
                "disk_details": [{"read_bytes": 1, "read_requests": 2, "write_bytes": 3,
                                  "write_requests": 4, "errors_count": 0}],
                "nic_details": [], "memory_details": {"maximum": 512, "used": 100}}

    def console_output(self, ctx: Any, uuid: str, length: Optional[int]) -> str:
        self.calls.append("console_output")
        self.server_get(ctx, uuid)
        lines = self.console.splitlines(keepends=True)
        return "".join(lines[-length:] if length else lines) if length != 0 else ""

    def instance_actions(self, ctx: Any, uuid: str, request_id: Optional[str] = None,
                         read_deleted: bool = False) -> list:
        self.calls.append("instance_actions")
        actions = self.actions.get(uuid, [])
        if request_id is not None:
            actions = [a for a in actions if a.request_id == request_id]
        return list(actions)

    def instances_in_window(self, ctx: Any, project_id: Optional[str], start: Any, end: Any,
                            limit: Optional[int] = None, marker: Optional[str] = None) -> list:
        self.calls.append("instances_in_window")

        def naive(dt: Any) -> Any:
            return dt.replace(tzinfo=None) if dt is not None else None

        out = sorted((i for i in self.servers.values()
                      if (project_id is None or i.project_id == project_id)
                      and i.launched_at is not None and naive(i.launched_at) < end
                      and (i.terminated_at is None or naive(i.terminated_at) > start)),
                     key=lambda i: (i.project_id, i.uuid))
        if marker is not None:
            keys = [(i.project_id, i.uuid) for i in self.servers.values() if i.uuid == marker]
            if not keys:
                raise exception.Invalid(message=f"Marker {marker} could not be found.")
            out = [i for i in out if (i.project_id, i.uuid) > keys[0]]
        return out[:limit] if limit is not None else out

    # -- key pairs ------------------------------------------------------------------------
    def keypair_create(self, ctx: Any, keypair: KeyPair) -> KeyPair:
        self.calls.append("keypair_create")
        key = (keypair.user_id, keypair.name)
        if key in self.keypair_rows:
            raise exception.KeyPairExists(key_name=keypair.name)
        limit = self.quota_get(ctx, ctx.project_id, keypair.user_id)["key_pairs"]
        mine = sum(1 for user, _ in self.keypair_rows if user == keypair.user_id)
        if 0 <= limit <= mine:
            raise exception.KeypairLimitExceeded()
        row = KeyPair(id=len(self.keypair_rows) + 1, created_at=utcnow(), updated_at=None,
                      **keypair.to_dict())
        self.keypair_rows[key] = row
        return row

    def keypair_get(self, ctx: Any, user_id: str, name: str) -> KeyPair:
        self.calls.append("keypair_get")
        try:
            return self.keypair_rows[(user_id, name)]
        except KeyError:
            raise exception.KeypairNotFound(user_id=user_id, name=name) from None

    def keypair_list(self, ctx: Any, user_id: str, limit: Optional[int] = None,
                     marker: Optional[str] = None) -> list:
        self.calls.append("keypair_list")
        rows = sorted((k for (u, _), k in self.keypair_rows.items() if u == user_id),
                      key=lambda k: k.name)
        if marker is not None:
            if not any(k.name == marker for k in rows):
                raise exception.Invalid(message=f"Marker {marker} could not be found.")
            rows = [k for k in rows if k.name > marker]
        return rows[:limit] if limit is not None else rows

    def keypair_delete(self, ctx: Any, user_id: str, name: str) -> None:
        self.calls.append("keypair_delete")
        if self.keypair_rows.pop((user_id, name), None) is None:
            raise exception.KeypairNotFound(user_id=user_id, name=name)

    # -- quotas ---------------------------------------------------------------------------
    QUOTA_DEFAULTS = {"instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128,
                      "injected_files": 5, "injected_file_content_bytes": 10240,
                      "injected_file_path_bytes": 255, "key_pairs": 100, "server_groups": 10,
                      "server_group_members": 10, "fixed_ips": -1, "floating_ips": 10,
                      "security_groups": 10, "security_group_rules": 20}

    def _usage(self, project_id: str) -> dict:
        mine = [i for i in self.servers.values()
                if i.project_id == project_id and not i.deleted]
        return {"instances": len(mine), "cores": sum(i.vcpus for i in mine),
                "ram": sum(i.memory_mb for i in mine)}

    def quota_get(self, ctx: Any, project_id: str, user_id: Optional[str] = None,
                  usages: bool = False) -> dict:
        self.calls.append("quota_get")
        limits = dict(self.quota_classes.get("default", {}))
        limits = {k: limits.get(k, v) for k, v in self.QUOTA_DEFAULTS.items()}
        limits.update(self.quotas.get((project_id, None), {}))
        if user_id:
            limits.update(self.quotas.get((project_id, user_id), {}))
        if not usages:
            return limits
        used = self._usage(project_id)
        return {k: {"limit": v, "in_use": used.get(k, 0)} for k, v in limits.items()}

    def quota_defaults(self, ctx: Any) -> dict:
        self.calls.append("quota_defaults")
        return dict(self.QUOTA_DEFAULTS, **self.quota_classes.get("default", {}))

    def quota_update(self, ctx: Any, project_id: str, user_id: Optional[str], values: dict,
                     force: bool = False) -> dict:
        self.calls.append("quota_update")
        used = self._usage(project_id)
        for name, limit in values.items():
            if not force and 0 <= limit < used.get(name, 0):
                raise exception.Invalid(
                    message=f"Quota limit {limit} for {name} must be greater than or equal "
                            f"to already used and reserved {used[name]}.")
        self.quotas.setdefault((project_id, user_id), {}).update(values)
        return self.quota_get(ctx, project_id, user_id)

    def quota_delete(self, ctx: Any, project_id: str, user_id: Optional[str] = None) -> None:
        self.calls.append("quota_delete")
        for key in list(self.quotas):
            if key[0] == project_id and (user_id is None or key[1] == user_id):
                del self.quotas[key]

    def quota_class_get(self, ctx: Any, class_name: str) -> dict:
        self.calls.append("quota_class_get")
        return dict(self.QUOTA_DEFAULTS, **self.quota_classes.get(class_name, {}))

    def quota_class_update(self, ctx: Any, class_name: str, values: dict) -> dict:
        self.calls.append("quota_class_update")
        self.quota_classes.setdefault(class_name, {}).update(values)
        return self.quota_class_get(ctx, class_name)
    # -- server groups ------------------------------------------------------------------
    def server_group_create(self, ctx: Any, name: str, policy: str, rules: dict) -> Any:
        self.calls.append("server_group_create")
        group = InstanceGroup(uuid=str(uuidlib.uuid4()), name=name,
                              project_id=ctx.project_id, user_id=ctx.user_id, policy=policy,
                              rules=dict(rules), members=[], hosts={}, created_at=utcnow())
        self.groups[group.uuid] = group
        return group

    def server_group_get(self, ctx: Any, uuid: str) -> Any:
        self.calls.append("server_group_get")
        if uuid not in self.groups:
            raise exception.InstanceGroupNotFound(group_uuid=uuid)
        return self.groups[uuid]

    def server_group_list(self, ctx: Any, project_id: Optional[str]) -> list:
        self.calls.append("server_group_list")
        return [g for g in self.groups.values()
                if project_id is None or g.project_id == project_id]

    def server_group_delete(self, ctx: Any, uuid: str) -> None:
        self.calls.append("server_group_delete")
        self.server_group_get(ctx, uuid)
        del self.groups[uuid]

    def server_groups_of(self, ctx: Any, instance_uuid: str) -> list:
        self.calls.append("server_groups_of")
        return [g.uuid for g in self.groups.values() if instance_uuid in g.members]

    # -- aggregates -------------------------------------------------------------------
    def aggregate_create(self, ctx: Any, name: str, availability_zone: Optional[str]) -> Any:
        self.calls.append("aggregate_create")
        if any(a.name == name for a in self.aggregates.values()):
            raise exception.AggregateNameExists(aggregate_name=name)
        if availability_zone == "internal":
            raise exception.Invalid(message="internal zone")
        agg = Aggregate(id=len(self.aggregates) + 1, uuid=str(uuidlib.uuid4()), name=name,
                        hosts=[], metadata={"availability_zone": availability_zone}
                        if availability_zone else {}, created_at=utcnow(), updated_at=None)
        self.aggregates[agg.id] = agg
        return agg

    def aggregate_get(self, ctx: Any, aggregate_id: int) -> Any:
        self.calls.append("aggregate_get")
        if aggregate_id not in self.aggregates:
            raise exception.AggregateNotFound(aggregate_id=aggregate_id)
        return self.aggregates[aggregate_id]

    def aggregate_list(self, ctx: Any) -> list:
        self.calls.append("aggregate_list")
        return list(self.aggregates.values())

    def aggregate_update(self, ctx: Any, aggregate_id: int, values: dict) -> Any:
        self.calls.append("aggregate_update")
        agg = self.aggregate_get(ctx, aggregate_id)
        if "name" in values:
            agg.name = values["name"]
        meta = dict(agg.metadata)
        for k, v in (values.get("metadata") or {}).items():
            if v is None:
                meta.pop(k, None)
            else:
                meta[k] = v
        agg.metadata = meta
        return agg

    def aggregate_delete(self, ctx: Any, aggregate_id: int) -> None:
        self.calls.append("aggregate_delete")
        if self.aggregate_get(ctx, aggregate_id).hosts:
            raise exception.AggregateActionConflict(
                action="delete", aggregate_id=aggregate_id,
                reason="Host aggregate is not empty", code=400)
        del self.aggregates[aggregate_id]

    def aggregate_add_host(self, ctx: Any, aggregate_id: int, host: str) -> Any:
        self.calls.append("aggregate_add_host")
        agg = self.aggregate_get(ctx, aggregate_id)
        if not any(s.host == host for s in self.services):
            raise exception.ComputeHostNotFound(host=host)
        if host in agg.hosts:
            raise exception.AggregateHostExists(aggregate_id=aggregate_id, host=host)
        agg.hosts = agg.hosts + [host]
        return agg

    def aggregate_remove_host(self, ctx: Any, aggregate_id: int, host: str) -> Any:
        self.calls.append("aggregate_remove_host")
        agg = self.aggregate_get(ctx, aggregate_id)
        if host not in agg.hosts:
            raise exception.AggregateHostNotFound(aggregate_id=aggregate_id, host=host)
        agg.hosts = [h for h in agg.hosts if h != host]
        return agg

    def host_availability_zones(self, ctx: Any) -> dict:
        self.calls.append("host_availability_zones")
        return {h: a.metadata["availability_zone"] for a in self.aggregates.values()
                if "availability_zone" in a.metadata for h in a.hosts}

    # -- services -----------------------------------------------------------------------
    def service_list(self, ctx: Any, binary: Optional[str] = None,
                     host: Optional[str] = None, down_cell_minimal: bool = False) -> list:
        self.calls.append("service_list")
        return [s for s in self.services
                if (not binary or s.binary == binary) and (not host or s.host == host)]

    def compute_node_list(self, ctx: Any) -> list:
        self.calls.append("compute_node_list")
        return list(self.nodes)

    def compute_node_rows(self, ctx: Any) -> list[dict]:
        self.calls.append("compute_node_rows")
        return [n.to_dict() for n in self.nodes]

    def service_get(self, ctx: Any, service_id: int | str) -> Any:
        for svc in self.services:
            if (svc.uuid if isinstance(service_id, str) else svc.id) == service_id:
                return svc
        raise exception.ServiceNotFound(service_id=service_id)

    def _apply(self, svc: Any, values: dict) -> Any:
        for k, v in values.items():
            setattr(svc, k, v)
        svc.updated_at = utcnow()
        if svc.forced_down:
            svc.is_up = False
        for node in self.nodes:
            if node.host == svc.host:
                node.service_disabled = svc.disabled
                node.service_up = svc.is_up
        return svc

    def service_update(self, ctx: Any, service_id: int | str, values: dict) -> Any:
        self.calls.append("service_update")
        return self._apply(self.service_get(ctx, service_id), values)

    def service_update_by_host(self, ctx: Any, host: str, binary: str, values: dict) -> Any:
        self.calls.append("service_update_by_host")
        for svc in self.services:
            if svc.host == host and svc.binary == binary:
                return self._apply(svc, values)
        raise exception.HostBinaryNotFound(host=host, binary=binary)

    def service_delete(self, ctx: Any, service_id: int | str) -> None:
        self.calls.append("service_delete")
        svc = self.service_get(ctx, service_id)
        if svc.binary == "nova-compute":
            if any(i.host == svc.host for i in self.servers.values()):
                raise exception.ServiceInUse()
            self.nodes = [n for n in self.nodes if n.host != svc.host]
        self.services.remove(svc)

    def host_uptime(self, ctx: Any, host: str) -> str:
        svc = next((s for s in self.services if s.host == host
                    and s.binary == "nova-compute"), None)
        if svc is None:
            raise exception.ComputeHostNotFound(host=host)
        if not svc.is_up:
            raise exception.ComputeServiceUnavailable(host=host)
        return " 08:32:11 up 93 days, 18:25, 12 users,  load average: 0.20, 0.12, 0.14"

    # -- what reaches guests --------------------------------------------------------------
    def instance_metadata(self, ctx: Any, uuid: str) -> dict:
        self.calls.append("instance_metadata")
        inst = self.server_get(ctx, uuid)
        return {"instance": inst, "keypairs": list(self.keypairs.get(uuid, [])),
                "network_info": list(self.network_info.get(uuid, [])),
                "password": self.passwords.get(uuid, "")}

    def instance_password_set(self, ctx: Any, uuid: str, password: str,
                              only_if_empty: bool = False) -> None:
        self.calls.append("instance_password_set")
        self.server_get(ctx, uuid)
        if only_if_empty and self.passwords.get(uuid):
            raise exception.Conflict(message="The instance's password is already set.")
        self.passwords[uuid] = password

    def server_console(self, ctx: Any, uuid: str, console_type: str) -> dict:
        self.calls.append("server_console")
        if console_type != "novnc":
            raise exception.ConsoleTypeUnavailable(console_type=console_type)
        inst = self.server_get(ctx, uuid)
        if inst.vm_state != states.ACTIVE or not inst.host:
            raise exception.InstanceNotReady(instance_id=uuid)
        token = f"tok-{len(self.console_tokens)}"
        self.console_tokens[token] = {
            "instance_uuid": uuid, "console_type": console_type, "host": "192.0.2.10",
            "port": 5900, "internal_access_path": None, "expires": 2 ** 31}
        return {"url": f"http://proxy:6080/vnc_lite.html?path=%3Ftoken%3D{token}",
                "token": token, "expires": 2 ** 31}

    def console_token_validate(self, ctx: Any, token: str) -> dict:
        self.calls.append("console_token_validate")
        if token not in self.console_tokens:
            raise exception.ConsoleTokenInvalid(token="***")
        return dict(self.console_tokens[token])

    # -- networking (the compute host's part done with ``compute_network``) -------------
    def external_instance_event(self, ctx: Any, events: list) -> list:
        self.calls.append("external_instance_event")
        out = []
        for ev in events:
            inst = self.servers.get(ev["server_uuid"])
            code = 404 if inst is None or inst.deleted else (200 if inst.host else 422)
            out.append(dict(ev, code=code, **({} if code == 200 else {"status": "failed"})))
            if code == 200:
                self.events.append(ev)
        return out

    def server_attach_interface(self, ctx: Any, uuid: str, network_id: Optional[str],
                                port_id: Optional[str], fixed_ip: Optional[str],
                                tag: Optional[str] = None) -> dict:
        inst = self.server_get(ctx, uuid)
        if inst.vm_state not in (states.ACTIVE, states.PAUSED, states.STOPPED):
            raise exception.InstanceInvalidState(action="attach_interface",
                                                 instance_uuid=uuid, attr="vm_state",
                                                 state=inst.vm_state)
        vif = self.compute_network.allocate_port(uuid, inst.project_id, inst.host, "nova",
                                                 network_id, port_id, fixed_ip, tag)
        inst.network_info = net_model.dumps(net_model.loads(inst.get("network_info")) + [vif])
        return vif

    def server_detach_interface(self, ctx: Any, uuid: str, port_id: str) -> None:
        inst = self.server_get(ctx, uuid)
        nw_info = net_model.loads(inst.get("network_info"))
        self.compute_network.deallocate_port(uuid, port_id, nw_info)
        inst.network_info = net_model.dumps([v for v in nw_info if v["id"] != port_id])

    # -- test helpers -------------------------------------------------------------------
    def add_server(self, project_id: str = "proj-a", user_id: str = "alice",
                   vm_state: str = states.ACTIVE, task_state: Optional[str] = None,
                   host: Optional[str] = "c1", name: str = "vm", image_ref: str = "",
                   created_at: Optional[datetime.datetime] = None,
                   fault: Optional[InstanceFault] = None, **kw: Any) -> Instance:
        flavor = self.flavors["1"]
        n = len(self.servers) + 1
        values = dict(
            id=n, uuid=str(uuidlib.uuid4()), display_name=name, display_description=None,
            hostname=name, project_id=project_id, user_id=user_id, host=host,
            node=f"{host}.node" if host else None, vm_state=vm_state, task_state=task_state,
            power_state=1 if vm_state == states.ACTIVE else 0, image_ref=image_ref,
            flavor=flavor, vcpus=flavor.vcpus, memory_mb=flavor.memory_mb,
            root_gb=flavor.root_gb, key_name=None, availability_zone="nova",
            pinned_availability_zone=None, metadata={}, tags=[],
            user_data=None, access_ip_v4=None, access_ip_v6=None, config_drive="",
            locked=False, launch_index=0, reservation_id="r-12345678",
            launched_at=utcnow() if host else None, terminated_at=None,
            created_at=created_at or utcnow() + datetime.timedelta(microseconds=n),
            updated_at=None, deleted=False, deleted_at=None, fault=fault,
            cell_name="cell1" if host else None)
        values.update(kw)
        inst = Instance(**values)
        self.servers[inst.uuid] = inst
        return inst

    def add_compute(self, host: str, up: bool = True, disabled: bool = False) -> None:
        n = len(self.nodes) + 1
        self.services.append(Service(
            id=100 + n, uuid=str(uuidlib.uuid4()), host=host, binary="nova-compute",
            topic="compute", report_count=3, disabled=disabled,
            disabled_reason="maintenance" if disabled else None, forced_down=False,
            last_seen_up=utcnow(), created_at=utcnow(), updated_at=utcnow(), is_up=up,
            cell_name="cell1"))
        self.nodes.append(ComputeNode(
            id=n, uuid=str(uuidlib.uuid4()), host=host, hypervisor_hostname=f"{host}.node",
            hypervisor_type="fake", hypervisor_version=1000, cpu_info='{"arch": "x86_64"}',
            host_ip="192.0.2.10", vcpus=8, memory_mb=16384, local_gb=100, vcpus_used=1,
            memory_mb_used=1024, local_gb_used=10, running_vms=1, service_id=100 + n,
            service_disabled=disabled, service_up=up, service_host=host, cell_name="cell1"))

    def add_service(self, host: str, binary: str) -> None:
        self.services.append(Service(
            id=200 + len(self.services), uuid=str(uuidlib.uuid4()), host=host,
            binary=binary, topic=None, report_count=1, disabled=False,
            disabled_reason=None, forced_down=False, last_seen_up=utcnow(),
            created_at=utcnow(), updated_at=utcnow(), is_up=True, cell_name="cell1"))
