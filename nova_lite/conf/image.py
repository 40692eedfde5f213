"""[image]: where images come from."""

from oslo_config import cfg

group = cfg.OptGroup("image", title="Image service options")

opts = [
    cfg.StrOpt("backend", default="local", choices=["local"],
               help="Image backend: a local directory store (Glance comes later)."),
    cfg.StrOpt("local_store_path", default="$state_path/images",
               help="Directory of the local image store."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts() -> list:
    return [(group.name, opts)]
