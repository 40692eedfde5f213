"""Process start-up: parse nova.conf and the command line, set up logging and RPC."""

from __future__ import annotations

import logging
import os
import sys
from typing import Optional

from oslo_config import cfg

from nova_lite import __version__
from nova_lite import context as nl_context
from nova_lite.conf import CONF

DEFAULT_CONFIG = "/etc/nova-lite/nova.conf"


class _ContextFilter(logging.Filter):
    """Puts the current RequestContext in every record: ``[request_id global_request_id
    user_id project_id]``, each ``-`` when unknown (Nova's logging_context_format_string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = nl_context.get_current()
        record.request_id = ctx.request_id if ctx else "-"
        record.global_request_id = (ctx.global_request_id if ctx else None) or "-"
        record.user_identity = (f"{ctx.user_id or '-'} {ctx.project_id or '-'}"
                                if ctx else "- -")
        return True


def parse_args(argv: list[str], conf: cfg.ConfigOpts = CONF,
               default_config_files: Optional[list[str]] = None) -> None:
    """Parse --config-file/--config-dir (default /etc/nova-lite/nova.conf)."""
    if default_config_files is None:
        default_config_files = [DEFAULT_CONFIG] if os.path.exists(DEFAULT_CONFIG) else []
    conf(argv, project="nova-lite", version=__version__,
         default_config_files=default_config_files)


def setup_logging(conf: cfg.ConfigOpts = CONF, name: str = "nova-lite") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler: logging.Handler
    if conf.log_file:
        os.makedirs(os.path.dirname(os.path.abspath(conf.log_file)), exist_ok=True)
        handler = logging.FileHandler(conf.log_file)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(process)d %(levelname)s %(name)s [%(request_id)s "
        "%(global_request_id)s %(user_identity)s] %(message)s"))
    handler.addFilter(_ContextFilter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if conf.debug else logging.INFO)
    for noisy in ("amqp", "kombu", "oslo_messaging", "stevedore", "alembic", "cheroot",
                  "urllib3", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger(name).info("starting %s %s", name, __version__)
