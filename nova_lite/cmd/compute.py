"""nova-lite-compute: one per hypervisor host."""

from __future__ import annotations

from typing import Optional

from nova_lite import service
from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-compute"


def _spacing(seconds: int) -> int:
    """Run a task whose option is a time window at least every minute (0: off)."""
    return min(seconds, 60) if seconds > 0 else 0


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
        service.PeriodicTask("poll_unconfirmed_resizes",
                             _spacing(CONF.resize_confirm_window),
                             mgr.poll_unconfirmed_resizes),
        service.PeriodicTask("reclaim_queued_deletes",
                             _spacing(CONF.reclaim_instance_interval),
                             mgr.reclaim_queued_deletes),
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
