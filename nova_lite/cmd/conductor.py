"""nova-lite-conductor: the one service with database credentials."""

from __future__ import annotations

import os
import threading
from typing import Optional

from nova_lite import service
from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-conductor"


def build_service() -> service.Service:
    from nova_lite.conductor import manager

    mgr = manager.ConductorManager()
    svc = service.Service(BINARY, "conductor", mgr,
                          heartbeat=mgr.service_heartbeat)
    def reconcile() -> None:
        mgr.reconcile_build_requests()
        mgr.reconcile_unshelves()
        mgr.reconcile_moves()

    svc.reconcile = lambda: threading.Thread(  # type: ignore[attr-defined]
        target=reconcile, daemon=True).start()
    return svc


def _run(slot: int) -> None:
    from nova_lite.db import engine

    # Wait here (max_retries x retry_interval) for a database that is still starting.
    engine.get_engine(CONF.api_database.connection, wait=True)
    common.start_rpc()
    svc = build_service()
    svc.start()
    if slot == 0:  # one worker reconciles, or they would re-schedule the same builds
        svc.reconcile()  # type: ignore[attr-defined]
    service.run_until_signalled([svc])


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.require(CONF.api_database.connection, "[api_database] connection")
    common.require(CONF.database.connection, "[database] connection")
    from nova_lite.db import engine

    engine.configure(CONF)
    common.run_workers(CONF.conductor.workers or os.cpu_count() or 1, _run)
