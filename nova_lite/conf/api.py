"""[api]: the REST API's behaviour."""

from oslo_config import cfg

group = cfg.OptGroup("api", title="Compute API options")

opts = [
    cfg.StrOpt("auth_strategy", default="keystone", choices=["keystone", "noauth2"],
               help="keystone validates tokens; noauth2 trusts 'user:project' tokens "
                    "and is for development only."),
    cfg.IntOpt("max_limit", default=1000, min=1,
               help="Most items one list request returns."),
    cfg.FloatOpt("flavor_cache_seconds", default=5.0, min=0.0,
                 help="Seconds this API process reuses flavors it read; 0 disables."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts() -> list:
    return [(group.name, opts)]
