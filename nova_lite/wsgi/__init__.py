"""WSGI applications for uwsgi, gunicorn or mod_wsgi (as Nova's ``nova.wsgi`` modules).

The configuration comes from the environment, as Nova's WSGI applications find theirs:
``OS_NOVA_LITE_CONFIG_DIR`` (default /etc/nova-lite) and ``OS_NOVA_LITE_CONFIG_FILES``,
file names separated by semicolons, relative to that directory unless absolute (default:
nova.conf there, when it exists). Each server process must import the application after
it forked (uwsgi: ``lazy-apps = true``; gunicorn does so unless ``--preload``), since it
opens its own message bus connection.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Mapping, Optional

CONFIG_DIR = "/etc/nova-lite"
CONFIG_FILE = "nova.conf"

_lock = threading.Lock()


def config_files(env: Optional[Mapping[str, str]] = None) -> list[str]:
    env = os.environ if env is None else env
    directory = env.get("OS_NOVA_LITE_CONFIG_DIR", CONFIG_DIR).strip() or CONFIG_DIR
    names = [n.strip() for n in env.get("OS_NOVA_LITE_CONFIG_FILES", "").split(";")
             if n.strip()]
    if names:
        return [os.path.join(directory, n) for n in names]
    default = os.path.join(directory, CONFIG_FILE)
    return [default] if os.path.exists(default) else []


def init_application(name: str, build: Callable[[], Any]) -> Any:
    """Configuration, logging, Guru Meditation Report and RPC for this process, then
    ``build()`` (the WSGI callable)."""
    from oslo_reports import guru_meditation_report as gmr

    from nova_lite import config, objects, rpc
    from nova_lite.cmd import common
    from nova_lite.conf import CONF

    with _lock:
        config.parse_args([], default_config_files=config_files())
        config.setup_logging(CONF, name)
        gmr.TextGuruMeditation.setup_autorun(common.Version, service_name=name, conf=CONF)
        objects.register_all()
        rpc.init(CONF)
        return build()
