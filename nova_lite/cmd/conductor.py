"""nova-lite-conductor: the one service with database credentials."""

from __future__ import annotations

import os
from typing import Optional

from nova_lite import service
from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-conductor"


def build_service(reconciles: bool = True) -> service.Service:
    """``reconciles``: this process retries interrupted builds, at once and then every
    half [conductor] build_request_retry_seconds (build requests are leased, so two
    conductors never build one server twice; one doing it is enough)."""
    from nova_lite.conductor import manager

    mgr = manager.ConductorManager()
    tasks = []
    if reconciles:
        started: list[bool] = []

        def reconcile(_ctx: object) -> None:
            try:
                mgr.reconcile_build_requests()
            finally:
                if not started:  # interrupted unshelves and moves: once, at start-up
                    started.append(True)
                    mgr.reconcile_unshelves()
                    mgr.reconcile_moves()

        tasks.append(service.PeriodicTask(
            "reconcile_build_requests", max(5, CONF.conductor.build_request_retry_seconds / 2),
            reconcile, initial_delay=0))
    return service.Service(BINARY, "conductor", mgr, heartbeat=mgr.service_heartbeat,
                           periodic_tasks=tasks)


def _run(slot: int) -> None:
    from nova_lite.db import engine

    # Wait here (max_retries x retry_interval) for a database that is still starting.
    engine.get_engine(CONF.api_database.connection, wait=True)
    common.start_rpc()
    svc = build_service(reconciles=slot == 0 and not _cell_conductor())
    svc.start()
    service.run_until_signalled([svc])


def _cell_conductor() -> bool:
    """A cell conductor (see CellDirectory.serves_one_cell) leaves build retries to the
    super conductor, which alone reaches the scheduler."""
    from nova_lite.conductor.cells import CellDirectory

    cells = CellDirectory(CONF.api_database.connection, CONF.database.connection)
    return cells.serves_one_cell(CONF.transport_url)


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.require(CONF.api_database.connection, "[api_database] connection")
    common.require(CONF.database.connection, "[database] connection")
    from nova_lite.db import engine

    engine.configure(CONF)
    common.run_workers(CONF.conductor.workers or os.cpu_count() or 1, _run)
