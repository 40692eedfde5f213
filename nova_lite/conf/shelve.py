"""[DEFAULT] shelve options: when a shelved server leaves its host (Nova's names)."""

from oslo_config import cfg

opts = [
    cfg.IntOpt("shelved_offload_time", default=0, min=-1,
               help="Seconds a shelved server keeps its guest and its claim on the host "
                    "before it is offloaded: 0 offloads at once, -1 never (only an "
                    "explicit shelveOffload does)."),
    cfg.IntOpt("shelved_poll_interval", default=3600, min=-1,
               help="Seconds between checks for shelved servers due to be offloaded "
                    "(when shelved_offload_time > 0); -1 disables the check."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts)


def list_opts() -> list:
    return [("DEFAULT", opts)]
