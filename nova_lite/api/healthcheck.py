"""GET /healthcheck on the API's root: oslo.middleware's healthcheck, no token needed.

Its default backend (``nova_lite_conductor``) is a round trip to a conductor that does not
wait for the message bus, so a load balancer sees 503 when the API cannot do its work.
Everyone gets the plain answer (``OK`` / the reasons); a caller whose token is an admin's
gets oslo.middleware's detailed one (per check: message bus and conductor reachability
and latency, plus the process's threads).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Optional

import oslo_messaging as messaging
from oslo_middleware import healthcheck as oslo_healthcheck
from oslo_middleware.healthcheck import pluginbase

from nova_lite import context as nl_context
from nova_lite import rpc

PATH = "/healthcheck"
BACKEND = "nova_lite_conductor"
PING_TIMEOUT = 2.0
_CONTEXT_KEY = "nova_lite.context"


class ConductorCheck(pluginbase.HealthcheckBaseExtension):
    """Message bus and conductor reachability, told apart: a send that fails at once is
    the bus; a send that gets no answer is the conductor."""

    def healthcheck(self, server_port: int) -> pluginbase.HealthcheckResult:
        conductor = self.conf.get("conductor")
        if conductor is None:
            return pluginbase.HealthcheckResult(True, "OK", "no conductor client here")
        start = time.monotonic()
        try:
            conductor.ping(nl_context.get_admin_context(), timeout=PING_TIMEOUT)
        except rpc.BUS_UNREACHABLE as err:
            return pluginbase.HealthcheckResult(False, "message bus unreachable", str(err))
        except messaging.MessagingTimeout:
            return pluginbase.HealthcheckResult(
                False, "nova-lite-conductor did not answer",
                f"message bus reachable; no conductor answered within {PING_TIMEOUT} s")
        ms = (time.monotonic() - start) * 1000
        return pluginbase.HealthcheckResult(
            True, "OK", f"message bus reachable; conductor answered in {ms:.1f} ms")


class _Detailed(oslo_healthcheck.Healthcheck):
    def __init__(self, application: Any, conf: Any) -> None:
        super().__init__(application, conf)
        self._show_details = True


class HealthcheckRouter:
    """Answers /healthcheck before authentication; everything else goes to ``app``."""

    def __init__(self, app: Callable, conductor_api: Any,
                 whoami: Optional[Callable] = None) -> None:
        self.app = app
        conf = {"conductor": conductor_api}
        self.plain = oslo_healthcheck.Healthcheck(None, conf)
        self.detailed = _Detailed(None, conf)
        self.whoami = whoami  # the auth middleware around an app that records the context

    def _is_admin(self, environ: dict) -> bool:
        if self.whoami is None or not environ.get("HTTP_X_AUTH_TOKEN"):
            return False
        probe = {k: v for k, v in environ.items() if not k.startswith("wsgi.input")}
        probe.update({"REQUEST_METHOD": "GET", "CONTENT_LENGTH": "0"})
        body = self.whoami(probe, lambda *_a, **_k: None)
        for _chunk in body:
            pass
        ctx = probe.get(_CONTEXT_KEY)
        return bool(ctx is not None and ctx.is_admin)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != PATH:
            return self.app(environ, start_response)
        target = self.detailed if self._is_admin(environ) else self.plain
        return target(environ, start_response)


def whoami_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """The innermost app of the admin check: the auth middleware put the context in."""
    start_response("204 No Content", [])
    return [b""]
