"""Compute API microversions: which one a request asked for, and the headers echoing it.

Versions are plain ``(major, minor)`` tuples so handlers compare them cheaply
(``req.ver >= (2, 19)``). MAX_VERSION is the highest version for which every resource
nova_lite serves has Nova's request and response shapes.
"""

from __future__ import annotations

import re
from typing import Mapping, Optional

Version = tuple[int, int]

MIN_VERSION: Version = (2, 1)
MAX_VERSION: Version = (2, 100)

SERVICE_TYPE = "compute"
HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
VARY = f"{HEADER}, {LEGACY_HEADER}"

_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class VersionError(Exception):
    """A version the API cannot honour; ``code`` is 400 (malformed) or 406 (unsupported)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def to_str(ver: Version) -> str:
    return f"{ver[0]}.{ver[1]}"


MIN_STR = to_str(MIN_VERSION)
MAX_STR = to_str(MAX_VERSION)


def parse(text: str) -> Version:
    """'2.19' -> (2, 19); 'latest' -> MAX_VERSION; VersionError(400) if malformed."""
    text = text.strip()
    if text.lower() == "latest":
        return MAX_VERSION
    m = _FORMAT.match(text)
    if not m:
        raise VersionError(400, f"API Version String {text} is of invalid format. Must be "
                                "of format MajorNum.MinorNum.")
    return int(m.group(1)), int(m.group(2))


def _requested(headers: Mapping[str, str]) -> Optional[str]:
    """The compute version named by the request, the standard header winning."""
    value = headers.get(HEADER)
    if value:
        for item in value.split(","):
            service, _, ver = item.strip().partition(" ")
            if service.lower() == SERVICE_TYPE:
                return ver.strip()
    legacy = headers.get(LEGACY_HEADER)
    return legacy.strip() if legacy else None


def negotiate(headers: Mapping[str, str]) -> Version:
    """The version this request is served at (2.1 when none is asked for)."""
    text = _requested(headers)
    if not text:
        return MIN_VERSION
    ver = parse(text)
    if not MIN_VERSION <= ver <= MAX_VERSION:
        raise VersionError(406, f"Version {text} is not supported by the API. Minimum is "
                                f"{MIN_STR} and maximum is {MAX_STR}.")
    return ver


def response_headers(ver: Version) -> list[tuple[str, str]]:
    s = to_str(ver)
    return [(HEADER, f"{SERVICE_TYPE} {s}"), (LEGACY_HEADER, s), ("Vary", VARY)]
