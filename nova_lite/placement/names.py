"""Names Placement knows without being told: its standard resource classes and the
os-traits standard traits; custom ones carry the ``CUSTOM_`` prefix."""

from __future__ import annotations

import functools
import re

# Placement's standard resource classes (os-resource-classes), in its order.
STANDARD_RESOURCE_CLASSES = (
    "VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF", "NUMA_SOCKET",
    "NUMA_CORE", "NUMA_THREAD", "NUMA_MEMORY_MB", "IPV4_ADDRESS", "VGPU",
    "VGPU_DISPLAY_HEAD", "NET_BW_EGR_KILOBIT_PER_SEC", "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU", "MEM_ENCRYPTION_CONTEXT", "FPGA", "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC", "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
)
CUSTOM_PREFIX = "CUSTOM_"
NAME_RE = re.compile(r"^[A-Z0-9_]+$")
CUSTOM_RE = re.compile(r"^CUSTOM_[A-Z0-9_]+$")


@functools.lru_cache(maxsize=1)
def standard_traits() -> frozenset[str]:
    import os_traits

    return frozenset(os_traits.get_traits())


def known_resource_class(name: str) -> bool:
    return name in STANDARD_RESOURCE_CLASSES or bool(CUSTOM_RE.match(name))
