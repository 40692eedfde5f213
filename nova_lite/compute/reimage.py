"""Re-imaging the root volume of a volume-backed server rebuilt from microversion 2.93,
as Nova's compute does it with Cinder (Block Storage 3.68's ``os-reimage``).

Cinder re-images only a volume nobody uses: the guest is gone first, then the root
volume's attachment is replaced by a reservation (an attachment without connector:
the volume is ``reserved`` for the server and unexported from this host). Cinder then
writes the image over the volume in the background and posts ``volume-reimaged``
(tag: the volume id, status completed or failed) to os-server-external-events, which
routes it here; the wait is bounded by ``[DEFAULT] reimage_timeout_per_gb`` per GiB of
the image. The rebuild then exports the volume to this host again (attachment update
with the connector), boots the new guest from it and completes the attachment.

Whatever fails leaves the volume reserved for the server by the one attachment its
mapping names, so a delete or another rebuild finds it accounted for.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from nova_lite import exception
from nova_lite.compute import instance_events
from nova_lite.conf import CONF
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

VOLUME_REIMAGED = "volume-reimaged"
GiB = 1024 ** 3


class ReimageFailed(exception.NovaLiteException):
    msg_fmt = "Failed to rebuild volume backed instance: %(reason)s"


class ReimageMixin:
    """Mixed into ComputeManager (conductor, image_api, events, and the volume mixins'
    volume_api, _volume_bdms and _reserve_volume)."""

    host: str
    conductor: Any
    image_api: Any
    volume_api: Any
    events: Any

    def _reimage_root_volume(self, ctx: Any, inst: Any, image_id: str) -> None:
        """Write ``image_id`` over the server's root volume (its guest already gone)
        and wait for Cinder to say it is done; ReimageFailed says why it is not."""
        root = next((b for b in self._volume_bdms(ctx, inst)  # type: ignore[attr-defined]
                     if b.boot_index == 0 and b.volume_id), None)
        if root is None:
            raise ReimageFailed(reason="the server has no root volume")
        try:
            image = self.image_api.show(None, image_id)
        except exception.NovaLiteException as err:
            raise ReimageFailed(reason=f"image {image_id}: {err}") from err
        size_gb = max(1, math.ceil(int(image.get("size") or 0) / GiB))
        timeout = CONF.reimage_timeout_per_gb * size_gb
        try:
            self._reserve_volume(ctx, inst, root)  # type: ignore[attr-defined]
        except exception.NovaLiteException as err:
            raise ReimageFailed(reason=f"could not reserve volume {root.volume_id}: "
                                       f"{err.format_message()}") from err
        what = f"re-imaging volume {root.volume_id} with image {image_id}"
        LOG.info("instance %s: %s (waiting up to %d s for %s)", inst.uuid, what, timeout,
                 VOLUME_REIMAGED)
        try:
            with self.events.wait_for_instance_event(
                    inst.uuid, [(VOLUME_REIMAGED, root.volume_id)], timeout, what=what):
                try:
                    self.volume_api.reimage(ctx, root.volume_id, image_id,
                                            reimage_reserved=True)
                except exception.NovaLiteException as err:
                    raise ReimageFailed(
                        reason=f"Cinder refused to re-image volume {root.volume_id}: "
                               f"{err.format_message()}") from err
        except instance_events.EventTimedOut as err:
            raise ReimageFailed(reason=f"{err} ([DEFAULT] reimage_timeout_per_gb = "
                                       f"{CONF.reimage_timeout_per_gb})") from err
        except virt_driver.DriverError as err:  # Cinder's event said failed
            raise ReimageFailed(reason=str(err)) from err
        if root.image_id:  # the image the volume's content now comes from
            self.conductor.bdm_update(ctx, inst.uuid, root.uuid, {"image_id": image_id})
        LOG.info("instance %s: volume %s re-imaged with image %s", inst.uuid,
                 root.volume_id, image_id)
