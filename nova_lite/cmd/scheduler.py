"""nova-lite-scheduler: chooses hosts and claims their resources."""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import service
from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-scheduler"
LOG = logging.getLogger(__name__)


def build_service() -> service.Service:
    from nova_lite.conductor import rpcapi as conductor_rpcapi
    from nova_lite.scheduler import manager

    conductor = conductor_rpcapi.ConductorAPI()
    mgr = manager.SchedulerManager(conductor)

    def discover(ctx: Any) -> None:
        for host, cell in conductor.discover_hosts(ctx):
            LOG.info("mapped compute host %s to cell %s", host, cell)

    tasks = [service.PeriodicTask("discover_hosts",
                                  CONF.scheduler.discover_hosts_in_cells_interval, discover,
                                  initial_delay=1)]
    return service.Service(BINARY, "scheduler", mgr, heartbeat=conductor.service_heartbeat,
                           wait_for_conductor=conductor.wait_until_ready,
                           periodic_tasks=tasks)


def _run(slot: int) -> None:
    common.start_rpc()
    svc = build_service()
    svc.start()
    service.run_until_signalled([svc])


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.run_workers(CONF.scheduler.workers, _run)
