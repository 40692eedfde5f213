"""The metadata service and config drive: [DEFAULT] metadata_* and force_config_drive,
[api] metadata_cache_expiration / dhcp_domain / vendordata_jsonfile_path and
[neutron] metadata_proxy_shared_secret, as Nova names them."""

from oslo_config import cfg

default_opts = [
    cfg.StrOpt("metadata_listen", default="0.0.0.0",
               help="Address nova-lite-metadata-api listens on."),
    cfg.PortOpt("metadata_listen_port", default=8775,
                help="Port nova-lite-metadata-api listens on."),
    cfg.IntOpt("metadata_workers", default=8, min=1,
               help="Threads of the metadata service's WSGI server."),
    cfg.BoolOpt("force_config_drive", default=False,
                help="Give every new instance a config drive, whatever the request "
                     "says."),
]

api_opts = [
    cfg.IntOpt("metadata_cache_expiration", default=15, min=0,
               help="Seconds the metadata service reuses an instance's metadata it "
                    "read from the conductor; 0 reads it for every request."),
    cfg.StrOpt("dhcp_domain", default="novalocal",
               help="Domain appended to an instance's hostname in its metadata "
                    "(empty: the bare hostname)."),
    cfg.StrOpt("vendordata_jsonfile_path",
               help="A JSON file served to every instance as vendor_data.json (and "
                    "written to config drives); empty serves {}."),
]

neutron_opts = [
    cfg.StrOpt("metadata_proxy_shared_secret", default="", secret=True,
               help="Secret shared with Neutron's metadata proxy: it signs the "
                    "X-Instance-ID header (HMAC-SHA256) of the requests it forwards. "
                    "The metadata service refuses every request while it is empty."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(default_opts)
    conf.register_group(cfg.OptGroup("api"))
    conf.register_opts(api_opts, group="api")
    conf.register_group(cfg.OptGroup("neutron"))
    conf.register_opts(neutron_opts, group="neutron")


def list_opts() -> list:
    return [("DEFAULT", default_opts), ("api", api_opts), ("neutron", neutron_opts)]
