"""nova_lite: a compact, wire-compatible reimplementation of the OpenStack Nova control plane."""

__version__ = "0.1.0"


def _use_native_threads() -> None:
    """oslo.service (a dependency of oslo.messaging) must run on native threads, never
    eventlet; its backend has to be chosen before anything imports oslo.messaging."""
    try:
        from oslo_service import backend

        backend.init_backend(backend.BackendType.THREADING)
    except Exception:  # already chosen, or an oslo.service without backends
        pass


_use_native_threads()
