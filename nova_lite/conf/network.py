"""[neutron] (beyond its keystoneauth options, see keystone.py) and VIF plugging."""

from oslo_config import cfg

neutron_opts = [
    cfg.StrOpt("ovs_bridge", default="br-int",
               help="The Open vSwitch integration bridge a port is plugged into when its "
                    "binding does not name one (vif_details bridge_name)."),
]

vif_opts = [
    cfg.IntOpt("vif_plugging_timeout", default=300, min=0,
               help="Seconds a compute host waits for Neutron's network-vif-plugged event "
                    "after starting a guest paused; 0 starts it without waiting."),
    cfg.BoolOpt("vif_plugging_is_fatal", default=True,
                help="A build whose network-vif-plugged events do not all arrive in time "
                     "fails (ERROR with a fault); False boots the guest anyway."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(neutron_opts, group="neutron")
    conf.register_opts(vif_opts)


def list_opts() -> list:
    return [("neutron", neutron_opts), ("DEFAULT", vif_opts)]
