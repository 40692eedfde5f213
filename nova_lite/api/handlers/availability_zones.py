"""/os-availability-zone: the zones servers can be created in (everyone) and, in
/detail, which hosts and services each holds (admins)."""

from __future__ import annotations

from typing import Any

from nova_lite import policy
from nova_lite.api import common, wsgi

RULE = "os_compute_api:os-availability-zone:%s"
COMPUTE = "nova-compute"
LISTED_BINARIES = (COMPUTE, "nova-scheduler", "nova-conductor")


def service_zone(req: wsgi.ApiRequest, service: Any, host_zones: dict) -> str:
    conf = req.conf
    if service.binary != COMPUTE:
        return conf.internal_service_availability_zone
    return host_zones.get(service.host, conf.default_availability_zone)


def zones(req: wsgi.ApiRequest) -> tuple[dict[str, bool], list, dict]:
    """(zone -> available, services, host -> zone): a zone of compute hosts is available
    when one of its compute services is enabled."""
    services = req.conductor.service_list(req.ctx)
    host_zones = req.conductor.host_availability_zones(req.ctx)
    out: dict[str, bool] = {}
    for svc in services:
        if svc.binary == COMPUTE:
            zone = service_zone(req, svc, host_zones)
            out[zone] = out.get(zone, False) or not svc.disabled
    return out, services, host_zones


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "list")
    found, _services, _hosts = zones(req)
    ordered = sorted(found.items(), key=lambda z: (not z[1], z[0]))
    return wsgi.Reply(200, {"availabilityZoneInfo": [
        {"zoneName": name, "zoneState": {"available": available}, "hosts": None}
        for name, available in ordered]})


def detail(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "detail")
    found, services, host_zones = zones(req)
    internal = req.conf.internal_service_availability_zone
    hosts: dict[str, dict[str, dict]] = {}
    for svc in services:
        if svc.binary not in LISTED_BINARIES:
            continue
        zone = service_zone(req, svc, host_zones)
        hosts.setdefault(zone, {}).setdefault(svc.host, {})[svc.binary] = {
            "available": bool(svc.is_up and not svc.disabled), "active": not svc.disabled,
            "updated_at": common.strtime(svc.last_seen_up or svc.updated_at)}
    if internal in hosts:
        found[internal] = True
    ordered = sorted(found.items(), key=lambda z: (not z[1], z[0]))
    return wsgi.Reply(200, {"availabilityZoneInfo": [
        {"zoneName": name, "zoneState": {"available": available},
         "hosts": hosts.get(name) or None} for name, available in ordered]})
