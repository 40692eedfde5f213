"""Helpers every resource shares: timestamps, paging, 'changes-since' parsing.

Nova prints two timestamp styles — ``isotime`` ('2017-10-10T15:49:08Z') for
created/updated, and the JSON encoder's ``strtime`` ('2017-10-10T15:49:09.516729') for
fields it passes through raw — so both are here and each view picks Nova's.
"""

from __future__ import annotations

import datetime
from typing import Any, Optional
from urllib.parse import urlencode

from nova_lite.api import validation, wsgi


class Row(dict):
    """A plain row from the conductor (a list's server or hypervisor) with attribute
    reads (``row.vm_state``), as handlers read versioned objects; a missing key reads
    as None."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def isotime(dt: Optional[datetime.datetime]) -> Optional[str]:
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def strtime(dt: Optional[datetime.datetime]) -> Optional[str]:
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")


def parse_time(name: str, value: str) -> datetime.datetime:
    """An ISO 8601 query value as an aware UTC datetime; 400 when unparseable."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise wsgi.bad_request(f"Invalid input for query parameters {name}. Value: "
                               f"{value}. '{value}' is not a 'date-time'") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.astimezone(datetime.timezone.utc)


def limit_and_marker(req: wsgi.ApiRequest) -> tuple[int, Optional[str]]:
    """The page size (capped at [api] max_limit) and the marker of a list request."""
    max_limit = req.conf.api.max_limit
    params = req.params
    limit = max_limit
    if "limit" in params:
        limit = min(validation.parse_int("limit", params["limit"], minimum=0), max_limit)
    marker = params.get("marker") or None
    return limit, marker


def paginate(items: list, limit: int, marker: Optional[str], key: Any) -> list:
    """Page a list already in order: items after ``marker`` (400 if unknown), ``limit`` of
    them."""
    if marker is not None:
        for n, item in enumerate(items):
            if key(item) == marker:
                items = items[n + 1:]
                break
        else:
            raise wsgi.bad_request(f"marker [{marker}] not found")
    return items[:limit]


def next_links(req: wsgi.ApiRequest, collection: str, items: list, limit: int,
               last_id: Any) -> Optional[list]:
    """The ``*_links`` value for a full page (None when the page was not full)."""
    if not items or len(items) < limit:
        return None
    params = [(k, v) for k, v in req.params.items() if k not in ("marker", "limit")]
    params += [("limit", str(limit)), ("marker", str(last_id))]
    return [{"rel": "next", "href": f"{req.url(collection)}?{urlencode(params)}"}]


def page_reply(req: wsgi.ApiRequest, collection: str, detail: bool, rendered: list,
               items: list, limit: int, last_id: Any) -> wsgi.Reply:
    """200 with ``{collection: rendered}`` plus ``{collection}_links`` for a full page."""
    body: dict[str, Any] = {collection: rendered}
    links = next_links(req, f"{collection}/detail" if detail else collection, items, limit,
                       last_id)
    if links:
        body[f"{collection}_links"] = links
    return wsgi.Reply(200, body)
