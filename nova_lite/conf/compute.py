"""[compute] and [fake_driver]: nova-lite-compute and its drivers."""

from oslo_config import cfg

group = cfg.OptGroup("compute", title="Compute service options")
fake_group = cfg.OptGroup("fake_driver", title="Fake virt driver")

opts = [
    cfg.IntOpt("update_resources_interval", default=60, min=1,
               help="Seconds between reports of this host's resources."),
    cfg.IntOpt("sync_power_state_interval", default=600, min=-1,
               help="Seconds between power-state syncs with the hypervisor; -1 disables."),
    cfg.IntOpt("shutdown_timeout", default=60, min=0,
               help="Seconds a guest gets to shut down cleanly before it is destroyed."),
    cfg.IntOpt("image_cache_manager_interval", default=2400, min=-1,
               help="Seconds between image cache clean-ups; -1 disables."),
]

fake_opts = [
    cfg.IntOpt("vcpus", default=8, min=1, help="vCPUs the fake host reports."),
    cfg.IntOpt("memory_mb", default=16384, min=1, help="Memory (MiB) the fake host reports."),
    cfg.IntOpt("local_gb", default=200, min=1, help="Disk (GiB) the fake host reports."),
    cfg.IntOpt("nodes", default=1, min=1, max=10000,
               help="Nodes this compute service manages, each a compute node, resource "
                    "provider and hypervisor of the [fake_driver] size (as one service "
                    "manages many bare-metal nodes). The first is named after the host, "
                    "the others <host>-n0001, <host>-n0002, ..."),
    cfg.FloatOpt("spawn_delay", default=0.0, min=0.0,
                 help="Seconds each fake spawn takes (to model slow hypervisors)."),
    cfg.FloatOpt("snapshot_delay", default=0.0, min=0.0,
                 help="Seconds each fake snapshot takes (to model large disks)."),
    cfg.FloatOpt("migrate_delay", default=0.0, min=0.0,
                 help="Seconds each step of a fake move (resize) takes on this host."),
    cfg.ListOpt("traits", default=[],
                help="Traits the fake host reports besides COMPUTE_NODE (os-traits names "
                     "or CUSTOM_*), e.g. HW_CPU_X86_AVX2,CUSTOM_FAST_DISK."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_group(fake_group)
    conf.register_opts(fake_opts, group=fake_group)


def list_opts() -> list:
    return [(group.name, opts), (fake_group.name, fake_opts)]
