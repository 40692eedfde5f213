"""Serving the API over HTTP with cheroot's threaded WSGI server (no eventlet).

``serve`` runs until SIGTERM/SIGINT and then stops accepting, finishing in-flight
requests (for up to [DEFAULT] graceful_shutdown_timeout) before it returns, so the
process does not exit under a request; ``make_server`` starts one on a free loopback
port for tests.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Callable, Optional

from cheroot import wsgi as cheroot_wsgi

from nova_lite import systemd

LOG = logging.getLogger(__name__)


def _server(host: str, port: int, app: Callable, threads: int,
            name: str = "nova-lite-api", reuse_port: bool = False) -> cheroot_wsgi.Server:
    server = cheroot_wsgi.Server((host, port), app, numthreads=threads,
                                 server_name=name, request_queue_size=256,
                                 reuse_port=reuse_port)
    # cheroot's default 10 s idle timeout is fine; keep-alive lets clients reuse sockets.
    return server


def serve(conf: Any, app: Callable, install_signal_handlers: bool = True,
          bind: Optional[tuple[str, int, int]] = None, what: str = "Compute API",
          reuse_port: bool = False, listening: Optional[threading.Event] = None) -> None:
    """Serve app on [DEFAULT] osapi_compute_listen:osapi_compute_listen_port (or
    ``bind``: host, port, threads) until a SIGTERM or SIGINT (only the main thread can
    install those handlers). ``reuse_port``: several processes serve the same port.
    ``listening`` is set once the socket is bound (a caller that tells systemd it is
    ready waits for it)."""
    host, port, threads = bind or (conf.osapi_compute_listen,
                                   conf.osapi_compute_listen_port,
                                   conf.osapi_compute_workers)
    server = _server(host, port, app, threads, reuse_port=reuse_port)
    server.shutdown_timeout = getattr(conf, "graceful_shutdown_timeout", 60)
    stopping = threading.Event()
    stopper = threading.Thread(target=server.stop, daemon=True, name="api-stop")

    def _stop(signum: int, _frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            LOG.info("Signal %d received: stopping the API server; in-flight requests "
                     "finish first", signum)
            systemd.stopping()
            stopper.start()

    if install_signal_handlers:
        from nova_lite import service

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGHUP, service.reload_config)
    server.prepare()
    LOG.info("%s listening on %s:%s with %d threads", what, *server.bind_addr[:2],
             threads)
    if listening is not None:
        listening.set()
    if install_signal_handlers:
        systemd.ready(f"{what} on {server.bind_addr[0]}:{server.bind_addr[1]}")
    try:
        server.serve()
    finally:
        if not stopping.is_set():
            server.stop()
        else:  # serve() returns as soon as it stops accepting: wait for the drain
            stopper.join()
            LOG.info("API server stopped")


class RunningServer:
    """A started server on a background thread; ``url`` is its http://host:port."""

    def __init__(self, server: cheroot_wsgi.Server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve, daemon=True,
                                       name="nova-lite-api")
        self.thread.start()
        host, port = server.bind_addr[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=10)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def make_server(app: Callable, host: str = "127.0.0.1", port: int = 0, threads: int = 4
                ) -> RunningServer:
    """Start app on host:port (0 = a free port) and return once it accepts connections."""
    server = _server(host, port, app, threads)
    server.prepare()
    return RunningServer(server)
