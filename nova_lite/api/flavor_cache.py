"""A short-lived cache of flavors in front of the conductor.

Flavors are read on every server create and by every `flavor list`, and they almost
never change; caching them for [api] flavor_cache_seconds saves one RPC round trip per
request. This API process drops its cache whenever it changes a flavor (its extra specs,
access or description included); other API processes see such a change once their
cache expires.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

class FlavorCachingConductor:
    """Wraps a ConductorAPI; every method not about flavors passes straight through."""

    def __init__(self, conductor: Any, ttl: float) -> None:
        self._conductor = conductor
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[float, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conductor, name)

    def _cached(self, key: tuple, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        value = load()
        with self._lock:
            self._entries[key] = (now, value)
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._entries.clear()

    def flavor_get(self, ctx: Any, flavorid: str) -> Any:
        if self._ttl <= 0:
            return self._conductor.flavor_get(ctx, flavorid)
        return self._cached(("get", flavorid),
                            lambda: self._conductor.flavor_get(ctx, flavorid))

    def flavor_list(self, ctx: Any, is_public: Any = True, min_memory_mb: int = 0,
                    min_root_gb: int = 0, project_id: Any = None) -> list:
        def load() -> list:
            return self._conductor.flavor_list(ctx, is_public, min_memory_mb, min_root_gb,
                                               project_id)

        if self._ttl <= 0:
            return load()
        return self._cached(("list", is_public, min_memory_mb, min_root_gb, project_id),
                            load)

# Conductor methods that change a flavor: each drops this API's cache.
FLAVOR_CHANGES = ("flavor_create", "flavor_destroy", "flavor_update",
                  "flavor_extra_specs_update", "flavor_extra_spec_delete",
                  "flavor_access_add", "flavor_access_remove")

def _invalidating(name: str) -> Callable[..., Any]:
    def method(self: FlavorCachingConductor, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._conductor, name)(*args, **kwargs)
        finally:
            self.invalidate()

    method.__name__ = name
    return method

for _name in FLAVOR_CHANGES:
    setattr(FlavorCachingConductor, _name, _invalidating(_name))
