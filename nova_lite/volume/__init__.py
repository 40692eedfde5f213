"""The block storage (Cinder) client of nova_lite: ``cinder.API`` talks to a real Cinder
(the tests' in-memory stand-in with the same methods is tests/fake_volume.py)."""

from __future__ import annotations

from typing import Any, Optional


def configured(conf: Any) -> bool:
    """Whether [cinder] names a way to Cinder (an endpoint template or credentials)."""
    return bool(conf.cinder.endpoint_template or conf.cinder.auth_type)


def get_api(conf: Any) -> Optional[Any]:
    """The Cinder client [cinder] describes, or None when no Cinder is configured."""
    if not configured(conf):
        return None
    from nova_lite.volume import cinder

    return cinder.API.from_conf(conf)
