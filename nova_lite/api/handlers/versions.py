"""The version documents (GET /, GET /v2.1, GET /v2): unauthenticated discovery."""

from __future__ import annotations

import webob

from nova_lite.api import microversion

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
