"""nova-lite-api: the compute REST API (v2.1 with microversions), in [api] workers
pre-forked processes."""

from __future__ import annotations

import os
from typing import Optional

from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-lite-api"


def _run(workers: int) -> None:
    """One API process: its own message bus connection, then the HTTP server."""
    common.start_rpc()
    from nova_lite import context
    from nova_lite.api import app, server
    from nova_lite.conductor import rpcapi as conductor_rpcapi

    conductor_rpcapi.ConductorAPI().wait_until_ready(context.get_admin_context())
    server.serve(CONF, app.build_app(CONF), reuse_port=workers > 1)


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    workers = CONF.api.workers or os.cpu_count() or 1
    common.run_workers(workers, lambda _slot: _run(workers))
