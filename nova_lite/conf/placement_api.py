"""[placement_api]: where nova-lite-placement-api listens."""

from oslo_config import cfg

placement_api_opts = [
    cfg.StrOpt("listen", default="0.0.0.0",
               help="Address nova-lite-placement-api listens on."),
    cfg.PortOpt("listen_port", default=8778,
                help="Port nova-lite-placement-api listens on (Placement's)."),
    cfg.IntOpt("workers", default=8, min=1,
               help="Threads of the Placement API's WSGI server."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(cfg.OptGroup("placement_api"))
    conf.register_opts(placement_api_opts, group="placement_api")


def list_opts() -> list:
    return [("placement_api", placement_api_opts)]
