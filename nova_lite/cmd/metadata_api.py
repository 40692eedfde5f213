"""nova-lite-metadata-api: the metadata service guests reach through Neutron's
metadata proxy (it holds no database credentials; data comes from the conductor)."""

from __future__ import annotations

from typing import Optional

from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-lite-metadata-api"


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    common.start_rpc()
    from nova_lite import context
    from nova_lite.api import server
    from nova_lite.api.metadata import handler
    from nova_lite.conductor import rpcapi as conductor_rpcapi

    conductor = conductor_rpcapi.ConductorAPI()
    conductor.wait_until_ready(context.get_admin_context())
    app = handler.MetadataApp(CONF, conductor)
    server.serve(CONF, app, bind=(CONF.metadata_listen, CONF.metadata_listen_port,
                                  CONF.metadata_workers), what="Metadata API")
