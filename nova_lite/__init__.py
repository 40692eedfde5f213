"""nova_lite: a compact, wire-compatible reimplementation of the OpenStack Nova control plane."""

import warnings

__version__ = "0.1.0"

# oslo.messaging's dependencies import eventlet (never used here: no monkey-patching,
# see below); keep its import-time deprecation banner out of every command's output.
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
