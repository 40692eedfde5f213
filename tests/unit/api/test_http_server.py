"""The cheroot server really serves the app over HTTP."""

from __future__ import annotations

import http.client
import json

from nova_lite.api import app as api_app
from nova_lite.api import server


def test_make_server_serves_requests(conf, conductor, images):
    app = api_app.build_app(conf, conductor_api=conductor, image_api=images)
    with server.make_server(app) as running:
        conn = http.client.HTTPConnection(running.host, running.port, timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read())["versions"][1]["id"] == "v2.1"
        conn.request("GET", "/v2.1/flavors", headers={"X-Auth-Token": "alice:proj-a",
                                                      "OpenStack-API-Version": "compute 2.61"})
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert resp.status == 200
        assert resp.getheader("OpenStack-API-Version") == "compute 2.61"
        assert resp.getheader("x-openstack-request-id").startswith("req-")
        assert body["flavors"][0]["links"][0]["href"].startswith(running.url)
        conn.close()
