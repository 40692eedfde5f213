"""Config drives: the instance's metadata as an ISO 9660 image labelled ``config-2``.

Built in Python with pycdlib (no mkisofs, no loop mounts): Rock Ridge and Joliet carry
the real file names (``openstack/latest/meta_data.json``), so cloud-init, a busybox
``mount -t iso9660`` or any ISO reader finds them. The compute manager decides whether
an instance gets one (``required``) and hands the driver the files; the driver writes
and attaches the image.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any, Iterable, Optional

VOLUME_LABEL = "config-2"
FILE_NAME = "disk.config"

_ISO_BAD = re.compile(r"[^A-Z0-9_.-]")


def required(instance_config_drive: Any, image_properties: dict, force: bool) -> bool:
    """Nova's rule: asked for on create, forced by [DEFAULT] force_config_drive, or
    mandated by the image (img_config_drive=mandatory)."""
    if force or str(image_properties.get("img_config_drive", "")).lower() == "mandatory":
        return True
    return str(instance_config_drive or "").strip().lower() in ("true", "1", "yes", "t",
                                                                "on")


def _iso_name(name: str, is_file: bool) -> str:
    text = _ISO_BAD.sub("_", name.upper())
    return f"{text};1" if is_file else text


def build_iso(files: Iterable[tuple[str, bytes]], dest: str) -> int:
    """Write an ISO 9660 (Rock Ridge + Joliet) image of ``files`` ((path, bytes), paths
    relative to the root) to ``dest``; returns its size in bytes."""
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, vol_ident=VOLUME_LABEL, rock_ridge="1.09", joliet=3)
    made: set[str] = set()
    try:
        for path, data in files:
            parts = [p for p in path.split("/") if p]
            for depth in range(1, len(parts)):
                rel = "/".join(parts[:depth])
                if rel in made:
                    continue
                made.add(rel)
                iso.add_directory("/" + "/".join(_iso_name(p, False) for p in parts[:depth]),
                                  rr_name=parts[depth - 1], joliet_path="/" + rel)
            iso_path = "/" + "/".join(_iso_name(p, i == len(parts) - 1)
                                      for i, p in enumerate(parts))
            iso.add_fp(io.BytesIO(data), len(data), iso_path, rr_name=parts[-1],
                       joliet_path="/" + "/".join(parts))
        tmp = dest + ".tmp"
        iso.write(tmp)
    finally:
        iso.close()
    os.replace(tmp, dest)
    return os.path.getsize(dest)


def read_iso(path: str) -> tuple[str, dict[str, bytes]]:
    """(volume label, {path: content}) of an ISO image, read through its Rock Ridge
    names; for checks and tests (no mount needed)."""
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.open(path)
    try:
        label = iso.pvd.volume_identifier.decode().strip()
        out: dict[str, bytes] = {}
        for root, _dirs, names in iso.walk(rr_path="/"):
            for name in names:
                full = f"{root.rstrip('/')}/{name}"
                buf = io.BytesIO()
                iso.get_file_from_iso_fp(buf, rr_path=full)
                out[full.lstrip("/")] = buf.getvalue()
        return label, out
    finally:
        iso.close()


def drive_path(instance_dir: str) -> str:
    return os.path.join(instance_dir, FILE_NAME)


def files_or_none(value: Optional[list]) -> Optional[list[tuple[str, bytes]]]:
    """The driver's view of InstanceSpec.extra["config_drive"]: (path, bytes) pairs."""
    if not value:
        return None
    return [(str(p), bytes(d)) for p, d in value]
