"""nova-lite-compute: one per hypervisor host."""

from __future__ import annotations

from typing import Optional

from nova_lite import service
from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-compute"


def build_service(host: Optional[str] = None) -> service.Service:
    from nova_lite.compute import manager
    from nova_lite.conductor import rpcapi as conductor_rpcapi

    host = host or CONF.host
    conductor = conductor_rpcapi.ConductorAPI()
    mgr = manager.ComputeManager(host, conductor)
    tasks = [
        service.PeriodicTask("update_available_resource", CONF.compute.update_resources_interval,
                             mgr.update_available_resource),
        service.PeriodicTask("sync_power_states", CONF.compute.sync_power_state_interval,
                             mgr.sync_power_states),
        service.PeriodicTask("image_cache", CONF.compute.image_cache_manager_interval,
                             mgr.cleanup_images),
        service.PeriodicTask("poll_shelved_instances", CONF.shelved_poll_interval,
                             mgr.poll_shelved_instances),
    ]
    return service.Service(BINARY, "compute", mgr, host=host,
                           heartbeat=conductor.service_heartbeat,
                           wait_for_conductor=conductor.wait_until_ready, periodic_tasks=tasks)


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.start_rpc()
    svc = build_service()
    svc.start()
    service.run_until_signalled([svc])
