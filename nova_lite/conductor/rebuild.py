"""Rebuild: the server's own host re-creates its guest from an image (the same or a new
one), keeping its flavor, host and claim. The new name, metadata, key, user data and
hostname are recorded when the rebuild starts, as Nova does; a volume-backed server
rebuilt from 2.93 has its root volume re-imaged first (``reimage_image_id``)."""

from __future__ import annotations

from typing import Any

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor.tasks import started_by
from nova_lite.db import instances as inst_db
from nova_lite.image import properties as image_properties
from nova_lite.objects.instance import Instance

# Instance fields a rebuild request may change.
REBUILD_FIELDS = frozenset(("image_ref", "display_name", "display_description", "metadata",
                            "key_name", "keypairs", "user_data", "hostname",
                            "access_ip_v4", "access_ip_v6"))


class RebuildMixin:
    def _start_rebuild(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                       params: dict) -> Instance:
        values = dict(params.get("values") or {})
        bad = set(values) - REBUILD_FIELDS - {"system_metadata"}
        if bad:
            raise exception.Invalid(reason=f"cannot rebuild with {', '.join(sorted(bad))}")
        if not inst.host:
            raise exception.InstanceInvalidState(action=t.conflict_verb,
                                                 instance_uuid=inst.uuid, attr="host",
                                                 state=None)
        url = cell["database_connection"]
        orig_vm_state = inst.vm_state
        if "image_system_metadata" in params:  # the new image's, as recorded at boot
            sysmeta = {k: v for k, v in (inst.get("system_metadata") or {}).items()
                       if not k.startswith(image_properties.PREFIX)}
            sysmeta.update(params["image_system_metadata"])
            values["system_metadata"] = sysmeta
        inst = inst_db.instance_update(url, inst.uuid, {**values, "task_state": t.task_state},
                                       expected_task_state=list(t.from_task_states),
                                       cell_name=cell["name"],
                                       start_action=started_by(ctx, t.action_record))
        self.compute.rebuild_instance(ctx, inst.host, inst, orig_vm_state,
                                      bool(params.get("preserve_ephemeral")),
                                      params.get("reimage_image_id"))
        return inst
