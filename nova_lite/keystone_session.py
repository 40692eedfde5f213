"""Authenticated keystoneauth1 sessions and adapters for the services nova_lite calls.

A session per config group ([glance], [neutron], [placement]) is built once and shared:
it holds the service user's token and re-authenticates when that expires, so callers
never handle credentials themselves.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg

_SESSIONS: dict[tuple[int, str], ks_session.Session] = {}
_LOCK = threading.Lock()


def get_auth(conf: cfg.ConfigOpts, group: str):
    """The auth plugin configured in ``group`` (None when auth_type is unset)."""
    return ks_loading.load_auth_from_conf_options(conf, group)


def get_session(conf: cfg.ConfigOpts, group: str) -> ks_session.Session:
    """A session authenticated with ``group``'s credentials, cached per conf and group."""
    key = (id(conf), group)
    with _LOCK:
        sess = _SESSIONS.get(key)
        if sess is None:
            sess = ks_loading.load_session_from_conf_options(
                conf, group, auth=get_auth(conf, group))
            _SESSIONS[key] = sess
        return sess


def get_adapter(conf: cfg.ConfigOpts, group: str,
                service_type: str | None = None) -> ks_adapter.Adapter:
    """An adapter that finds ``service_type`` (default: the group's) in the catalog.

    [group] endpoint_override, region_name and valid_interfaces steer which URL is used.
    """
    kwargs = {"service_type": service_type} if service_type else {}
    return ks_loading.load_adapter_from_conf_options(
        conf, group, session=get_session(conf, group), **kwargs)


class CachedEndpoint:
    """A service's URL looked up once (in the catalog, by ``find``) and kept, so each
    request does not ask Keystone; looked up again when a caller saw it fail (the
    service may have moved). ``unavailable(reason)`` is the error a failed lookup
    raises; ``normalize`` shapes the URL kept."""

    def __init__(self, find: Callable[[], Optional[str]],
                 unavailable: Callable[[str], Exception], what: str,
                 normalize: Callable[[str], str] = lambda url: url.rstrip("/")) -> None:
        self.find = find
        self.unavailable = unavailable
        self.what = what
        self.normalize = normalize
        self._url: Optional[str] = None
        self._lock = threading.Lock()

    def get(self, refresh: bool = False) -> str:
        with self._lock:
            if self._url is None or refresh:
                try:
                    url = self.find()
                except ks_exc.ClientException as err:
                    raise self.unavailable(f"no {self.what} endpoint: {err}") from err
                if not url:
                    raise self.unavailable(f"the catalog has no {self.what} endpoint")
                self._url = self.normalize(url)
            return self._url


def reset() -> None:
    """Drop cached sessions (tests, or after the config changed)."""
    with _LOCK:
        _SESSIONS.clear()
