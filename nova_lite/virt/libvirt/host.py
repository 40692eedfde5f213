"""The libvirt connection, its event loop and what the host has to offer.

libvirt delivers domain lifecycle events only if an event loop implementation is
registered *before* the connection is opened, and something keeps running it; that is
a daemon thread here. Events are handed to a second thread so a slow consumer (the
compute manager takes locks and calls the conductor) never stalls libvirt's loop.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import xml.etree.ElementTree as ET
from typing import Any, Callable, Optional

from nova_lite.virt import driver
from nova_lite.virt.driver import DriverError

try:
    import libvirt
except ImportError:  # pragma: no cover - exercised only where libvirt-python is absent
    libvirt = None

LOG = logging.getLogger(__name__)

DEFAULT_URI = "qemu:///system"

_event_loop_lock = threading.Lock()
_event_loop_started = False


def require_libvirt() -> Any:
    if libvirt is None:
        raise DriverError("libvirt-python is not installed; run tools/setup-libvirt")
    return libvirt


def kvm_usable() -> tuple[bool, str]:
    """Can /dev/kvm boot stock guests here? (ok, reason when not).

    /dev/kvm alone is not enough: kvm_pvm (nested virtualization without VMX/SVM)
    provides it, yet stock kernels hang in their decompressor under it.
    """
    if not os.path.exists("/dev/kvm"):
        return False, "/dev/kvm does not exist"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is not readable and writable (expected root:kvm 0660)"
    if not any(os.path.isdir(f"/sys/module/{m}") for m in ("kvm_intel", "kvm_amd")):
        return False, "neither kvm_intel nor kvm_amd is loaded (only a paravirtual KVM)"
    return True, ""


def start_event_loop() -> None:
    """Register libvirt's default event loop once per process and run it in a thread."""
    global _event_loop_started
    lv = require_libvirt()
    with _event_loop_lock:
        if _event_loop_started:
            return
        lv.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                try:
                    lv.virEventRunDefaultImpl()
                except Exception:  # keep the loop alive whatever a callback does
                    LOG.exception("libvirt event loop iteration failed")

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _event_loop_started = True


def _silence_libvirt_stderr() -> None:
    # libvirt-python prints every error to stderr as well as raising it.
    require_libvirt().registerErrorHandler(lambda _ctx, _err: None, None)


# libvirt lifecycle event -> power state reported to the compute manager.
def _event_power_state(event: int, detail: int) -> Optional[int]:
    lv = libvirt
    if event in (lv.VIR_DOMAIN_EVENT_STARTED, lv.VIR_DOMAIN_EVENT_RESUMED):
        return driver.RUNNING
    if event == lv.VIR_DOMAIN_EVENT_SUSPENDED:
        return driver.PAUSED
    if event == lv.VIR_DOMAIN_EVENT_PMSUSPENDED:
        return driver.SUSPENDED
    if event == lv.VIR_DOMAIN_EVENT_CRASHED:
        return driver.CRASHED
    if event == lv.VIR_DOMAIN_EVENT_STOPPED:
        if detail == lv.VIR_DOMAIN_EVENT_STOPPED_SAVED:
            return driver.SUSPENDED
        if detail == lv.VIR_DOMAIN_EVENT_STOPPED_CRASHED:
            return driver.CRASHED
        return driver.SHUTDOWN
    return None


class Host:
    """One shared libvirt connection (libvirt connections are thread-safe)."""

    def __init__(self, uri: str,
                 is_ours: Optional[Callable[[Any], bool]] = None) -> None:
        self.uri = uri or DEFAULT_URI
        self._conn: Any = None
        self._lock = threading.Lock()
        self._callback: Optional[driver.LifecycleCallback] = None
        self._is_ours = is_ours
        self._events: queue.Queue = queue.Queue()
        self._dispatcher: Optional[threading.Thread] = None

    # --- connection ----------------------------------------------------------------

    def connect(self, lifecycle_callback: Optional[driver.LifecycleCallback] = None) -> None:
        """Open the connection; with a callback, lifecycle events are delivered to it."""
        lv = require_libvirt()
        self._callback = lifecycle_callback
        start_event_loop()  # must precede the first open for events to flow
        _silence_libvirt_stderr()
        with self._lock:
            self._open()
        if lifecycle_callback and self._dispatcher is None:
            self._dispatcher = threading.Thread(target=self._dispatch, daemon=True,
                                                name="libvirt-lifecycle")
            self._dispatcher.start()
        LOG.info("connected to %s (libvirt %s)", self.uri, lv.getVersion())

    def _open(self) -> None:
        lv = libvirt
        try:
            conn = lv.open(self.uri)
        except lv.libvirtError as err:
            raise DriverError(f"cannot connect to libvirt at {self.uri}: "
                              f"{err.get_error_message()} (is libvirtd running? see "
                              "tools/setup-libvirt)") from err
        try:
            conn.setKeepAlive(5, 3)
        except lv.libvirtError:
            pass  # the test driver has no keepalive
        if self._callback:
            conn.domainEventRegisterAny(None, lv.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                        self._on_event, None)
        self._conn = conn

    def get_connection(self) -> Any:
        """The live connection, reopened if libvirtd went away and came back."""
        with self._lock:
            if self._conn is None:
                self._open()
            else:
                try:
                    alive = self._conn.isAlive()
                except libvirt.libvirtError:
                    alive = False
                if not alive:
                    LOG.warning("libvirt connection to %s lost; reconnecting", self.uri)
                    self._open()
            return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except libvirt.libvirtError:
                    pass
                self._conn = None
        self._callback = None

    # --- events --------------------------------------------------------------------

    def _on_event(self, _conn: Any, dom: Any, event: int, detail: int, _opaque: Any) -> None:
        """Runs in the event-loop thread: only translate and queue."""
        state = _event_power_state(event, detail)
        if state is not None:
            self._events.put((dom, state))

    def _dispatch(self) -> None:
        while True:
            dom, state = self._events.get()
            callback = self._callback
            if callback is None:
                continue
            try:
                if self._is_ours and not self._is_ours(dom):
                    continue
                callback(dom.UUIDString(), state)
            except Exception:
                LOG.exception("lifecycle callback failed")

    # --- resources -----------------------------------------------------------------

    def memory_mb(self) -> int:
        """Total host memory. conn.getInfo() reports NUMA node 0 only on some hosts."""
        conn = self.get_connection()
        try:
            stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
            if stats.get("total"):
                return int(stats["total"]) // 1024
        except libvirt.libvirtError:
            pass
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
        return int(conn.getInfo()[1])

    def vcpus(self) -> int:
        return int(self.get_connection().getInfo()[2])

    def hypervisor_version(self) -> int:
        return int(self.get_connection().getVersion())

    def hostname(self) -> str:
        return self.get_connection().getHostname()

    def cpu_info(self) -> str:
        """A JSON summary of the host CPU from the capabilities XML (as Nova reports it)."""
        caps = ET.fromstring(self.get_connection().getCapabilities())
        cpu = caps.find("./host/cpu")
        info: dict = {"arch": None, "model": None, "vendor": None, "topology": {},
                      "features": []}
        if cpu is not None:
            info["arch"] = cpu.findtext("arch")
            info["model"] = cpu.findtext("model")
            info["vendor"] = cpu.findtext("vendor")
            topo = cpu.find("topology")
            if topo is not None:
                info["topology"] = {k: int(v) for k, v in topo.attrib.items()
                                    if v.isdigit()}
            info["features"] = sorted(f.get("name") for f in cpu.findall("feature")
                                      if f.get("name"))
        return json.dumps(info, sort_keys=True)


def device_flags(lv: Any, dom: Any) -> int:
    """Flags of a device hot-plug or unplug: the definition, and the running guest too
    when it runs."""
    flags = lv.VIR_DOMAIN_AFFECT_CONFIG
    if dom.isActive():
        flags |= lv.VIR_DOMAIN_AFFECT_LIVE
    return flags
