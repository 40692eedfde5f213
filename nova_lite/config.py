"""Process start-up: parse nova.conf and the command line, set up logging with oslo.log.

Logging takes Nova's options (``debug``, ``log_dir``, ``log_file``, ``use_journal``,
``use_json``, ``default_log_levels``, ``instance_format``, the context format strings):
with ``log_dir`` and no ``log_file`` each program writes ``<program>.log`` there. Every
record carries the thread's RequestContext, so lines read ``[req-... req-... user
project ...]`` like Nova's.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Optional

from oslo_config import cfg
from oslo_log import log as oslo_logging

from nova_lite import __version__
from nova_lite import context as nl_context
from nova_lite.conf import CONF

DEFAULT_CONFIG = "/etc/nova-lite/nova.conf"


class ContextFilter(logging.Filter):
    """Hands the current RequestContext to oslo.log's formatters (as the dict its
    ``logging_context_format_string`` reads), unless a call passed its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "context" not in record.__dict__:
            ctx = nl_context.get_current()
            if ctx is not None:
                record.context = ctx.get_logging_values()
                if ctx.resource_uuid and not (record.__dict__.get("instance")
                                              or record.__dict__.get("instance_uuid")):
                    record.instance_uuid = ctx.resource_uuid
        return True


def parse_args(argv: list[str], conf: cfg.ConfigOpts = CONF,
               default_config_files: Optional[list[str]] = None) -> None:
    """Parse --config-file/--config-dir (default /etc/nova-lite/nova.conf)."""
    if default_config_files is None:
        default_config_files = [DEFAULT_CONFIG] if os.path.exists(DEFAULT_CONFIG) else []
    conf(argv, project="nova-lite", version=__version__,
         default_config_files=default_config_files)


def program_name(fallback: str) -> str:
    """The running console script (nova-lite-conductor, ...), or ``fallback`` when the
    program is someone else's (uwsgi, gunicorn, mod_wsgi loading a WSGI application)."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return program if program.startswith("nova-lite") else fallback


def setup_logging(conf: cfg.ConfigOpts = CONF, name: str = "nova-lite") -> None:
    """oslo.log's handlers for this program: with ``log_dir`` and no ``log_file``, it
    writes ``<program>.log`` in log_dir."""
    if conf.log_dir:
        os.makedirs(conf.log_dir, exist_ok=True)
        if not conf.log_file:
            conf.set_default("log_file", f"{program_name(name)}.log")
    oslo_logging.setup(conf, "nova-lite", version=__version__)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
    logging.getLogger(name).info("starting %s %s", name, __version__)
