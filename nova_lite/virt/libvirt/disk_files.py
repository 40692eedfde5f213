"""qemu-img on a guest's disk files: checking downloaded images, the qcow2 overlay of a
root disk over its cached base, virtual sizes; errors as DriverError with qemu-img's
own message."""

from __future__ import annotations

import json
import os
import subprocess

from nova_lite.virt.driver import DriverError

GiB = 1024 ** 3


def check_download(path: str, meta: dict) -> None:
    """A qcow2 image must really be qcow2 and must not point at a backing file."""
    if meta.get("disk_format") != "qcow2":
        return
    try:
        info = json.loads(run(["qemu-img", "info", "--output=json", "-f", "qcow2", path]))
    except (DriverError, ValueError) as err:
        raise DriverError(f"image {meta.get('id')} is not a valid qcow2 file: {err}") \
            from err
    if info.get("backing-filename"):
        raise DriverError("qcow2 images with a backing file are not accepted")


def create_overlay(base: str, base_format: str, path: str, root_gb: int) -> None:
    """A qcow2 overlay backed by the shared base, grown to the flavor's root disk."""
    base_size = virtual_size(base, base_format)
    size = root_gb * GiB
    if size and size < base_size:
        raise DriverError(f"the flavor's root disk ({root_gb} GB) is smaller than the "
                          f"image ({base_size} bytes)")
    cmd = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", base_format, path]
    if size:
        cmd.append(str(size))
    run(cmd)
    os.chmod(path, 0o644)


def virtual_size(path: str, fmt: str) -> int:
    if fmt == "raw":
        return os.path.getsize(path)
    out = run(["qemu-img", "info", "--output=json", "-f", fmt, path])
    return int(json.loads(out)["virtual-size"])


def run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError as err:
        raise DriverError(f"{cmd[0]} is not installed") from err
    except subprocess.CalledProcessError as err:
        raise DriverError(f"{' '.join(cmd[:2])} failed: {err.stderr.strip()}") from err
