"""Every configuration option, grouped and named as Nova names them.

``CONF`` is the process-wide oslo.config object; each submodule declares one group (or
a slice of [DEFAULT]) and is listed in ``_MODULES`` so the sample generator sees it.
"""

from __future__ import annotations

from oslo_config import cfg
from oslo_log import log as oslo_logging
from oslo_reports import opts as oslo_reports_opts

from nova_lite.conf import (
    api,
    cinder,
    compute,
    conductor,
    console,
    database,
    default,
    embedded,
    image,
    keystone,
    libvirt,
    metadata,
    network,
    placement_api,
    quota,
    scheduler,
    shelve,
)

CONF = cfg.CONF

_MODULES = (default, api, database, conductor, scheduler, compute, image, libvirt, embedded,
            keystone, metadata, console, quota, network, shelve, placement_api, cinder)

for _mod in _MODULES:
    _mod.register_opts(CONF)

# Nova's quiet libraries, plus the message bus client, the API's HTTP server and schema
# migrations.
_QUIET_LOGGERS = ["kombu=WARN", "alembic=WARN", "cheroot=WARN"]
# Headers a browser client may send and read, and its methods (Nova's [cors] defaults).
CORS_ALLOW_HEADERS = ["X-Auth-Token", "X-Openstack-Request-Id", "X-Identity-Status",
                      "X-Roles", "X-Service-Catalog", "X-User-Id", "X-Tenant-Id",
                      "X-OpenStack-Nova-API-Version", "OpenStack-API-Version"]
CORS_EXPOSE_HEADERS = ["X-Auth-Token", "X-Openstack-Request-Id", "X-Subject-Token",
                       "X-Service-Token", "X-OpenStack-Nova-API-Version",
                       "OpenStack-API-Version"]
CORS_ALLOW_METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"]


def set_defaults() -> None:
    """nova_lite's defaults for library options (oslo.log, [cors], [healthcheck]); run at
    import, and by the sample generator (entry point oslo.config.opts.defaults)."""
    from oslo_middleware import cors
    from oslo_middleware.healthcheck import opts as healthcheck_opts

    oslo_logging.set_defaults(default_log_levels=oslo_logging.get_default_log_levels()
                              + _QUIET_LOGGERS)
    cors.set_defaults(allow_headers=CORS_ALLOW_HEADERS, expose_headers=CORS_EXPOSE_HEADERS,
                      allow_methods=CORS_ALLOW_METHODS)
    cfg.set_defaults(healthcheck_opts.HEALTHCHECK_OPTS, backends=["nova_lite_conductor"])
    # Reconnect to RabbitMQ at most 5 s apart (oslo.messaging: up to 30 s), so every
    # daemon is back within seconds of the broker; set on the options the driver itself
    # registers, as control_exchange is (a copy with another default would clash).
    from oslo_messaging._drivers import impl_rabbit

    cfg.set_defaults(impl_rabbit.rabbit_opts, rabbit_retry_backoff=1, rabbit_interval_max=5)


# oslo.log's options (debug, log_dir, log_file, use_journal, use_json, ...) under Nova's
# names (sample namespace oslo.log), and oslo.reports' [oslo_reports] (Guru Meditation).
oslo_logging.register_options(CONF)
oslo_reports_opts.set_defaults(CONF)
set_defaults()


def list_opts() -> list:
    """Entry point for oslo-config-generator (namespace ``nova_lite.conf``)."""
    grouped: dict = {}
    for mod in _MODULES:
        for group, opts in mod.list_opts():
            grouped.setdefault(group, []).extend(opts)
    return sorted(grouped.items(), key=lambda kv: (kv[0] != "DEFAULT", kv[0]))
