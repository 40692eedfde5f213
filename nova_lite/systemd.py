"""systemd readiness and watchdog (sd_notify), without a library: a datagram to the
socket systemd names in NOTIFY_SOCKET. Units use Type=notify (NotifyAccess=all, since
the API and the conductor serve from forked workers): READY=1 is sent once a daemon
really serves, and WATCHDOG=1 every half WATCHDOG_USEC when the unit sets WatchdogSec.
Outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

LOG = logging.getLogger(__name__)
_watchdog_started = threading.Event()


def notify(state: str) -> bool:
    """Send ``state`` (e.g. "READY=1") to systemd; False when not run by it."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    if path.startswith("@"):  # abstract namespace
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(path)
            sock.sendall(state.encode())
        return True
    except OSError as err:
        LOG.warning("could not notify systemd (%s): %s", state, err)
        return False


def ready(status: str = "") -> None:
    """The daemon serves: READY=1, and the watchdog pings when the unit asks for them."""
    notify("READY=1" + (f"\nSTATUS={status}" if status else ""))
    _start_watchdog()


def stopping() -> None:
    notify("STOPPING=1")


def _start_watchdog() -> None:
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid()) and not _forked_worker()):
        return
    if _watchdog_started.is_set():
        return
    _watchdog_started.set()
    interval = int(usec) / 1e6 / 2

    def _ping() -> None:
        while True:
            notify("WATCHDOG=1")
            threading.Event().wait(interval)

    threading.Thread(target=_ping, name="systemd-watchdog", daemon=True).start()


def _forked_worker() -> bool:
    """A worker forked by the daemon systemd started (NotifyAccess=all lets it ping)."""
    return os.environ.get("WATCHDOG_PID") == str(os.getppid())
