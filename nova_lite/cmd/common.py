"""Start-up shared by the daemons' entry points."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Callable, Optional

from oslo_reports import guru_meditation_report as gmr

from nova_lite import __version__, config, objects, rpc
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)


class Version:
    """What oslo.reports prints as the product and its version."""

    @staticmethod
    def vendor_string() -> str:
        return "nova_lite"

    @staticmethod
    def product_string() -> str:
        return "nova_lite"

    @staticmethod
    def version_string_with_package() -> str:
        return __version__


def init(argv: Optional[list[str]], name: str) -> None:
    """Configuration, logging, the Guru Meditation Report on SIGUSR2 (oslo.reports; or
    [oslo_reports] file_event_handler) and the versioned objects."""
    config.parse_args(sys.argv[1:] if argv is None else argv)
    config.setup_logging(CONF, name)
    gmr.TextGuruMeditation.setup_autorun(Version, service_name=config.program_name(name),
                                         conf=CONF)
    objects.register_all()


def require(option: Optional[str], what: str) -> None:
    if not option:
        sys.exit(f"{what} is not set in the configuration")


# A worker that dies sooner than this after its start failed to start (bad configuration,
# unreachable dependency at import): the parent exits instead of re-spawning it forever,
# and leaves the restart policy (and its back-off) to the service manager.
WORKER_START_GRACE = 10.0


def run_workers(workers: int, run_one: Callable[[int], None]) -> None:
    """Run run_one(0) in this process, or run_one(slot) in `workers` forked children
    supervised here (a child that dies after running a while is replaced in its slot)."""
    if workers <= 1:
        run_one(0)
        return
    children: dict[int, tuple[int, float]] = {}
    stopping = False

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                run_one(slot)
                code = 0
            except SystemExit as err:
                code = err.code if isinstance(err.code, int) else 1
            except BaseException:
                LOG.exception("worker %d failed", slot)
            finally:
                os._exit(code)
        children[pid] = (slot, time.monotonic())

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def forward_hup(signum: int, _frame: object) -> None:
        for pid in list(children):  # each worker re-reads its configuration
            try:
                os.kill(pid, signal.SIGHUP)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, forward_hup)
    for slot in range(workers):
        spawn(slot)
    failed = False
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        entry = children.pop(pid, None)
        if stopping or entry is None:
            continue
        slot, started = entry
        if time.monotonic() - started < WORKER_START_GRACE:
            LOG.error("worker %s exited %.1f s after its start (status %s); stopping",
                      pid, time.monotonic() - started, status)
            failed = True
            on_signal(signal.SIGTERM, None)
            continue
        LOG.warning("worker %s exited (status %s); starting a new one", pid, status)
        time.sleep(1)
        spawn(slot)
    if failed:
        sys.exit(1)


def start_rpc() -> None:
    rpc.init(CONF)
