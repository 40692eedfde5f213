"""[api_database] and [database]: only nova-lite-conductor and nova-lite-manage use them.

Both groups take oslo.db's options (as Nova's do), limited to the ones nova_lite's engines
honour (nova_lite.db.engine): the connection and its parameters, the MySQL session mode,
the pool (max_pool_size, max_overflow, pool_timeout, connection_recycle_time), the
start-up wait (max_retries, retry_interval), SQL debugging and the replay of transactions
after a lost connection (use_db_reconnect, db_*retry*). [database] options apply to every
cell database this conductor reaches, [api_database] ones to the API database.
"""

import copy

from oslo_config import cfg
from oslo_db import options as oslo_db_options

api_group = cfg.OptGroup("api_database", title="API database")
cell_group = cfg.OptGroup("database", title="Cell databases of this conductor")

HONOURED = ("connection", "connection_parameters", "mysql_sql_mode", "mysql_wsrep_sync_wait",
            "connection_recycle_time", "max_pool_size", "max_overflow", "pool_timeout",
            "max_retries", "retry_interval", "connection_debug", "connection_trace",
            "use_db_reconnect", "db_retry_interval", "db_inc_retry_interval",
            "db_max_retry_interval", "db_max_retries")

_HELP = {
    "api_database": "SQLAlchemy URL of the API database, e.g. "
                    "mysql+pymysql://nova:secret@127.0.0.1/nova_api",
    "database": "SQLAlchemy URL of this cell's database; `nova-lite-manage cell_v2 "
                "create_cell` records it in the cell mapping.",
}


def _opts(group: str) -> list:
    opts = [copy.deepcopy(o) for o in oslo_db_options.database_opts if o.name in HONOURED]
    for opt in opts:
        opt.deprecated_opts = []  # oslo.db's old [DEFAULT]/[DATABASE] names are not ours
        if opt.name == "connection":
            opt.help = _HELP[group]
    return opts


api_opts = _opts("api_database")
cell_opts = _opts("database")


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)
    conf.register_group(cell_group)
    conf.register_opts(cell_opts, group=cell_group)


def list_opts() -> list:
    return [(api_group.name, api_opts), (cell_group.name, cell_opts)]
