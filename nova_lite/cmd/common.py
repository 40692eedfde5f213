"""Start-up shared by the daemons' entry points."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Callable, Optional

from nova_lite import config, objects, rpc
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)


def init(argv: Optional[list[str]], name: str) -> None:
    config.parse_args(sys.argv[1:] if argv is None else argv)
    config.setup_logging(CONF, name)
    objects.register_all()


def require(option: Optional[str], what: str) -> None:
    if not option:
        sys.exit(f"{what} is not set in the configuration")


def run_workers(workers: int, run_one: Callable[[int], None]) -> None:
    """Run run_one(0) in this process, or run_one(slot) in `workers` forked children
    supervised here (a child that dies is replaced in its slot)."""
    if workers <= 1:
        run_one(0)
        return
    children: dict[int, int] = {}
    stopping = False

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                run_one(slot)
            finally:
                os._exit(0)
        children[pid] = slot

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for slot in range(workers):
        spawn(slot)
    while children:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        slot = children.pop(pid, None)
        if not stopping and slot is not None:
            LOG.warning("worker %s exited; starting a new one", pid)
            time.sleep(1)
            spawn(slot)


def start_rpc() -> None:
    rpc.init(CONF)
