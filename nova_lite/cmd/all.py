"""nova-lite-all: the whole control plane in one process, with embedded defaults.

Without a configuration file it needs nothing but Python: SQLite databases under
state_path, the in-process message bus (fake://), noauth2 and the fake driver. Every
option can still be set in nova.conf (e.g. RabbitMQ, MariaDB or the libvirt driver).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Optional

from nova_lite import service
from nova_lite.cmd import common
from nova_lite.conf import CONF

BINARY = "nova-lite-all"
LOG = logging.getLogger(__name__)


def _set_embedded_defaults() -> None:
    state = os.path.abspath(os.path.expanduser(os.environ.get(
        "NOVA_LITE_STATE_PATH", "~/.local/share/nova-lite")))
    CONF.set_default("state_path", state)
    CONF.set_default("transport_url", "fake:/")
    CONF.set_default("auth_strategy", "noauth2", group="api")
    CONF.set_default("connection", f"sqlite:///{state}/nova_api.sqlite", group="api_database")
    CONF.set_default("connection", f"sqlite:///{state}/nova.sqlite", group="database")
    CONF.set_default("discover_hosts_in_cells_interval", 2, group="scheduler")
    CONF.set_default("osapi_compute_listen", "127.0.0.1")


def auto_setup() -> None:
    """What an operator does with nova-lite-manage, done once and idempotently."""
    from nova_lite.db import bootstrap
    from nova_lite.db import cells as cells_db
    from nova_lite.db import flavors as flavors_db

    api_url, main_url = CONF.api_database.connection, CONF.database.connection
    bootstrap.sync("api", api_url)
    bootstrap.sync("main", main_url)
    cell0_url = bootstrap.cell0_url_from(main_url)
    bootstrap.map_cell0(api_url, cell0_url)
    bootstrap.sync("main", cell0_url)
    if not bootstrap.find_cell(api_url, CONF.transport_url, main_url):
        cells_db.cell_create(api_url, "cell1", CONF.transport_url, main_url)
    flavors_db.ensure_default_flavors(api_url)


def _serving(what: str, wsgi_app: Any, bind: Optional[tuple[str, int, int]] = None
             ) -> tuple[str, threading.Thread, threading.Event]:
    """``wsgi_app`` served on a thread of its own: (what, the thread, set once it
    listens)."""
    from nova_lite.api import server

    listening = threading.Event()
    thread = threading.Thread(target=server.serve, args=(CONF, wsgi_app), daemon=True,
                              kwargs={"install_signal_handlers": False, "what": what,
                                      "bind": bind, "listening": listening},
                              name=what.lower().replace(" ", "-"))
    thread.start()
    return what, thread, listening


def main(argv: Optional[list[str]] = None) -> None:
    _set_embedded_defaults()
    common.init(argv, BINARY)
    from nova_lite.db import engine

    engine.configure(CONF)
    if CONF.embedded.auto_setup:
        auto_setup()
    common.start_rpc()
    from nova_lite.api import app
    from nova_lite.cmd import compute, conductor, scheduler

    services = [conductor.build_service(), scheduler.build_service()]
    for host in CONF.embedded.compute_hosts or [CONF.host]:
        services.append(compute.build_service(host))
    for svc in services:
        svc.start()
    servers = [_serving("Compute API", app.build_app(CONF))]
    if CONF.embedded.placement_api:
        from nova_lite.placement import app as placement_app

        servers.append(_serving("Placement API", placement_app.build_app(CONF),
                                (CONF.placement_api.listen, CONF.placement_api.listen_port,
                                 CONF.placement_api.workers)))
        LOG.info("Placement API on http://%s:%s", CONF.placement_api.listen,
                 CONF.placement_api.listen_port)
    # Ready (for systemd too) only once every API listens.
    for what, thread, listening in servers:
        while not listening.wait(0.2):
            if not thread.is_alive():
                for svc in services:
                    svc.stop()
                raise SystemExit(f"nova-lite-all: the {what} could not start (see the log)")
    LOG.info("nova-lite-all is up: API on http://%s:%s/v2.1", CONF.osapi_compute_listen,
             CONF.osapi_compute_listen_port)
    service.run_until_signalled(services)
