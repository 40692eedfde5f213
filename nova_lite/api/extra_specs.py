"""Validation of flavor extra specs (microversion 2.86), for the namespaces Nova knows.

A key in a known namespace (``hw:``, ``resources:``, ``trait:``, ...) must be one this
table describes and its value must fit; keys outside those namespaces (or without one)
are stored as given, since operators use them for their own filters.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Optional

from nova_lite import exception

_BOOLS = ("1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no")
_RC = r"(VCPU|PCPU|MEMORY_MB|DISK_GB|SRIOV_NET_VF|NUMA_SOCKET|NUMA_CORE|NUMA_THREAD|" \
      r"NUMA_MEMORY_MB|IPV4_ADDRESS|VGPU|VGPU_DISPLAY_HEAD|NET_BW_EGR_KILOBIT_PER_SEC|" \
      r"NET_BW_IGR_KILOBIT_PER_SEC|PCI_DEVICE|MEM_ENCRYPTION_CONTEXT|FPGA|PGPU|" \
      r"NET_PACKET_RATE_KILOPACKET_PER_SEC|CUSTOM_[A-Z0-9_]+)"
_GROUP = r"([a-zA-Z0-9_-]{1,64})?"

# Namespaces whose keys must be known (as regexes over the part before the first ':').
NAMESPACES = ("hw", "hw_rng", "hw_video", "os", "quota", r"resources\S*", r"trait\S*",
              "aggregate_instance_extra_specs", "capabilities", "pci_passthrough", "accel")


@dataclasses.dataclass(frozen=True)
class Spec:
    name: str  # a regex matched against the whole key
    kind: str  # "bool", "int", "enum", "str"
    choices: tuple = ()
    minimum: Optional[int] = None
    pattern: Optional[str] = None


def _enum(name: str, *choices: str) -> Spec:
    return Spec(name, "enum", choices)


def _int(name: str, minimum: Optional[int] = 0) -> Spec:
    return Spec(name, "int", minimum=minimum)


def _bool(name: str) -> Spec:
    return Spec(name, "bool")


def _str(name: str, pattern: Optional[str] = None) -> Spec:
    return Spec(name, "str", pattern=pattern)


SPECS: tuple[Spec, ...] = (
    _enum("hw:cpu_policy", "dedicated", "shared", "mixed"),
    _enum("hw:cpu_thread_policy", "prefer", "isolate", "require"),
    _enum("hw:emulator_threads_policy", "share", "isolate"),
    _int("hw:cpu_sockets", 1), _int("hw:cpu_cores", 1), _int("hw:cpu_threads", 1),
    _int("hw:max_cpu_sockets", 1), _int("hw:max_cpu_cores", 1),
    _int("hw:max_cpu_threads", 1),
    _bool("hw:cpu_realtime"), _str("hw:cpu_realtime_mask", r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"),
    _str("hw:cpu_dedicated_mask", r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"),
    _str("hw:mem_page_size", r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)"),
    _int("hw:numa_nodes", 1), _str(r"hw:numa_cpus\.\d+", r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"),
    _int(r"hw:numa_mem\.\d+", 0),
    _enum("hw:watchdog_action", "none", "pause", "poweroff", "reset", "disabled"),
    _bool("hw:boot_menu"), _bool("hw:vif_multiqueue_enabled"), _bool("hw:pmu"),
    _bool("hw:hide_hypervisor_id"), _bool("hw:mem_encryption"),
    _bool("hw:virtio_packed_ring"), _bool("hw:locked_memory"),
    _enum("hw:pci_numa_affinity_policy", "required", "legacy", "preferred", "socket"),
    _int("hw:serial_port_count", 0),
    _enum("hw:tpm_version", "1.2", "2.0"), _enum("hw:tpm_model", "tpm-tis", "tpm-crb"),
    _enum("hw:viommu_model", "intel", "smmuv3", "virtio", "auto"),
    _bool("hw_rng:allowed"), _int("hw_rng:rate_bytes"), _int("hw_rng:rate_period"),
    _int("hw_video:ram_max_mb"),
    _enum("os:secure_boot", "required", "disabled"),
    _int("quota:cpu_shares"), _int("quota:cpu_period"), _int("quota:cpu_quota", None),
    _int(r"quota:disk_(read|write|total)_(bytes|iops)_sec"),
    _int(r"quota:vif_(inbound|outbound)_(average|peak|burst)"),
    _int(f"resources{_GROUP}:{_RC}"),
    _enum(f"trait{_GROUP}:[A-Z0-9_]+", "required", "forbidden"),
    _str(r"aggregate_instance_extra_specs:.+"),
    _str(r"capabilities:.+"),
    _str("pci_passthrough:alias", r"[^:]+:\d+(,[^:]+:\d+)*"),
    _str("accel:device_profile"),
    _enum("group_policy", "none", "isolate"),
    _bool("hide_hypervisor_id"),
)
_COMPILED = [(re.compile(s.name), s) for s in SPECS]
_NAMESPACES = [re.compile(n) for n in NAMESPACES]


def _fail(text: str) -> exception.ValidationError:
    return exception.ValidationError(detail=f"Validation failed; {text}")


def _check_value(key: str, value: str, spec: Spec) -> None:
    if spec.kind == "bool":
        if value.strip().lower() not in _BOOLS:
            raise _fail(f"extra spec '{key}' must be a boolean; got '{value}'.")
    elif spec.kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise _fail(f"extra spec '{key}' must be an integer; got '{value}'.") from None
        if spec.minimum is not None and number < spec.minimum:
            raise _fail(f"extra spec '{key}' must be greater than or equal to "
                        f"{spec.minimum}; got '{value}'.")
    elif spec.kind == "enum":
        if value not in spec.choices:
            raise _fail(f"extra spec '{key}' must be one of: {', '.join(spec.choices)}; "
                        f"got '{value}'.")
    elif spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        raise _fail(f"extra spec '{key}' does not match the pattern '{spec.pattern}'; "
                    f"got '{value}'.")


def validate(key: str, value: str) -> None:
    """Raise ValidationError (400) for a bad key or value in a known namespace."""
    for rx, spec in _COMPILED:
        if rx.fullmatch(key):
            _check_value(key, value, spec)
            return
    if ":" not in key:
        return
    namespace = key.split(":", 1)[0]
    if any(rx.fullmatch(namespace) for rx in _NAMESPACES):
        raise _fail(f"extra spec '{key}' does not appear to be a valid extra spec.")
