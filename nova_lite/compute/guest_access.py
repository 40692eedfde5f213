"""What the compute host gives a guest to reach it by: a config drive with its metadata.

The metadata comes from the conductor (``instance_metadata``), the same data the
metadata service serves, rendered by the same code (nova_lite.api.metadata.base).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.api.metadata import base as md_base
from nova_lite.api.metadata import handler as md_handler
from nova_lite.virt import configdrive
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)


def config_drive_files(conductor: Any, ctx: Any, inst: Any, image_meta: dict, conf: Any
                       ) -> Optional[list[tuple[str, bytes]]]:
    """The files of the instance's config drive, or None when it gets none."""
    if not configdrive.required(inst.get("config_drive"),
                                image_meta.get("properties") or {}, conf.force_config_drive):
        return None
    source = conductor.instance_metadata(ctx, inst.uuid)
    md = md_base.InstanceMetadata(
        source, conf.api.dhcp_domain,
        md_handler.load_vendordata(conf.api.vendordata_jsonfile_path),
        for_config_drive=True)
    files = list(md.files())
    LOG.info("instance %s: config drive with %d files", inst.uuid, len(files))
    return files


def vnc_console(driver: Any, spec: Any, uuid: str, conf: Any) -> dict:
    """{"host", "port", "access_url_base"} of a guest's VNC server; 400 when this host
    serves no VNC consoles, 409 when the guest is not running."""
    try:
        where = driver.get_vnc_console(spec)
    except virt_driver.ConsoleUnavailable as err:
        raise exception.ConsoleTypeUnavailable(console_type=err.console_type) from err
    except virt_driver.DriverError as err:
        LOG.info("no VNC console for %s: %s", uuid, err)
        raise exception.InstanceNotReady(instance_id=uuid) from err
    return {"host": where["host"], "port": int(where["port"]),
            "access_url_base": conf.vnc.novncproxy_base_url}
