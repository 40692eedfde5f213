"""The version documents (GET /, GET /v2.1, GET /v2): unauthenticated discovery."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import webob

from nova_lite.api import microversion

LOG = logging.getLogger("nova_lite.api.app")

_VERSIONS = {
    "v2.0": {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
             "updated": "2011-01-21T11:33:21Z", "path": "v2"},
    "v2.1": {"id": "v2.1", "status": "CURRENT", "version": microversion.MAX_STR,
             "min_version": microversion.MIN_STR, "updated": "2013-07-23T11:33:21Z",
             "path": "v2.1"},
}


def _doc(base_url: str, vid: str, full: bool) -> dict:
    v = _VERSIONS[vid]
    out = {k: v[k] for k in ("id", "status", "version", "min_version", "updated")}
    out["links"] = [{"rel": "self", "href": f"{base_url}/{v['path']}/"}]
    if full:
        out["links"].append({"rel": "describedby", "type": "text/html",
                             "href": "http://docs.openstack.org/"})
        out["media-types"] = [{"base": "application/json",
                               "type": "application/vnd.openstack.compute+json;"
                                       f"version={vid[1:]}"}]
    return out


def _base_url(req: webob.Request) -> str:
    return f"{req.host_url}{req.script_name}"


def all_versions(req: webob.Request) -> dict:
    base = _base_url(req)
    return {"versions": [_doc(base, "v2.0", False), _doc(base, "v2.1", False)]}


def one_version(req: webob.Request, vid: str) -> dict:
    return {"version": _doc(_base_url(req), vid, True)}


class RootVersions:
    """GET / (and HEAD) answered in front of authentication, as a document made once
    per base URL: the versions list is the same for every caller (Nova serves it
    without a token), and it is what load balancers and clients poll most. Any other
    request goes on to ``app``."""

    _MAX_BASES = 16  # the Host header is the caller's: keep only a few bodies

    def __init__(self, app: Any) -> None:
        self.app = app
        self._bodies: dict[str, bytes] = {}

    def __call__(self, environ: dict, start_response: Any) -> Any:
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO", "") not in ("", "/") or method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        start = time.monotonic()
        req = webob.Request(environ)
        base = _base_url(req)
        body = self._bodies.get(base)
        if body is None:
            body = json.dumps(all_versions(req), separators=(", ", ": ")).encode()
            if len(self._bodies) < self._MAX_BASES:
                self._bodies[base] = body
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        LOG.info("%s %s status: 200 len: %d microversion: - time: %.4f", method,
                 req.path_qs, len(body), time.monotonic() - start)
        return [body] if method == "GET" else []
