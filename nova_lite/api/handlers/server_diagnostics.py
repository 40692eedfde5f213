"""GET /servers/{id}/diagnostics: the hypervisor's usage data of one server (admins).

From 2.48 the answer has Nova's standard fields whatever the driver; before, it is the
driver's flat dictionary (cpu0_time, memory, vda_read, ...), derived here from the same
data.
"""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import wsgi
from nova_lite.api.handlers.servers import get_server

RULE = "os_compute_api:os-server-diagnostics"


def _legacy(diag: dict) -> dict:
    out: dict = {}
    for cpu in diag.get("cpu_details") or []:
        out[f"cpu{cpu['id']}_time"] = cpu.get("time")
    memory = diag.get("memory_details") or {}
    out["memory"] = int(memory.get("maximum") or 0) * 1024  # KiB, as libvirt gives it
    for n, disk in enumerate(diag.get("disk_details") or []):
        dev = "vd" + chr(ord("a") + n)
        out[f"{dev}_read"] = disk.get("read_bytes")
        out[f"{dev}_read_req"] = disk.get("read_requests")
        out[f"{dev}_write"] = disk.get("write_bytes")
        out[f"{dev}_write_req"] = disk.get("write_requests")
        out[f"{dev}_errors"] = disk.get("errors_count")
    for n, nic in enumerate(diag.get("nic_details") or []):
        for key in ("rx_octets", "rx_errors", "rx_drop", "rx_packets", "tx_octets",
                    "tx_errors", "tx_drop", "tx_packets"):
            out[f"tap{n}_{key.replace('_octets', '')}"] = nic.get(key)
    return out


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE, {"project_id": inst.project_id})
    diag = req.conductor.server_diagnostics(req.ctx, server_id)
    return wsgi.Reply(200, diag if req.ver >= (2, 48) else _legacy(diag))
