"""oslo.messaging plumbing shared by every service.

Messages carry the RequestContext and versioned objects; servers use the threading
executor (never eventlet); exceptions from nova_lite.exception cross the wire as
themselves, so an RPC caller can catch e.g. NoValidHost.
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import Any, Optional

import oslo_messaging as messaging
from kombu import exceptions as kombu_exc
from oslo_config import cfg
from oslo_messaging._drivers import amqpdriver

from nova_lite import context as nl_context
from nova_lite.objects import base as obj_base

LOG = logging.getLogger(__name__)

ALLOWED_EXMODS = ["nova_lite.exception"]

_lock = threading.Lock()
_transport: Optional[messaging.Transport] = None
_conf: Optional[cfg.ConfigOpts] = None
# Transports to other cells' message buses (the super conductor's casts to their hosts).
_cell_transports: dict[str, messaging.Transport] = {}
_notification_transport = None

# oslo.messaging's rabbit consumers (an RPC server's listener, a caller's reply waiter)
# wait 1 ms for the next message after each one, doubling the wait at each empty wake-up
# up to 5 s: on a service answering a call every few milliseconds, each consumer thread
# wakes several times per message for nothing, and each wake-up is a pass through kombu's
# retry wrappers that takes the GIL from the threads serving requests. A message wakes
# its consumer the moment it arrives whatever the wait; an empty wake-up only runs the
# acks of notifications (none are consumed here) and checks for a stop (which waits up to
# 5 s anyway). So the first wait is this many seconds instead.
IDLE_WAIT_FIRST = 0.1


class RequestContextSerializer(messaging.Serializer):
    """Serializes contexts as dicts and objects as versioned primitives."""

    def __init__(self) -> None:
        self._base = obj_base.NovaLiteObjectSerializer()

    def serialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._base.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._base.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt: nl_context.RequestContext) -> dict:
        return ctxt.to_dict()

    def deserialize_context(self, values: dict) -> nl_context.RequestContext:
        ctx = nl_context.RequestContext.from_dict(values)
        ctx.update_store()
        return ctx


def init(conf: cfg.ConfigOpts) -> None:
    """Create the process's transport from [DEFAULT] transport_url."""
    global _transport, _conf
    _wait_longer_when_idle()
    with _lock:
        _conf = conf
        if _transport is None:
            _transport = messaging.get_rpc_transport(
                conf, url=conf.transport_url, allowed_remote_exmods=ALLOWED_EXMODS)


def _wait_longer_when_idle() -> None:
    """See IDLE_WAIT_FIRST (a module constant of the driver, read at each wait)."""
    if hasattr(amqpdriver, "ACK_REQUEUE_EVERY_SECONDS_MIN"):
        amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN = max(
            amqpdriver.ACK_REQUEUE_EVERY_SECONDS_MIN, IDLE_WAIT_FIRST)


def cleanup() -> None:
    global _transport
    with _lock:
        if _transport is not None:
            _transport.cleanup()
            _transport = None
        for transport in _cell_transports.values():
            transport.cleanup()
        _cell_transports.clear()


def get_transport() -> messaging.Transport:
    if _transport is None:
        raise RuntimeError("nova_lite.rpc.init() was not called")
    return _transport


def get_transport_for(url: Optional[str]) -> messaging.Transport:
    """The transport to ``url`` (a cell mapping's transport_url): this process's own
    when it is None or [DEFAULT] transport_url, else one more, made once and kept."""
    own = get_transport()
    if not url or _conf is None or url == _conf.transport_url:
        return own
    with _lock:
        transport = _cell_transports.get(url)
        if transport is None:
            transport = _cell_transports[url] = messaging.get_rpc_transport(
                _conf, url=url, allowed_remote_exmods=ALLOWED_EXMODS)
        return transport


def get_client(topic: str, version: str, version_cap: Optional[str] = None,
               timeout: Optional[int] = None, server: Optional[str] = None,
               transport: Optional[messaging.Transport] = None) -> Any:
    target = messaging.Target(topic=topic, version=version, server=server)
    return messaging.get_rpc_client(
        transport or get_transport(), target, version_cap=version_cap, timeout=timeout,
        serializer=RequestContextSerializer())


def get_server(topic: str, server: str, endpoints: list) -> Any:
    """A threaded RPC server listening on ``topic`` and ``topic.server`` (oslo.messaging's
    executor is native threads whenever eventlet has not patched them, as here)."""
    target = messaging.Target(topic=topic, server=server)
    return messaging.get_rpc_server(
        get_transport(), target, [_UserErrorsExpected(e) for e in endpoints],
        serializer=RequestContextSerializer(), access_policy=messaging.DefaultRPCAccessPolicy)


class _UserErrorsExpected:
    """Endpoint proxy: exceptions that answer a caller's request (4xx, NoValidHost) go
    back to the caller without an ERROR traceback in this service's log; anything else
    is still logged as the bug it is. Only the RPC server sees the proxy, so code that
    calls a manager directly gets its exceptions unchanged."""

    def __init__(self, endpoint: Any) -> None:
        self._endpoint = endpoint
        # The version the manager serves (its ``target_version``): a client that sends a
        # newer minor version is refused instead of calling a method that is not there.
        # A second endpoint of the same service answers its own ``target_namespace``.
        version = getattr(endpoint, "target_version", None)
        if isinstance(version, str):
            self.target = messaging.Target(
                version=version, namespace=getattr(endpoint, "target_namespace", None))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._endpoint, name)
        if name.startswith("_") or not inspect.isroutine(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], nl_context.RequestContext):
                # Log lines written while serving this call name the server it is about.
                args[0].resource_uuid = _instance_uuid(kwargs)
            LOG.debug("serving %s", name)
            try:
                return attr(*args, **kwargs)
            except Exception as err:
                if _expected(err):
                    raise messaging.ExpectedException() from err
                raise

        return call


def _instance_uuid(kwargs: dict) -> Optional[str]:
    inst = kwargs.get("instance")
    if inst is not None and isinstance(getattr(inst, "uuid", None), str):
        return inst.uuid
    for key in ("instance_uuid", "uuid"):
        if isinstance(kwargs.get(key), str):
            return kwargs[key]
    return None


def _expected(err: BaseException) -> bool:
    """Answers to the caller, not bugs of this service: user errors, no valid host, and
    a dependency that is down (logged as one line where it is detected)."""
    from nova_lite import exception

    return isinstance(err, (exception.NoValidHost, exception.ServiceUnavailable)) or (
        isinstance(err, exception.NovaLiteException) and 400 <= err.code < 500)


MessagingTimeout = messaging.MessagingTimeout
# A message that could not be sent because the bus is unreachable: oslo.messaging's own
# error, or (with a bounded ``retry``) the AMQP client's connection error unwrapped.
BUS_UNREACHABLE: tuple = (messaging.MessageDeliveryFailure, kombu_exc.OperationalError,
                          ConnectionError)
