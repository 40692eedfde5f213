"""``nova_lite.wsgi.placement_api:application``: the Placement API under a WSGI server."""

from __future__ import annotations

from typing import Any

from nova_lite.wsgi import init_application


def _build() -> Any:
    from nova_lite.conf import CONF
    from nova_lite.placement import app

    return app.build_app(CONF)


application = init_application("nova-lite-placement-api", _build)
