"""[scheduler] and [filter_scheduler]"""

from oslo_config import cfg

group = cfg.OptGroup("scheduler", title="Scheduler options")
filter_group = cfg.OptGroup("filter_scheduler", title="Filter scheduler options")

opts = [
    cfg.IntOpt("workers", default=1, min=1, help="Scheduler worker processes."),
    cfg.IntOpt("discover_hosts_in_cells_interval", default=-1, min=-1,
               help="Seconds between automatic host discoveries by the scheduler; "
                    "-1 disables it (run `nova-lite-manage cell_v2 discover_hosts`)."),
    cfg.FloatOpt("host_view_max_age", default=1.0, min=0.0,
                 help="Seconds the scheduler reuses its view of host capacity (updated "
                      "locally with its own claims) before reading it again, in the "
                      "background while choices go on with it (after a pause of ten "
                      "times as long, before the next choice); 0 reads it for every "
                      "instance."),
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="Hosts tried per instance when claims race with other requests."),
]

filter_opts = [
    cfg.ListOpt("enabled_filters",
                default=["ComputeFilter", "ResourceFilter", "TraitsFilter",
                         "AvailabilityZoneFilter", "ServerGroupAntiAffinityFilter",
                         "ServerGroupAffinityFilter"],
                help="Filters a host must pass, in order. Also available: "
                     "AggregateInstanceExtraSpecsFilter (flavor extra specs against host "
                     "aggregate metadata)."),
    cfg.ListOpt("weighers",
                default=["RAMWeigher", "CPUWeigher", "ServerGroupSoftAffinityWeigher",
                         "ServerGroupSoftAntiAffinityWeigher"],
                help="Weighers ranking the hosts that passed."),
    cfg.FloatOpt("ram_weight_multiplier", default=1.0,
                 help="Positive spreads instances by free RAM, negative stacks them."),
    cfg.FloatOpt("cpu_weight_multiplier", default=1.0,
                 help="Positive spreads instances by free vCPUs, negative stacks them."),
    cfg.FloatOpt("soft_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="How strongly soft-affinity groups pull members onto the same "
                      "host."),
    cfg.FloatOpt("soft_anti_affinity_weight_multiplier", default=1.0, min=0.0,
                 help="How strongly soft-anti-affinity groups push members apart."),
    cfg.IntOpt("host_subset_size", default=1, min=1,
               help="Pick randomly among this many best hosts."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_group(filter_group)
    conf.register_opts(filter_opts, group=filter_group)


def list_opts() -> list:
    return [(group.name, opts), (filter_group.name, filter_opts)]
