"""Regular expressions users send (the name and ip list filters, as Nova takes them):
matched with the ``regex`` module's time limit, so a pattern built to backtrack (ReDoS,
e.g. ``(a+)+$``) costs one request at most BUDGET_SECONDS, then a 400, never a hung
API thread."""

from __future__ import annotations

import time
from typing import Any, Optional

import regex

from nova_lite.api import wsgi

# Matching time one request may spend on its patterns, all servers together.
BUDGET_SECONDS = 0.5


class UserPattern:
    def __init__(self, text: str, what: str) -> None:
        try:
            self._rx = regex.compile(text)
        except (regex.error, RecursionError, OverflowError):
            self._rx = regex.compile(regex.escape(text))  # Nova: not a regex, a string
        self._what = what
        self._deadline = time.monotonic() + BUDGET_SECONDS

    def _run(self, fn: Any, text: str) -> Optional[Any]:
        left = self._deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            return fn(text, timeout=left)
        except TimeoutError:
            raise wsgi.bad_request(f"The {self._what} filter is too expensive to match; "
                                   "use a simpler expression.") from None

    def search(self, text: str) -> Optional[Any]:
        return self._run(self._rx.search, text)

    def match(self, text: str) -> Optional[Any]:
        return self._run(self._rx.match, text)
