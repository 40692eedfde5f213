"""The block storage (Cinder) client of nova_lite: ``cinder.API`` talks to a real Cinder
(the tests' in-memory stand-in with the same methods is tests/fake_volume.py)."""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception

LOG = logging.getLogger(__name__)


def configured(conf: Any) -> bool:
    """Whether [cinder] names a way to Cinder (an endpoint template or credentials)."""
    return bool(conf.cinder.endpoint_template or conf.cinder.auth_type)


def get_api(conf: Any) -> Optional[Any]:
    """The Cinder client [cinder] describes, or None when no Cinder is configured."""
    if not configured(conf):
        return None
    from nova_lite.volume import cinder

    return cinder.API.from_conf(conf)


def release_attachment(api: Any, ctx: Any, attachment_id: str, what: str) -> None:
    """Delete an attachment where a failure must not stop the caller (a server being
    deleted, an undone move): gone already is fine, anything else is logged for the
    operator, as Nova leaves such volumes."""
    try:
        api.attachment_delete(ctx, attachment_id)
    except exception.VolumeAttachmentNotFound:
        pass
    except Exception:
        LOG.exception("could not delete attachment %s of %s", attachment_id, what)
