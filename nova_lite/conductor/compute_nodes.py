"""Compute node reports: a node's resources become its compute node record (cell
database) and its resource provider's inventory and traits (API database)."""

from __future__ import annotations

from typing import Any

from nova_lite.conf import CONF
from nova_lite.db import node_reports

_NODE_FIELDS = (
    "hypervisor_hostname", "hypervisor_type", "hypervisor_version", "cpu_info", "host_ip",
    "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
    "running_vms")


def inventories(resources: dict) -> dict:
    """The provider inventory of one node's report."""
    return {
        "VCPU": {"total": resources["vcpus"], "reserved": CONF.reserved_host_cpus,
                 "allocation_ratio": resources.get("cpu_allocation_ratio",
                                                   CONF.cpu_allocation_ratio)},
        "MEMORY_MB": {"total": resources["memory_mb"],
                      "reserved": resources.get("reserved_host_memory_mb",
                                                CONF.reserved_host_memory_mb),
                      "allocation_ratio": resources.get("ram_allocation_ratio",
                                                        CONF.ram_allocation_ratio)},
        "DISK_GB": {"total": resources["local_gb"],
                    "reserved": (resources.get("reserved_host_disk_mb",
                                               CONF.reserved_host_disk_mb) + 1023) // 1024,
                    "allocation_ratio": resources.get("disk_allocation_ratio",
                                                      CONF.disk_allocation_ratio)},
    }


class ComputeNodesMixin:
    """Conductor RPC methods compute_node_update and compute_nodes_update (1.14)."""

    def compute_node_update(self, ctx: Any, host: str, service_id: int, resources: dict) -> dict:
        """Record a compute node's resources and its provider's inventory."""
        return self.compute_nodes_update(ctx, host, service_id, [resources])[0]

    def compute_nodes_update(self, ctx: Any, host: str, service_id: int,
                             resources: list) -> list:
        """Every node of a compute service at once (one message, and one transaction
        per database, per periodic pass however many nodes it manages)."""
        disabled = self.disabled_trait(service_id)
        nodes = node_reports.compute_nodes_update(
            self.cells.local_cell_url_or_first(), host, service_id,
            [{k: r[k] for k in _NODE_FIELDS} for r in resources])
        local = self.cells.local_cell()
        node_reports.providers_update(self.api_url, host, local["uuid"] if local else None, [
            {"name": r["hypervisor_hostname"], "uuid": node["uuid"],
             "inventories": inventories(r),
             "traits": list(r["traits"]) + disabled if "traits" in r else None}
            for r, node in zip(resources, nodes)])
        return nodes
