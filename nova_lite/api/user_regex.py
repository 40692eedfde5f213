"""Regular expressions users send (the name and ip list filters, as Nova takes them):
matched with the ``regex`` module's time limit, so a pattern built to backtrack (ReDoS,
e.g. ``(a+)+$``) costs one request at most BUDGET_SECONDS, then a 400, never a hung
API thread. Compiling has no time limit and ``regex`` unrolls counted repeats, so
``(?:a{10000}){10000}`` would take minutes and gigabytes before matching begins: a
pattern whose counted repeats multiply past MAX_REPEAT_PRODUCT is refused up front."""

from __future__ import annotations

import re
import time
from typing import Any, Optional

import regex

from nova_lite.api import wsgi

# Matching time one request may spend on its patterns, all servers together.
BUDGET_SECONDS = 0.5
# Upper bound on the product of all counted repeats ({m}, {m,n}, {m,}) in one pattern:
# nested or not, an unrolled pattern is at most this many times its written size.
MAX_REPEAT_PRODUCT = 10_000
_COUNTED = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")


def _too_big(text: str) -> bool:
    product = 1
    for m in _COUNTED.finditer(text):
        low, high = m.group(1) or "0", m.group(2) or "0"
        if len(low) > 6 or len(high) > 6:
            return True
        product *= max(int(low), int(high), 1)
        if product > MAX_REPEAT_PRODUCT:
            return True
    return False


class UserPattern:
    def __init__(self, text: str, what: str) -> None:
        self._what = what
        if _too_big(text):
            raise self._refuse()
        try:
            self._rx = regex.compile(text)
        except (regex.error, RecursionError, OverflowError):
            self._rx = regex.compile(regex.escape(text))  # Nova: not a regex, a string
        self._deadline = time.monotonic() + BUDGET_SECONDS

    def _run(self, fn: Any, text: str) -> Optional[Any]:
        left = self._deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            return fn(text, timeout=left)
        except TimeoutError:
            raise self._refuse() from None

    def _refuse(self) -> wsgi.HTTPError:
        return wsgi.bad_request(f"The {self._what} filter is too expensive to match; "
                                "use a simpler expression.")

    def search(self, text: str) -> Optional[Any]:
        return self._run(self._rx.search, text)

    def match(self, text: str) -> Optional[Any]:
        return self._run(self._rx.match, text)
