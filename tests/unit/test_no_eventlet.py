"""nova_lite runs on native threads: nothing may monkey-patch the standard library."""

import threading

from oslo_service import backend
from oslo_utils import eventletutils

import nova_lite.rpc  # noqa: F401  (imports oslo.messaging)


def test_threading_backend_and_no_monkey_patching():
    assert backend.get_backend_type() == backend.BackendType.THREADING
    for module in ("thread", "socket", "time", "select"):
        assert not eventletutils.is_monkey_patched(module)
    assert threading.current_thread().__class__.__module__ == "threading"
