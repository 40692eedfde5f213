"""The per-host cache of base images under <instances_path>/_base.

Every compute host downloads the images it boots into its own cache (nothing is shared
between hosts): each image once, then shared read-only (as a qcow2 backing file) by
every instance booted from it on that host. Spawns fetching the same image serialize on
a per-image file lock, so concurrent boots wait for the one download; downloads land in
a temporary file that the image API verifies (size, md5, sha512) before renaming it
into place, so a base file that exists was complete and correct when it was written.

A base is checked again before each use: when the file changed since it was verified
(its size or ctime differ from the record written beside it) it is hashed again, and a
base that no longer matches the image is removed and the boot refused.

An instance records the bases it uses in its own directory *before* fetching them;
clean-up re-checks those records under the same lock, so it can never remove a base
that a spawn is about to use.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import uuid
from typing import Callable, Iterator, Optional

from nova_lite import exception
from nova_lite.image.api import Verifier
from nova_lite.virt.driver import DriverError, ImageSource

LOG = logging.getLogger(__name__)

BASE_DIR_NAME = "_base"
USAGE_FILE = "bases.json"


def base_name(image_id: str) -> str:
    """Cache file name of an image (Nova names bases by the sha1 of the image id)."""
    return hashlib.sha1(image_id.encode(), usedforsecurity=False).hexdigest()


class ImageCache:
    def __init__(self, instances_path: str, image_source: ImageSource,
                 validate: Optional[Callable[[str, dict], None]] = None) -> None:
        """``validate(path, meta)``: the driver's own check of a new download (e.g. that
        a qcow2 file has no backing file); raises DriverError."""
        self.instances_path = instances_path
        self.base_dir = os.path.join(instances_path, BASE_DIR_NAME)
        self.image_source = image_source
        self.validate = validate

    def path(self, image_id: str) -> str:
        return os.path.join(self.base_dir, base_name(image_id))

    def _record_path(self, name: str) -> str:
        return os.path.join(self.base_dir, f".{name}.verified")

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

    # --- verification records ------------------------------------------------------

    @staticmethod
    def _fingerprint(meta: dict) -> str:
        return f"{meta.get('size')}:{meta.get('checksum')}:{meta.get('os_hash_value')}"

    def _write_record(self, name: str, path: str, meta: dict) -> None:
        st = os.stat(path)
        tmp = self._record_path(name) + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"size": st.st_size, "ctime_ns": st.st_ctime_ns,
                       "image": self._fingerprint(meta)}, f)
        os.replace(tmp, self._record_path(name))

    def _still_verified(self, name: str, path: str, meta: dict) -> bool:
        try:
            with open(self._record_path(name)) as f:
                record = json.load(f)
            st = os.stat(path)
        except (OSError, ValueError):
            return False
        return (record.get("size") == st.st_size and record.get("ctime_ns") == st.st_ctime_ns
                and record.get("image") == self._fingerprint(meta))

    def _check_cached(self, image_id: str, name: str, path: str, meta: dict) -> None:
        """A cached base must still be the image's bytes; else remove it and refuse."""
        if self._still_verified(name, path, meta):
            return
        try:
            Verifier.file(path, meta)
        except exception.ImageCorrupt as err:
            LOG.error("cached base %s of image %s does not match the image (%s); "
                      "removing it", name, image_id, err.format_message())
            for p in (path, self._record_path(name)):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(p)
            raise DriverError(f"cached copy of image {image_id} failed verification and "
                              "was removed: " + err.format_message()) from err
        self._write_record(name, path, meta)

    # --- fetch and clean-up --------------------------------------------------------

    def fetch(self, image_id: str) -> tuple[str, dict]:
        """Path of the cached base of image_id (downloading it once) and its metadata."""
        try:
            meta = self.image_source.show(image_id)
        except Exception as err:
            raise DriverError(f"image {image_id} is not available: {_message(err)}") \
                from err
        name = base_name(image_id)
        path = os.path.join(self.base_dir, name)
        with self._locked(name):
            if os.path.exists(path):
                self._check_cached(image_id, name, path, meta)
                return path, meta
            tmp = os.path.join(self.base_dir, f".{name}.{uuid.uuid4().hex}.download")
            LOG.info("downloading image %s into the cache", image_id)
            try:
                self.image_source.download(image_id, tmp, meta)
                if self.validate is not None:
                    self.validate(tmp, meta)
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)
                self._write_record(name, path, meta)
            except DriverError:
                raise
            except Exception as err:
                raise DriverError(f"could not download image {image_id}: "
                                  f"{_message(err)}") from err
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
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._record_path(name))
        return removed

    def stray_instance_dirs(self, known: set[str]) -> set[str]:
        """Instance directories on this host that belong to none of ``known``."""
        try:
            entries = os.listdir(self.instances_path)
        except FileNotFoundError:
            return set()
        dirs = {e for e in entries if e != BASE_DIR_NAME and not e.startswith(".")
                and os.path.isdir(os.path.join(self.instances_path, e))}
        return dirs - known


def _message(err: BaseException) -> str:
    if isinstance(err, exception.NovaLiteException):
        return err.format_message()
    return str(err) or type(err).__name__
