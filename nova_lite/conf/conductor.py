"""[conductor]"""

from oslo_config import cfg

group = cfg.OptGroup("conductor", title="Conductor options")

opts = [
    cfg.IntOpt("workers", min=1, sample_default="<number of CPUs>",
               help="Conductor worker processes, each a threaded RPC server; the default "
                    "is the number of CPUs, since one process is bound by one core."),
    cfg.IntOpt("build_threads", default=8, min=1,
               help="Threads running build orchestration (schedule, create, cast) apart "
                    "from the RPC threads, so data calls never wait behind builds."),
    cfg.IntOpt("build_request_retry_seconds", default=120, min=10,
               help="At start-up, build requests older than this with no instance are "
                    "scheduled again (they were lost by a crash)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts() -> list:
    return [(group.name, opts)]
