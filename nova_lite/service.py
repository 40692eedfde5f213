"""A running daemon: an RPC server for its topic, a heartbeat and periodic tasks,
all on native threads, stopped cleanly by SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any, Callable, Optional

from nova_lite import context as nl_context
from nova_lite import rpc, systemd
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)


class PeriodicTask:
    def __init__(self, name: str, interval: float, fn: Callable[[Any], None],
                 initial_delay: Optional[float] = None) -> None:
        self.name, self.interval, self.fn = name, interval, fn
        self.initial_delay = interval if initial_delay is None else initial_delay


class Service:
    def __init__(self, binary: str, topic: str, manager: Any, host: Optional[str] = None,
                 heartbeat: Optional[Callable[..., int]] = None,
                 periodic_tasks: Optional[list[PeriodicTask]] = None,
                 wait_for_conductor: Optional[Callable[[Any], None]] = None) -> None:
        """``wait_for_conductor(ctx)`` blocks until the conductor answers; services that
        reach it over RPC pass it, since a call sent before its queue exists is lost."""
        self.binary, self.topic, self.manager = binary, topic, manager
        self.host = host or CONF.host
        self._heartbeat_fn = heartbeat
        self._wait_for_conductor = wait_for_conductor
        self.periodic_tasks = list(periodic_tasks or [])
        self.server: Any = None
        self.service_id: Optional[int] = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _report(self, ctx: Any = None) -> None:
        if self._heartbeat_fn is None:
            return
        ctx = ctx or nl_context.get_admin_context()
        self.service_id = self._heartbeat_fn(ctx, self.host, self.binary, self.topic)
        if hasattr(self.manager, "service_id"):
            self.manager.service_id = self.service_id

    def start(self) -> None:
        if self._wait_for_conductor is not None:
            self._wait_for_conductor(nl_context.get_admin_context())
        self._report()
        if hasattr(self.manager, "init_host"):  # connects the driver: first
            self.manager.init_host()
        if hasattr(self.manager, "update_available_resource"):
            self.manager.update_available_resource(nl_context.get_admin_context())
        endpoints = [self.manager, *getattr(self.manager, "extra_endpoints", [])]
        self.server = rpc.get_server(self.topic, self.host, endpoints)
        self.server.start()
        tasks = list(self.periodic_tasks)
        if self._heartbeat_fn is not None:
            tasks.append(PeriodicTask("heartbeat", CONF.report_interval, self._report))
        for task in tasks:
            if task.interval <= 0:
                continue
            t = threading.Thread(target=self._run_periodic, args=(task,),
                                 name=f"{self.binary}-{task.name}", daemon=True)
            t.start()
            self._threads.append(t)
        LOG.info("%s started on host %s (topic %s)", self.binary, self.host, self.topic)

    def _run_periodic(self, task: PeriodicTask) -> None:
        delay = task.initial_delay
        while not self._stop.wait(delay):
            delay = task.interval
            try:
                task.fn(nl_context.get_admin_context())
            except Exception:
                LOG.exception("periodic task %s failed", task.name)

    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            try:
                self.server.stop()
                self.server.wait()
            except Exception:
                LOG.exception("stopping the RPC server of %s failed", self.binary)
        if hasattr(self.manager, "cleanup_host"):
            self.manager.cleanup_host()


def reload_config(_signum: int = 0, _frame: Any = None) -> None:
    """SIGHUP: re-read the configuration files; oslo.config applies the options that
    may change in a running process (debug, default_log_levels, ...)."""
    LOG.info("SIGHUP received; re-reading the configuration files")
    try:
        CONF.mutate_config_files()
    except Exception:
        LOG.exception("re-reading the configuration failed; keeping the current one")
    else:
        LOG.info("configuration files re-read; changed mutable options applied")


def run_until_signalled(services: list[Any], on_stop: Optional[Callable[[], None]] = None
                        ) -> None:
    """Block the main thread until SIGTERM/SIGINT, then stop every service."""
    stop = threading.Event()

    def _handler(signum: int, _frame: Any) -> None:
        LOG.info("signal %s received; stopping", signum)
        systemd.stopping()
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGHUP, reload_config)
    systemd.ready()
    while not stop.wait(1.0):
        pass
    t0 = time.monotonic()
    for svc in reversed(services):
        svc.stop()
    if on_stop:
        on_stop()
    LOG.info("services stopped in %.1f s", time.monotonic() - t0)
    rpc.cleanup()
    LOG.info("stopped in %.1f s", time.monotonic() - t0)
