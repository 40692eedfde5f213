"""nova-lite-api: the compute REST API (v2.1 with microversions)."""

from __future__ import annotations

from typing import Optional

from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-lite-api"


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.start_rpc()
    from nova_lite import context
    from nova_lite.api import app, server
    from nova_lite.conductor import rpcapi as conductor_rpcapi

    conductor_rpcapi.ConductorAPI().wait_until_ready(context.get_admin_context())
    server.serve(CONF, app.build_app(CONF))
