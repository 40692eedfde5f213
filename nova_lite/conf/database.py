"""[api_database] and [database]: only nova-lite-conductor and nova-lite-manage use them."""

from oslo_config import cfg

api_group = cfg.OptGroup("api_database", title="API database")
cell_group = cfg.OptGroup("database", title="Cell database of this conductor")

_common = [
    cfg.IntOpt("max_pool_size", default=10, min=1, help="Connections kept open."),
    cfg.IntOpt("max_overflow", default=40, min=0, help="Extra connections under load."),
    cfg.IntOpt("pool_timeout", default=30, min=1, help="Seconds to wait for a connection."),
    cfg.IntOpt("connection_recycle_time", default=3600, min=1,
               help="Reopen connections older than this many seconds."),
]

api_opts = [
    cfg.StrOpt("connection", secret=True,
               help="SQLAlchemy URL of the API database, e.g. "
                    "mysql+pymysql://nova:secret@127.0.0.1/nova_api"),
] + _common

cell_opts = [
    cfg.StrOpt("connection", secret=True,
               help="SQLAlchemy URL of this cell's database; `nova-lite-manage cell_v2 "
                    "create_cell` records it in the cell mapping."),
] + [cfg.IntOpt(o.name, default=o.default, min=getattr(o.type, "min", None), help=o.help)
     for o in _common]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)
    conf.register_group(cell_group)
    conf.register_opts(cell_opts, group=cell_group)


def list_opts() -> list:
    return [(api_group.name, api_opts), (cell_group.name, cell_opts)]
