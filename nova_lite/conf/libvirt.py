"""[libvirt]: the libvirt virt driver."""

from oslo_config import cfg

group = cfg.OptGroup("libvirt", title="Libvirt driver options")

opts = [
    cfg.StrOpt("virt_type", default="kvm", choices=["kvm", "qemu"],
               help="kvm needs a usable /dev/kvm; qemu is software emulation (TCG)."),
    cfg.StrOpt("connection_uri", default="",
               help="libvirt URI; empty means qemu:///system."),
    cfg.BoolOpt("user_mode_network", default=False,
                help="Give a guest that has no Neutron port a QEMU user-mode NIC (slirp): "
                     "it gets 10.0.2.15 by DHCP and reaches out through the host (host "
                     "services at 10.0.2.2), nothing reaches in. For hosts without Neutron, "
                     "e.g. the all-in-one quickstart."),
    cfg.BoolOpt("remove_unused_base_images", default=True,
                help="Let the image cache clean-up delete cached base images "
                     "(<instances_path>/_base) that no instance on this host uses."),
    cfg.StrOpt("live_migration_uri", default="qemu+tcp://%s/system",
               help="libvirt URI of a live migration's destination (peer to peer: this "
                    "host's libvirtd connects to it); %s is the destination host's name."),
    cfg.IntOpt("live_migration_bandwidth", default=0, min=0,
               help="Most MiB/s a live migration may use; 0 lets libvirt choose."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts() -> list:
    return [(group.name, opts)]
