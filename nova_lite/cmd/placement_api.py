"""nova-lite-placement-api: the Placement API on [placement_api] listen:listen_port
(it holds no database credentials; the conductor reads and writes for it)."""

from __future__ import annotations

from typing import Optional

from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-lite-placement-api"


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.start_rpc()
    from nova_lite import context
    from nova_lite.api import server
    from nova_lite.conductor import rpcapi as conductor_rpcapi
    from nova_lite.placement import app

    conductor_rpcapi.ConductorAPI().wait_until_ready(context.get_admin_context())
    server.serve(CONF, app.build_app(CONF),
                 bind=(CONF.placement_api.listen, CONF.placement_api.listen_port,
                       CONF.placement_api.workers), what="Placement API")
