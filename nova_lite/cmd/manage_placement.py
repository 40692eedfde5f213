"""``nova-lite-manage placement audit|heal_allocations``: the operator's repairs of the
resource accounting, with nova-manage's exit codes.

audit: 0 nothing found, 3 found (not deleted), 4 found and all deleted, 1 error.
heal_allocations: 0 allocations created, 4 nothing to do, 1 --max-count reached with
more to do, 2 an instance's compute node has no provider, 3 an allocation could not be
made (capacity or a concurrent change), 127 bad input.

An allocation is orphaned when its consumer is no instance (in any cell, soft-deleted
ones included), no build request and no move in progress; a provider is orphaned when
no compute node (by uuid or hypervisor hostname) backs it. Allocations are read before
the consumers, so a claim made meanwhile is never mistaken for an orphan.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conf import CONF
from nova_lite.db import block_devices as bdm_db
from nova_lite.db import cells as cells_db
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement
from nova_lite.db import placement_query as pq
from nova_lite.db import placement_write as pw
from nova_lite.db import services as svc_db
from nova_lite.objects.block_device import volume_backed
from nova_lite.objects.request_spec import RequestSpec

AUDIT_CLEAN, AUDIT_ERROR, AUDIT_FOUND, AUDIT_DELETED = 0, 1, 3, 4
HEAL_DONE, HEAL_MORE, HEAL_NO_NODE, HEAL_FAILED, HEAL_NOTHING = 0, 1, 2, 3, 4
BAD_INPUT = 127


@dataclasses.dataclass
class Findings:
    allocations: list[dict]  # {"consumer_id", "provider_uuid", "provider_name", ...}
    providers: list[dict]  # {"uuid", "name", ...}


def _live_consumers(api_url: str) -> set[str]:
    live = {br["instance_uuid"] for br in cells_db.build_request_list(api_url)}
    for cell in cells_db.cell_list(api_url):
        url = cell["database_connection"]
        live |= {i.uuid for i in inst_db.instance_list(url, cell["name"], None,
                                                       {"soft_deleted": True})}
        live |= {mig.uuid for mig in mig_db.migration_list(url, in_progress=True)}
    return live


def _compute_nodes(api_url: str) -> tuple[set[str], set[str]]:
    uuids: set[str] = set()
    names: set[str] = set()
    for cell in cells_db.cell_list(api_url):
        for node in svc_db.compute_node_list(cell["database_connection"],
                                             CONF.service_down_time, cell["name"]):
            uuids.add(node.uuid)
            names.add(node.hypervisor_hostname)
    return uuids, names


def find_orphans(api_url: str) -> Findings:
    allocations = pq.all_allocations(api_url)
    providers = pq.all_providers(api_url)
    live = _live_consumers(api_url)
    node_uuids, node_names = _compute_nodes(api_url)
    return Findings(
        allocations=[a for a in allocations if a["consumer_id"] not in live],
        providers=[p for p in providers
                   if p["uuid"] not in node_uuids and p["name"] not in node_names])


def audit(api_url: str, verbose: bool, delete: bool) -> int:
    found = find_orphans(api_url)
    for a in found.allocations:
        if verbose:
            print(f"Allocations of consumer {a['consumer_id']} on resource provider "
                  f"{a['provider_uuid']} ({a['provider_name']}) have no live consumer: "
                  f"{a['resources']}")
        if delete:
            pw.allocation_delete(api_url, a["consumer_id"], a["provider_uuid"])
            if verbose:
                print(f"Deleted allocations of consumer {a['consumer_id']} on "
                      f"{a['provider_uuid']}")
    for p in found.providers:
        if verbose:
            print(f"Resource provider {p['uuid']} ({p['name']}) has no compute node")
        if delete:
            try:
                pw.provider_delete(api_url, p["uuid"])
            except exception.ResourceProviderNotFound:
                pass
            if verbose:
                print(f"Deleted resource provider {p['uuid']}")
    total = len(found.allocations) + len(found.providers)
    if not total:
        if verbose:
            print("Processed the resource providers: no orphaned allocation or provider.")
        return AUDIT_CLEAN
    print(f"{len(found.allocations)} orphaned allocation(s) and {len(found.providers)} "
          f"orphaned resource provider(s) {'deleted' if delete else 'found'}.")
    return AUDIT_DELETED if delete else AUDIT_FOUND


def heal_allocations(api_url: str, verbose: bool = False, dry_run: bool = False,
                     max_count: Optional[int] = None, instance: Optional[str] = None
                     ) -> int:
    """Claim, on its node's provider, the flavor's resources of every instance that is
    on a host, settled (no task in progress), not offloaded, and holds nothing (no
    DISK_GB for the root of a volume-backed one)."""
    if max_count is not None and max_count < 1:
        print("Must supply a positive integer for --max-count.")
        return BAD_INPUT
    providers = {p["name"]: p["uuid"] for p in pq.all_providers(api_url)}
    healed = 0
    for cell in cells_db.cell_list(api_url):
        filters: dict = {"uuids": [instance]} if instance else {}
        for inst in inst_db.instance_list(cell["database_connection"], cell["name"], None,
                                          filters):
            if not inst.host or not inst.node or inst.task_state is not None or \
                    inst.vm_state in (states.SHELVED_OFFLOADED, states.ERROR):
                continue
            if placement.consumer_allocations(api_url, inst.uuid):
                continue
            if max_count is not None and healed >= max_count:
                print(f"Max count reached. Processed {healed} instances.")
                return HEAL_MORE
            rp = providers.get(inst.node)
            if rp is None:
                print(f"Unable to find a resource provider for node {inst.node} of "
                      f"instance {inst.uuid}.")
                return HEAL_NO_NODE
            is_bfv = volume_backed(bdm_db.bdm_list(cell["database_connection"],
                                                   [inst.uuid])[inst.uuid])
            resources = RequestSpec(flavor=inst.flavor, is_bfv=is_bfv).resources()
            resources = {rc: n for rc, n in resources.items() if n > 0}
            if verbose:
                print(f"{'Would create' if dry_run else 'Creating'} allocations for "
                      f"instance {inst.uuid} on {rp}: {resources}")
            if not dry_run:
                try:
                    placement.claim(api_url, rp, inst.uuid, resources)
                except exception.ResourceClaimConflict as e:
                    print(f"Unable to create allocations for instance {inst.uuid}: "
                          f"{e.format_message()}")
                    return HEAL_FAILED
            healed += 1
    if not healed:
        print("No allocations needed to be healed.")
        return HEAL_NOTHING
    print(f"{'Would heal' if dry_run else 'Healed'} allocations of {healed} instance(s).")
    return HEAL_DONE
