"""[embedded]: nova-lite-all, the whole control plane in one process."""

from oslo_config import cfg

group = cfg.OptGroup("embedded", title="All-in-one (nova-lite-all) options")

opts = [
    cfg.ListOpt("compute_hosts", default=[],
                help="Host names of the compute services nova-lite-all runs (fake or "
                     "libvirt driver); empty means one, named [DEFAULT] host."),
    cfg.BoolOpt("auto_setup", default=True,
                help="Create and migrate the databases, map cell0 and cell1, add the "
                     "default flavors and discover hosts automatically."),
    cfg.BoolOpt("placement_api", default=False,
                help="Also serve the Placement API, on [placement_api] listen and "
                     "listen_port."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts() -> list:
    return [(group.name, opts)]
