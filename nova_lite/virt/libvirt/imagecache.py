"""The per-host cache of base images under <instances_path>/_base.

Each image is downloaded once and shared (read-only, as a qcow2 backing file) by every
instance booted from it. Two spawns fetching the same image serialize on a per-image
file lock, and downloads land in a temporary file that is renamed into place, so a base
file that exists is always complete. An instance records the bases it uses in its own
directory *before* fetching them; clean-up re-checks those records under the same lock,
so it can never remove a base that a spawn is about to use.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import subprocess
import uuid
from typing import Iterator

from nova_lite.virt.driver import DriverError, ImageSource

LOG = logging.getLogger(__name__)

BASE_DIR_NAME = "_base"
USAGE_FILE = "bases.json"
CHUNK = 1024 * 1024


def base_name(image_id: str) -> str:
    """Cache file name of an image (Nova names bases by the sha1 of the image id)."""
    return hashlib.sha1(image_id.encode(), usedforsecurity=False).hexdigest()


class ImageCache:
    def __init__(self, instances_path: str, image_source: ImageSource) -> None:
        self.instances_path = instances_path
        self.base_dir = os.path.join(instances_path, BASE_DIR_NAME)
        self.image_source = image_source

    def path(self, image_id: str) -> str:
        return os.path.join(self.base_dir, base_name(image_id))

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """An exclusive lock per base file; works across threads and processes.

        Lock files are never removed: unlinking a lock file that another waiter has
        open would let two holders in.
        """
        os.makedirs(self.base_dir, mode=0o755, exist_ok=True)
        fd = os.open(os.path.join(self.base_dir, f".{name}.lock"), os.O_CREAT | os.O_RDWR,
                     0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # --- usage records -------------------------------------------------------------

    @staticmethod
    def record_usage(instance_dir: str, image_ids: list[str]) -> None:
        """Remember which bases an instance uses; written before they are fetched."""
        tmp = os.path.join(instance_dir, f".{USAGE_FILE}.tmp")
        with open(tmp, "w") as f:
            json.dump([base_name(i) for i in image_ids], f)
        os.replace(tmp, os.path.join(instance_dir, USAGE_FILE))

    def bases_in_use(self) -> set[str]:
        """Bases referenced by any instance directory on this host."""
        used: set[str] = set()
        try:
            entries = os.listdir(self.instances_path)
        except FileNotFoundError:
            return used
        for entry in entries:
            if entry == BASE_DIR_NAME or entry.startswith("."):
                continue
            try:
                with open(os.path.join(self.instances_path, entry, USAGE_FILE)) as f:
                    used.update(json.load(f))
            except (OSError, ValueError):
                continue
        return used

    # --- fetch and clean-up --------------------------------------------------------

    def fetch(self, image_id: str) -> tuple[str, dict]:
        """Path of the cached base of image_id (downloading it once) and its metadata."""
        try:
            meta = self.image_source.show(image_id)
        except Exception as err:
            raise DriverError(f"image {image_id} is not available: {err}") from err
        name = base_name(image_id)
        path = os.path.join(self.base_dir, name)
        with self._locked(name):
            if os.path.exists(path):
                os.utime(path)
                return path, meta
            tmp = os.path.join(self.base_dir, f".{name}.{uuid.uuid4().hex}.download")
            LOG.info("downloading image %s into the cache", image_id)
            try:
                self.image_source.download(image_id, tmp)
                _verify(tmp, meta)
                if meta.get("disk_format") == "qcow2":
                    _check_qcow2(tmp)
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)
            except DriverError:
                raise
            except Exception as err:
                raise DriverError(f"could not download image {image_id}: {err}") from err
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return path, meta

    def cleanup(self) -> list[str]:
        """Remove cached bases that no instance directory refers to; return their names."""
        try:
            names = [n for n in os.listdir(self.base_dir) if not n.startswith(".")]
        except FileNotFoundError:
            return []
        removed = []
        unused = set(names) - self.bases_in_use()
        for name in sorted(unused):
            with self._locked(name):
                # A spawn may have recorded this base since the first scan.
                if name in self.bases_in_use():
                    continue
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.base_dir, name))
                    removed.append(name)
                    LOG.info("removed unused base image %s", name)
        return removed


def _verify(path: str, meta: dict) -> None:
    """Size and md5 must match the image's metadata (cheap next to booting from it)."""
    size = os.path.getsize(path)
    if meta.get("size") is not None and size != meta["size"]:
        raise DriverError(f"image {meta.get('id')} download is {size} bytes, "
                          f"expected {meta['size']}")
    if meta.get("checksum"):
        md5 = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                md5.update(chunk)
        if md5.hexdigest() != meta["checksum"]:
            raise DriverError(f"image {meta.get('id')} failed its checksum")


def _check_qcow2(path: str) -> None:
    """A qcow2 image must really be qcow2 and must not point at a backing file."""
    try:
        out = subprocess.run(["qemu-img", "info", "--output=json", "-f", "qcow2", path],
                             check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise DriverError(f"image is not a valid qcow2 file: {err}") from err
    if json.loads(out).get("backing-filename"):
        raise DriverError("qcow2 images with a backing file are not accepted")
