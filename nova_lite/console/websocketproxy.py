"""The noVNC console proxy, built on websockify.

A browser loads noVNC from this server (``[DEFAULT] web``) and opens a websocket with
the console token in its URL (``?token=...``, the ``path`` that the console URL hands
to noVNC) or a ``token`` cookie. Before the websocket handshake the token is checked
with the conductor (``console_token_validate``; nova-lite-novncproxy holds no database
credentials) and the Origin header against the proxy's own host and
``[console] allowed_origins``; an unknown or expired token gets an HTTP 403 and no
websocket. Then the bytes flow between the browser and the guest's VNC server on its
compute host.

websockify serves every connection in a forked child process, so the RPC client is
made in the child, on first use.
"""

from __future__ import annotations

import http.cookies
import logging
import socket
import urllib.parse
from typing import Any, Optional

from websockify import websocketproxy

from nova_lite import context as nl_context
from nova_lite import exception, rpc
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)

_conductor: Any = None


def conductor() -> Any:
    """This process's conductor client (a forked child makes its own)."""
    global _conductor
    if _conductor is None:
        from nova_lite.conductor import rpcapi as conductor_rpcapi

        rpc.init(CONF)
        _conductor = conductor_rpcapi.ConductorAPI()
    return _conductor


def token_from(path: str, cookie_header: Optional[str]) -> Optional[str]:
    """The console token of a websocket request: ?token=..., else the token cookie."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    if query.get("token"):
        return query["token"][0]
    if cookie_header:
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(cookie_header)
        except http.cookies.CookieError:
            return None
        if "token" in cookies:
            return cookies["token"].value
    return None


def origin_allowed(origin: Optional[str], host_header: Optional[str],
                   allowed: list[str]) -> bool:
    """Browsers send Origin: the page must come from this proxy or an allowed host."""
    if not origin:
        return True  # not a browser; the token alone decides
    origin_host = urllib.parse.urlsplit(origin).hostname
    if origin_host is None:
        return False
    own = urllib.parse.urlsplit(f"//{host_header or ''}").hostname
    return origin_host == own or origin_host in {a.strip() for a in allowed}


class TokenProxyRequestHandler(websocketproxy.ProxyRequestHandler):
    """Serves noVNC's files; proxies a websocket to the VNC server its token names."""

    def handle_upgrade(self) -> None:
        if not origin_allowed(self.headers.get("Origin"), self.headers.get("Host"),
                              CONF.console.allowed_origins):
            LOG.warning("console websocket from origin %s refused",
                        self.headers.get("Origin"))
            self.send_error(403, "Origin not allowed")
            return
        token = token_from(self.path, self.headers.get("Cookie"))
        if not token:
            self.send_error(403, "No console token")
            return
        ctx = nl_context.get_admin_context()
        try:
            self.connect_info = conductor().console_token_validate(ctx, token)
        except exception.ConsoleTokenInvalid:
            LOG.info("console websocket with an invalid or expired token refused")
            self.send_error(403, "The console token is invalid or has expired")
            return
        except Exception:
            LOG.exception("could not validate a console token")
            self.send_error(503, "Console tokens cannot be checked now")
            return
        super().handle_upgrade()

    def new_websocket_client(self) -> None:
        info = self.connect_info
        host, port = info["host"], int(info["port"])
        LOG.info("console of %s: connecting to %s:%s", info["instance_uuid"], host, port)
        try:
            target = socket.create_connection((host, port), timeout=10)
        except OSError as err:
            LOG.warning("console of %s: cannot reach %s:%s: %s", info["instance_uuid"],
                        host, port, err)
            raise self.CClose(1011, "Failed to connect to the console") from err
        target.settimeout(None)
        target.setsockopt(socket.SOL_TCP, socket.TCP_NODELAY, 1)
        try:
            self.do_proxy(target)
        finally:
            try:
                target.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            target.close()
            LOG.info("console of %s: closed", info["instance_uuid"])


def build_server(host: str, port: int, web: str) -> websocketproxy.WebSocketProxy:
    """The proxy server (start_server() runs it until SIGTERM/SIGINT)."""
    return websocketproxy.WebSocketProxy(
        RequestHandlerClass=TokenProxyRequestHandler, listen_host=host, listen_port=port,
        web=web, file_only=True, verbose=False)
