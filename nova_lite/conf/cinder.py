"""[cinder]: where the block storage service is and how nova_lite talks to it, as Nova
names the options.

The group also carries keystoneauth1's session (TLS, timeout) and auth options
(auth_type, auth_url, username, ...): the service user that finds Cinder in the catalog
and makes the calls no user token covers (a compute host cleaning up after a restart).
"""

from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

group = cfg.OptGroup("cinder", title="Block storage service (Cinder) client options")

opts = [
    cfg.StrOpt("catalog_info", default="volumev3::publicURL",
               regex=r"^[\w-]+:[\w-]*:.*?$",
               help="How to find Cinder in the service catalog: "
                    "<service_type>:<service_name>:<endpoint_type> (the service name is "
                    "optional; the endpoint type is publicURL, internalURL or adminURL)."),
    cfg.StrOpt("endpoint_template",
               help="Cinder's URL, used instead of the catalog, e.g. "
                    "http://localhost:8776/v3/%(project_id)s (%(project_id)s is the "
                    "requesting user's project)."),
    cfg.StrOpt("os_region_name",
               help="The region whose Cinder endpoint is taken from the catalog."),
    cfg.IntOpt("http_retries", default=3, min=0,
               help="Times a call to Cinder is retried after a connection failure, a "
                    "502/503/504 answer, or a 500 answer to a call that may be repeated "
                    "(GET, PUT, DELETE), waiting 0.5 s before the first retry and twice "
                    "as long before each next one."),
    cfg.BoolOpt("cross_az_attach", default=True,
                help="Allow a server to use a volume of another availability zone. When "
                     "False, a volume attached to a server must be in the server's "
                     "availability zone (a boot from volume creates it there)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    ks_loading.register_session_conf_options(conf, group.name)
    ks_loading.register_auth_conf_options(conf, group.name)


def _auth_sample_opts() -> list:
    loaded = (ks_loading.get_session_conf_options()
              + ks_loading.get_auth_common_conf_options()
              + ks_loading.get_auth_plugin_conf_options("password"))
    unique: dict = {}
    for opt in loaded:
        unique.setdefault(opt.dest, opt)
    return list(unique.values())


def list_opts() -> list:
    return [(group.name, opts + _auth_sample_opts())]
