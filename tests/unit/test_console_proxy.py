"""nova-lite-novncproxy's checks before a websocket is accepted: where the token is
read from, and which page origins may open a console."""

from __future__ import annotations

from nova_lite.console import websocketproxy as proxy


def test_token_from_query_then_cookie() -> None:
    assert proxy.token_from("/?token=abc", None) == "abc"
    assert proxy.token_from("/websockify?token=abc&x=1", "token=zzz") == "abc"
    assert proxy.token_from("/websockify", "a=1; token=from-cookie") == "from-cookie"
    assert proxy.token_from("/", None) is None
    assert proxy.token_from("/", "garbage;;==") is None


def test_origin_must_be_the_proxy_or_allowed() -> None:
    assert proxy.origin_allowed(None, "proxy:6080", [])  # not a browser
    assert proxy.origin_allowed("http://proxy:6080", "proxy:6080", [])
    assert proxy.origin_allowed("https://proxy", "proxy:6080", [])
    assert not proxy.origin_allowed("http://evil.example", "proxy:6080", [])
    assert proxy.origin_allowed("http://dash.example", "proxy:6080", ["dash.example"])
    assert not proxy.origin_allowed("null", "proxy:6080", [])
