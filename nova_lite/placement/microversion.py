"""Placement's microversions: ``OpenStack-API-Version: placement X.Y``, 1.0 when absent,
``latest`` for the newest; out of range is 406 naming the range, a malformed value 400."""

from __future__ import annotations

import re
from typing import Mapping, NamedTuple

SERVICE_TYPE = "placement"
HEADER = "OpenStack-API-Version"
MIN = (1, 0)
MAX = (1, 39)
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class Version(NamedTuple):
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


MIN_VERSION = Version(*MIN)
MAX_VERSION = Version(*MAX)


class VersionError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def negotiate(headers: Mapping[str, str]) -> Version:
    """The version a request asks for (only the ``placement`` entry of the header)."""
    wanted = None
    for item in (headers.get(HEADER) or "").split(","):
        service, _, value = item.strip().partition(" ")
        if service.lower() == SERVICE_TYPE:
            wanted = value.strip()
    if not wanted:
        return MIN_VERSION
    if wanted.lower() == "latest":
        return MAX_VERSION
    match = _VERSION_RE.match(wanted)
    if match is None:
        raise VersionError(400, f"invalid version string: {wanted}")
    ver = Version(int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= ver <= MAX_VERSION:
        raise VersionError(406, f"Unacceptable version header: {wanted}")
    return ver


def response_headers(ver: Version) -> list[tuple[str, str]]:
    return [(HEADER, f"{SERVICE_TYPE} {ver}"), ("Vary", HEADER.lower())]
