"""``nova_lite.wsgi.metadata:application``: the metadata service under a WSGI server."""

from __future__ import annotations

from typing import Any

from nova_lite.wsgi import init_application


def _build() -> Any:
    from nova_lite.api.metadata import handler
    from nova_lite.conductor import rpcapi as conductor_rpcapi
    from nova_lite.conf import CONF

    return handler.MetadataApp(CONF, conductor_rpcapi.ConductorAPI())


application = init_application("nova-lite-metadata-api", _build)
