"""GET /os-hypervisors[/detail|/{id}]: compute nodes as Nova shows them.

Ids are integers below 2.53 and compute node uuids from then on; the resource
counters disappear at 2.88 (they were misleading: placement owns usage).
"""

from __future__ import annotations

import json
import uuid as uuidlib
from typing import Any, Optional

from nova_lite import exception, policy, rpc
from nova_lite.api import common, validation, wsgi
from nova_lite.objects.instance import instance_name

RULE = "os_compute_api:os-hypervisors:%s"
_QUERY_PARAMS = frozenset(("limit", "marker", "hypervisor_hostname_pattern", "with_servers"))


class _Context:
    """Per-request lookups shared by every node rendered: services by host, servers."""

    def __init__(self, req: wsgi.ApiRequest, with_servers: bool,
                 services: bool = True) -> None:
        self.req = req
        self.services = {s.host: s for s in req.conductor.service_list(
            req.ctx, binary="nova-compute")} if services else {}
        self.servers: Optional[dict] = None
        if with_servers:
            self.servers = {}
            for row in req.conductor.server_list_rows(req.ctx, None, {}, None, None,
                                                      detail=False):
                if row.get("node") and "vm_state" in row:
                    self.servers.setdefault((row["host"], row["node"]), []).append(
                        {"name": instance_name(row["id"], row["uuid"]),
                         "uuid": row["uuid"]})


def _id(req: wsgi.ApiRequest, node: Any) -> Any:
    return node.uuid if req.ver >= (2, 53) else node.id


def _basic(lk: _Context, node: Any) -> dict:
    out = {"id": _id(lk.req, node), "hypervisor_hostname": node.hypervisor_hostname,
           "state": "up" if node.service_up else "down",
           "status": "disabled" if node.service_disabled else "enabled"}
    if lk.servers is not None:
        servers = lk.servers.get((node.host, node.hypervisor_hostname), [])
        if servers or lk.req.ver >= (2, 75):
            out["servers"] = servers
    return out


def _detail(lk: _Context, node: Any) -> dict:
    req = lk.req
    out = _basic(lk, node)
    svc = lk.services.get(node.service_host or node.host)
    svc_id: Any = node.service_id
    if req.ver >= (2, 53):
        svc_id = svc.uuid if svc is not None else None
    out.update({
        "host_ip": node.host_ip,
        "hypervisor_type": node.hypervisor_type,
        "hypervisor_version": node.hypervisor_version,
        "service": {"host": node.service_host or node.host, "id": svc_id,
                    "disabled_reason": svc.disabled_reason if svc is not None else None},
    })
    if req.ver >= (2, 88):
        out["uptime"] = None
        return out
    cpu_info: Any = node.cpu_info
    if req.ver >= (2, 28):
        try:
            cpu_info = json.loads(node.cpu_info) if node.cpu_info else {}
        except ValueError:
            cpu_info = {}
    free_disk = node.local_gb - node.local_gb_used
    out.update({
        "cpu_info": cpu_info,
        "current_workload": 0,
        "disk_available_least": free_disk,
        "free_disk_gb": free_disk,
        "free_ram_mb": node.memory_mb - node.memory_mb_used,
        "local_gb": node.local_gb,
        "local_gb_used": node.local_gb_used,
        "memory_mb": node.memory_mb,
        "memory_mb_used": node.memory_mb_used,
        "running_vms": node.running_vms,
        "vcpus": node.vcpus,
        "vcpus_used": node.vcpus_used,
    })
    return out


def _with_servers(req: wsgi.ApiRequest) -> bool:
    if req.ver < (2, 53) or "with_servers" not in req.params:
        return False
    return validation.parse_bool("with_servers", req.params["with_servers"])


def _list(req: wsgi.ApiRequest, detail: bool) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % ("list-detail" if detail else "list"))
    params = req.params
    if req.ver >= (2, 53):
        validation.reject_unknown_query_params(params, _QUERY_PARAMS)
    # Plain rows: a thousand nodes as versioned objects cost more than the query.
    nodes = [common.Row(n) for n in req.conductor.compute_node_rows(req.ctx)]
    pattern = params.get("hypervisor_hostname_pattern") if req.ver >= (2, 53) else None
    paged = req.ver >= (2, 33)
    limit = req.conf.api.max_limit
    if pattern is not None:
        if "limit" in params or "marker" in params:
            raise wsgi.bad_request("Paging over hypervisors with "
                                   "hypervisor_hostname_pattern is not supported.")
        nodes = [n for n in nodes if pattern.lower() in n.hypervisor_hostname.lower()]
        if not nodes:
            raise wsgi.not_found(f"No hypervisor matching '{pattern}' could be found.")
    elif paged:
        limit, marker = common.limit_and_marker(req)
        nodes = common.paginate(nodes, limit, marker, key=lambda n: str(_id(req, n)))
    lk = _Context(req, _with_servers(req))
    render = _detail if detail else _basic
    body: dict[str, Any] = {"hypervisors": [render(lk, n) for n in nodes]}
    if paged and pattern is None:
        links = common.next_links(req, "os-hypervisors/detail" if detail else
                                  "os-hypervisors", nodes, limit,
                                  _id(req, nodes[-1]) if nodes else None)
        if links:
            body["hypervisors_links"] = links
    return wsgi.Reply(200, body)


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list(req, detail=False)


def detail(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list(req, detail=True)


def _find(req: wsgi.ApiRequest, id: str) -> Any:
    """The compute node of a path id: a uuid from 2.53 (400 otherwise), an integer
    before (anything else is simply not found, as in Nova)."""
    if req.ver >= (2, 53):
        try:
            id = str(uuidlib.UUID(id))
        except ValueError:
            raise wsgi.bad_request(f"Invalid uuid {id}") from None
    for node in req.conductor.compute_node_list(req.ctx):
        if str(_id(req, node)) == id:
            return node
    raise exception.HypervisorNotFound(
        message=f"Hypervisor with ID '{id}' could not be found.")


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "show")
    node = _find(req, id)
    out = _detail(_Context(req, _with_servers(req)), node)
    if req.ver >= (2, 88):
        out["uptime"] = _uptime_or_none(req, node)
    return wsgi.Reply(200, {"hypervisor": out})


def _uptime_or_none(req: wsgi.ApiRequest, node: Any) -> Optional[str]:
    """2.88 shows the uptime in the hypervisor itself; a host that cannot tell (down,
    or a driver without it) shows null rather than failing the whole show."""
    try:
        return req.conductor.host_uptime(req.ctx, node.host)
    except (exception.ComputeServiceUnavailable, exception.ComputeHostNotFound,
            exception.NotImplementedByDriver, rpc.MessagingTimeout):
        return None


def uptime(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    """GET /os-hypervisors/{id}/uptime (gone at 2.88, when show carries it): 400 when
    the host's compute service is down, 501 when its driver cannot tell."""
    if req.ver >= (2, 88):
        raise wsgi.not_found()
    policy.authorize(req.ctx, RULE % "uptime")
    node = _find(req, id)
    line = req.conductor.host_uptime(req.ctx, node.host)
    out = _basic(_Context(req, False, services=False), node)
    out["uptime"] = line
    return wsgi.Reply(200, {"hypervisor": out})


def _matching(req: wsgi.ApiRequest, pattern: str) -> list:
    nodes = [n for n in req.conductor.compute_node_list(req.ctx)
             if pattern.lower() in n.hypervisor_hostname.lower()]
    if not nodes:
        raise wsgi.not_found(f"No hypervisor matching '{pattern}' could be found.")
    return nodes


def search(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    """GET /os-hypervisors/{pattern}/search (before 2.53, when it became the
    hypervisor_hostname_pattern query)."""
    if req.ver >= (2, 53):
        raise wsgi.not_found()
    policy.authorize(req.ctx, RULE % "search")
    lk = _Context(req, False, services=False)
    return wsgi.Reply(200, {"hypervisors": [_basic(lk, n) for n in _matching(req, id)]})


def servers(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    """GET /os-hypervisors/{pattern}/servers (before 2.53, when it became the
    with_servers query): the servers of each matching host, listed when there are any."""
    if req.ver >= (2, 53):
        raise wsgi.not_found()
    policy.authorize(req.ctx, RULE % "servers")
    nodes = _matching(req, id)
    lk = _Context(req, True, services=False)
    return wsgi.Reply(200, {"hypervisors": [_basic(lk, n) for n in nodes]})


def statistics(req: wsgi.ApiRequest) -> wsgi.Reply:
    """GET /os-hypervisors/statistics: every compute node's resources summed (gone at
    2.88, like the per-node counters)."""
    if req.ver >= (2, 88):
        raise wsgi.not_found()
    policy.authorize(req.ctx, RULE % "statistics")
    stats = dict.fromkeys(("count", "vcpus", "memory_mb", "local_gb", "vcpus_used",
                           "memory_mb_used", "local_gb_used", "free_ram_mb", "free_disk_gb",
                           "current_workload", "running_vms", "disk_available_least"), 0)
    for node in req.conductor.compute_node_list(req.ctx):
        stats["count"] += 1
        for key in ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
                    "local_gb_used", "running_vms"):
            stats[key] += getattr(node, key)
        stats["free_ram_mb"] += node.memory_mb - node.memory_mb_used
        stats["free_disk_gb"] += node.local_gb - node.local_gb_used
        stats["disk_available_least"] += node.local_gb - node.local_gb_used
    return wsgi.Reply(200, {"hypervisor_statistics": stats})
