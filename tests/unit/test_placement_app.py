"""The Placement WSGI app's edges, with a conductor that fails: a message bus or
conductor outage is a 503 and a bug a 500, both in Placement's error body; version
negotiation as Placement's."""

from __future__ import annotations

import types

import oslo_messaging as messaging
import pytest
import webob

from nova_lite.placement import app as placement_app
from nova_lite.placement import microversion


class _Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def provider_list(self, ctx, filters):
        raise self.error


def _get(error: Exception, path: str = "/resource_providers") -> webob.Response:
    conf = types.SimpleNamespace(api=types.SimpleNamespace(auth_strategy="noauth2"))
    app = placement_app.build_app(conf, conductor=_Failing(error))
    req = webob.Request.blank(path)
    req.headers["X-Auth-Token"] = "admin:admin"
    req.headers["OpenStack-API-Version"] = "placement 1.23"
    return req.get_response(app)


@pytest.mark.parametrize("error", [messaging.MessagingTimeout("slow"),
                                   messaging.MessageDeliveryFailure("down")])
def test_outages_are_503_in_placement_format(error: Exception) -> None:
    resp = _get(error)
    assert resp.status_int == 503
    err = resp.json["errors"][0]
    assert err["status"] == 503 and err["code"] == "placement.undefined_code"
    assert err["request_id"].startswith("req-")


def test_a_bug_is_a_500_without_a_traceback() -> None:
    resp = _get(RuntimeError("secret detail"))
    assert resp.status_int == 500
    assert "secret detail" not in resp.text
    assert resp.json["errors"][0]["detail"] == "Unexpected error: RuntimeError"


@pytest.mark.parametrize("header,expected", [
    (None, (1, 0)), ("placement 1.10", (1, 10)), ("placement latest", (1, 39)),
    ("compute 2.1, placement 1.2", (1, 2)), ("compute 2.90", (1, 0))])
def test_negotiation(header, expected) -> None:
    headers = {} if header is None else {"OpenStack-API-Version": header}
    assert microversion.negotiate(headers) == expected


@pytest.mark.parametrize("header,code", [("placement 1.40", 406), ("placement 2.0", 406),
                                         ("placement 1.01", 400), ("placement x", 400)])
def test_negotiation_errors(header, code) -> None:
    with pytest.raises(microversion.VersionError) as err:
        microversion.negotiate({"OpenStack-API-Version": header})
    assert err.value.code == code
