"""[api]: the REST API's behaviour."""

from oslo_config import cfg

group = cfg.OptGroup("api", title="Compute API options")

opts = [
    cfg.StrOpt("auth_strategy", default="keystone", choices=["keystone", "noauth2"],
               help="keystone validates tokens; noauth2 trusts 'user:project' tokens "
                    "and is for development only."),
    cfg.IntOpt("max_limit", default=1000, min=1,
               help="Most items one list request returns."),
    cfg.IntOpt("workers", min=1, sample_default="<number of CPUs>",
               help="Processes of nova-lite-api, forked at start and sharing its port "
                    "(SO_REUSEPORT), each a threaded WSGI server with "
                    "[DEFAULT] osapi_compute_workers threads; the default is the number of "
                    "CPUs, since one process is bound by one core. Under uwsgi or gunicorn "
                    "(nova_lite.wsgi.osapi_compute:application) their own setting applies."),
    cfg.BoolOpt("list_records_by_skipping_down_cells", default=True,
                help="When a cell database does not answer, server lists leave its "
                     "servers out (True) or fail with a 500 (False). From microversion "
                     "2.69 an unfiltered, unsorted, unpaged list shows them as minimal "
                     "records (status UNKNOWN) whatever this says."),
    cfg.FloatOpt("flavor_cache_seconds", default=5.0, min=0.0,
                 help="Seconds this API process reuses flavors it read; 0 disables."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts() -> list:
    return [(group.name, opts)]
