"""``nova_lite.wsgi.osapi_compute:application``: the compute API under a WSGI server."""

from __future__ import annotations

from typing import Any

from nova_lite.wsgi import init_application


def _build() -> Any:
    from nova_lite.api import app
    from nova_lite.conf import CONF

    return app.build_app(CONF)


application = init_application("nova-lite-api", _build)
