"""[glance], [neutron], [placement]: service credentials and endpoints, as Nova names them.

Each group carries keystoneauth1's session (TLS, timeout), auth (auth_type, auth_url,
username, ...) and adapter (service_type, interfaces, region, endpoint_override)
options, so nova_lite.keystone_session can build an authenticated client for that
service. [keystone_authtoken] is not declared here: keystonemiddleware registers its
own options when the API builds the auth_token middleware (sample generators should
use its ``keystonemiddleware.auth_token`` namespace).
"""

from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

# Group name -> the service type its adapter finds in the catalog by default.
SERVICE_GROUPS = {
    "glance": "image",
    "neutron": "network",
    "placement": "placement",
}

_TITLES = {
    "glance": "Image service (Glance) client options",
    "neutron": "Network service (Neutron) client options",
    "placement": "Placement service client options",
}


def register_opts(conf: cfg.ConfigOpts) -> None:
    for name, service_type in SERVICE_GROUPS.items():
        conf.register_group(cfg.OptGroup(name, title=_TITLES[name]))
        ks_loading.register_session_conf_options(conf, name)
        ks_loading.register_auth_conf_options(conf, name)
        ks_loading.register_adapter_conf_options(conf, name, include_deprecated=False)
        conf.set_default("service_type", service_type, group=name)
        conf.set_default("valid_interfaces", ["internal", "public"], group=name)


def _sample_opts(service_type: str) -> list:
    opts = (ks_loading.get_session_conf_options()
            + ks_loading.get_auth_common_conf_options()
            + ks_loading.get_auth_plugin_conf_options("password")
            + ks_loading.get_adapter_conf_options(include_deprecated=False))
    for opt in opts:
        if opt.dest == "service_type":
            opt.default = service_type
    # The password plugin repeats a few common names; the generator wants each once.
    unique: dict = {}
    for opt in opts:
        unique.setdefault(opt.dest, opt)
    return list(unique.values())


def list_opts() -> list:
    return [(name, _sample_opts(service_type)) for name, service_type in SERVICE_GROUPS.items()]
