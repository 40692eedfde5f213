"""[quota]: the default limits every project gets (Nova's option names; -1 is unlimited).

A value set for the ``default`` quota class through the API wins over these, and a
project's or user's own limits win over both.
"""

from oslo_config import cfg

group = cfg.OptGroup("quota", title="Quota options")

opts = [
    cfg.IntOpt("instances", default=10, min=-1,
               help="Servers a project may have (build requests and ERROR servers count)."),
    cfg.IntOpt("cores", default=20, min=-1,
               help="Virtual CPUs a project's servers may have in total."),
    cfg.IntOpt("ram", default=51200, min=-1,
               help="Megabytes of RAM a project's servers may have in total."),
    cfg.IntOpt("metadata_items", default=128, min=-1,
               help="Metadata items one server may have."),
    cfg.IntOpt("key_pairs", default=100, min=-1,
               help="Key pairs one user may have."),
    cfg.IntOpt("server_groups", default=10, min=-1,
               help="Server groups a project may have."),
    cfg.IntOpt("server_group_members", default=10, min=-1,
               help="Servers one user may put in one server group."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts() -> list:
    return [(group.name, opts)]
