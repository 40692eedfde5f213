"""Reaching into a running guest with libvirt (a LibvirtDriver mixin): the NMI of
trigger_crash_dump, the administrator password, and diagnostics from libvirt's stats.

Guests get no QEMU guest agent channel, so a password cannot be set: that is reported
as GuestAgentNotEnabled (the API answers 409, as Nova does without an agent).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any, Optional

from nova_lite.virt import driver
from nova_lite.virt.driver import DriverError, InstanceSpec

QEMU_PID_DIR = "/run/libvirt/qemu"


def _process_uptime(pid_file: str) -> int:
    """Seconds since the guest's QEMU process started (0 when unknown)."""
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            host_uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, int(host_uptime - start_ticks / os.sysconf("SC_CLK_TCK")))


class GuestAccessMixin:
    _lv: Any
    virt_type: str

    def trigger_crash_dump(self, instance: InstanceSpec) -> None:
        lv = self._lv
        with self._errors(f"injecting an NMI into {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            if not dom.isActive():
                raise DriverError(f"guest {instance.name} is not running")
            try:
                dom.injectNMI(0)
            except lv.libvirtError as err:
                if err.get_error_code() == lv.VIR_ERR_NO_SUPPORT:
                    raise driver.NotSupported(
                        f"the hypervisor cannot inject an NMI: {err.get_error_message()}"
                    ) from err
                raise

    def set_admin_password(self, instance: InstanceSpec, password: str) -> None:
        raise driver.GuestAgentNotEnabled(
            f"guest {instance.name} has no QEMU guest agent to set its password")

    def get_diagnostics(self, instance: InstanceSpec) -> dict:
        with self._errors(f"reading diagnostics of {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            power = self._state(dom)  # type: ignore[attr-defined]
            _state, max_kib, _cur_kib, ncpus, _cpu_ns = dom.info()
            active = bool(dom.isActive())
            root = ET.fromstring(dom.XMLDesc(0))
            disks = [t.get("dev") for t in root.findall("./devices/disk/target")]
            nics = root.findall("./devices/interface")
            cpu_details, disk_details, nic_details = [], [], []
            used_mib = 0
            if active:
                for num, _vstate, cpu_ns, _pcpu in dom.vcpus()[0]:
                    cpu_details.append({"id": num, "time": cpu_ns, "utilisation": None})
                for dev in disks:
                    rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats(dev)
                    disk_details.append({"read_bytes": rd_bytes, "read_requests": rd_req,
                                         "write_bytes": wr_bytes, "write_requests": wr_req,
                                         "errors_count": errs})
                for nic in nics:
                    nic_details.append(self._nic_stats(dom, nic))
                used_mib = int(dom.memoryStats().get("rss", 0)) // 1024
            uptime = _process_uptime(os.path.join(QEMU_PID_DIR, f"{dom.name()}.pid")) \
                if active else 0
        return {
            "state": driver.POWER_STATE_NAMES.get(power, "pending"), "driver": "libvirt",
            "hypervisor": self.virt_type, "hypervisor_os": "linux", "uptime": uptime,
            "config_drive": False, "num_cpus": ncpus, "num_disks": len(disks),
            "num_nics": len(nics), "cpu_details": cpu_details, "disk_details": disk_details,
            "nic_details": nic_details,
            "memory_details": {"maximum": max_kib // 1024, "used": used_mib},
        }

    def _nic_stats(self, dom: Any, nic: ET.Element) -> dict:
        mac = nic.find("mac")
        target = nic.find("target")
        out: dict[str, Optional[Any]] = {
            "mac_address": mac.get("address") if mac is not None else None,
            "rx_octets": None, "rx_errors": None, "rx_drop": None, "rx_packets": None,
            "rx_rate": None, "tx_octets": None, "tx_errors": None, "tx_drop": None,
            "tx_packets": None, "tx_rate": None}
        if target is not None and target.get("dev"):
            try:
                (rx_b, rx_p, rx_e, rx_d, tx_b, tx_p, tx_e, tx_d) = \
                    dom.interfaceStats(target.get("dev"))
            except self._lv.libvirtError:
                return out
            out.update(rx_octets=rx_b, rx_packets=rx_p, rx_errors=rx_e, rx_drop=rx_d,
                       tx_octets=tx_b, tx_packets=tx_p, tx_errors=tx_e, tx_drop=tx_d)
        return out
