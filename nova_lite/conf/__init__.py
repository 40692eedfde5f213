"""Every configuration option, grouped and named as Nova names them.

``CONF`` is the process-wide oslo.config object; each submodule declares one group (or
a slice of [DEFAULT]) and is listed in ``_MODULES`` so the sample generator sees it.
"""

from __future__ import annotations

from oslo_config import cfg

from nova_lite.conf import (
    api,
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
    quota,
    scheduler,
)

CONF = cfg.CONF

_MODULES = (default, api, database, conductor, scheduler, compute, image, libvirt, embedded,
            keystone, metadata, console, quota)

for _mod in _MODULES:
    _mod.register_opts(CONF)


def list_opts() -> list:
    """Entry point for oslo-config-generator (namespace ``nova_lite.conf``)."""
    grouped: dict = {}
    for mod in _MODULES:
        for group, opts in mod.list_opts():
            grouped.setdefault(group, []).extend(opts)
    return sorted(grouped.items(), key=lambda kv: (kv[0] != "DEFAULT", kv[0]))
