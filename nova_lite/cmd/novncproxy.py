"""nova-lite-novncproxy: serves noVNC and proxies its websockets to guests' VNC servers,
checking every console token with the conductor."""

from __future__ import annotations

import os
import sys
from typing import Optional

from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-lite-novncproxy"


def main(argv: Optional[list[str]] = None) -> None:
    common.init(argv, BINARY)
    web = CONF.web
    if not os.path.isfile(os.path.join(web, "vnc_lite.html")):
        sys.exit(f"noVNC is not in [DEFAULT] web = {web} (install Debian's novnc package: "
                 "tools/setup-consoles)")
    from nova_lite.console import websocketproxy

    server = websocketproxy.build_server(CONF.vnc.novncproxy_host, CONF.vnc.novncproxy_port,
                                         web)
    server.start_server()
