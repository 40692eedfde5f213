"""nova-lite-api: the compute REST API (v2.1 with microversions)."""

from __future__ import annotations

from typing import Optional

from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-lite-api"


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.start_rpc()
    from nova_lite.api import app, server

    server.serve(CONF, app.build_app(CONF))
