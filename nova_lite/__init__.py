"""nova_lite: a compact, wire-compatible reimplementation of the OpenStack Nova control plane."""

import sys
import warnings

__version__ = "0.1.0"

# eventlet comes installed with oslo.service and is never used here (native threads, see
# below). Libraries that merely look for it (futurist, through oslo.messaging) find it
# missing and take their native paths, and no process pays its import (about 0.2 s of
# CPU per start). Where a caller imported it before nova_lite, its import-time
# deprecation banner is kept out of every command's output.
sys.modules.setdefault("eventlet", None)  # type: ignore[arg-type]
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def _use_native_threads() -> None:
    """oslo.service (a dependency of oslo.messaging) must run on native threads, never
    eventlet; its backend has to be chosen before anything imports oslo.messaging."""
    try:
        from oslo_service import backend

        backend.init_backend(backend.BackendType.THREADING)
    except Exception:  # already chosen, or an oslo.service without backends
        pass


_use_native_threads()
