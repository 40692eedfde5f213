"""[DEFAULT]: identity of this host and the message bus."""

import socket

from oslo_config import cfg

# Nova's default exchange: nova_lite replaces Nova, so its topics live where Nova's did.
CONTROL_EXCHANGE = "nova"

opts = [
    cfg.StrOpt("host", default=socket.gethostname(), sample_default="<hostname>",
               help="Name of this node; compute services use it as their host name."),
    cfg.StrOpt("my_ip", default="127.0.0.1", help="IP address of this host."),
    cfg.StrOpt("state_path", default="/var/lib/nova-lite",
               help="Top-level directory for nova_lite's state (images, instances, "
                    "SQLite files in the embedded mode)."),
    cfg.IntOpt("report_interval", default=10, min=1,
               help="Seconds between service heartbeats."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="A service whose last heartbeat is older than this is down."),
    cfg.StrOpt("compute_driver", default="fake.FakeDriver",
               choices=["fake.FakeDriver", "libvirt.LibvirtDriver"],
               help="Virt driver used by nova-lite-compute."),
    cfg.StrOpt("instances_path", default="$state_path/instances",
               help="Where instance directories and the image cache (_base) live."),
    cfg.StrOpt("instance_name_template", default="instance-%08x",
               help="Hypervisor-level name of an instance, formatted with its id."),
    cfg.StrOpt("osapi_compute_listen", default="0.0.0.0",
               help="Address the compute API listens on."),
    cfg.PortOpt("osapi_compute_listen_port", default=8774,
                help="Port the compute API listens on."),
    cfg.IntOpt("osapi_compute_workers", default=16, min=1,
               help="Threads of the API's WSGI server."),
    cfg.IntOpt("graceful_shutdown_timeout", default=60, min=0,
               help="Seconds a stopping API server (SIGTERM) lets the requests it is "
                    "serving finish after it stopped accepting new connections; the "
                    "connections still busy then are closed."),
    cfg.StrOpt("default_availability_zone", default="nova",
               help="Availability zone of compute hosts that no aggregate puts in one."),
    cfg.StrOpt("default_schedule_zone",
               help="Availability zone given to servers created without one; unset, "
                    "such servers may land in any zone."),
    cfg.StrOpt("internal_service_availability_zone", default="internal",
               help="Availability zone shown for services other than nova-compute."),
    cfg.FloatOpt("cpu_allocation_ratio", default=16.0, min=0.0,
                 help="Virtual CPUs per physical CPU the scheduler may allocate."),
    cfg.FloatOpt("ram_allocation_ratio", default=1.5, min=0.0,
                 help="Virtual RAM per physical RAM the scheduler may allocate."),
    cfg.FloatOpt("disk_allocation_ratio", default=1.0, min=0.0,
                 help="Virtual disk per physical disk the scheduler may allocate."),
    cfg.IntOpt("reserved_host_memory_mb", default=512, min=0,
               help="Memory (MiB) kept back for the host."),
    cfg.IntOpt("reserved_host_disk_mb", default=0, min=0,
               help="Disk (MiB) kept back for the host."),
    cfg.IntOpt("reserved_host_cpus", default=0, min=0,
               help="Physical CPUs kept back for the host."),
    cfg.BoolOpt("allow_resize_to_same_host", default=False,
                help="Let the scheduler keep a resized server on its host (the source "
                     "is otherwise excluded). Read by the conductor."),
    cfg.IntOpt("resize_confirm_window", default=0, min=0,
               help="Seconds after which a resize waiting in VERIFY_RESIZE is confirmed "
                    "automatically by its destination host; 0 disables."),
    cfg.IntOpt("reclaim_instance_interval", default=0, min=0,
               help="When above 0, deleting a server only powers it off (SOFT_DELETED, "
                    "its resources kept, `restore` brings it back); compute hosts delete "
                    "soft-deleted servers for good after this many seconds."),
    cfg.IntOpt("max_local_block_devices", default=3, min=-1,
               help="Most block device mappings with destination_type local a server "
                    "may have (the image root counts); -1: no limit. Checked by the API."),
    cfg.StrOpt("default_ephemeral_format",
               help="Filesystem a new ephemeral disk without a guest_format gets (Nova's "
                    "option: ext2, ext3, ext4, xfs, or ntfs for Windows guests; the "
                    "host needs its mkfs). Unset: the default for the image's os_type "
                    "property: ext4 for linux, ntfs for windows, vfat for any other or "
                    "none. Read by compute hosts."),
    cfg.IntOpt("block_device_allocate_retries", default=60, min=0,
               help="Times a compute host checks again whether a volume it asked Cinder "
                    "to create for a server being built is available before the build "
                    "fails."),
    cfg.IntOpt("block_device_allocate_retries_interval", default=3, min=0,
               help="Seconds between those checks."),
    cfg.IntOpt("reimage_timeout_per_gb", default=20, min=1,
               help="Seconds per GiB of the new image (rounded up) a compute host waits "
                    "for Cinder's volume-reimaged event when it rebuilds a volume-backed "
                    "server (microversion 2.93) before the rebuild fails."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts)
    # transport_url, control_exchange, rpc_response_timeout, executor_thread_pool_size:
    # oslo.messaging owns them; registering them here lets nova-lite-manage read them.
    # The exchange default is set first (as Nova's rpc.set_defaults does): changing it
    # after registration would make oslo.messaging's own registration of the same option
    # a DuplicateOptError whenever nova.conf sets control_exchange.
    import oslo_messaging as messaging
    from oslo_messaging import opts as messaging_opts

    messaging.set_transport_defaults(CONTROL_EXCHANGE)
    for group, group_opts in messaging_opts.list_opts():
        if group in (None, "DEFAULT"):
            conf.register_opts(group_opts)


def list_opts() -> list:
    return [("DEFAULT", opts)]
