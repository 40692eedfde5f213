"""[image] (which image backend) and the image options of [glance].

[glance]'s keystoneauth1 options (auth_type, auth_url, username, ..., endpoint_override,
valid_interfaces, region_name) are declared with the other service clients in
nova_lite.conf.keystone; the options below are the ones Nova adds to them.
"""

from oslo_config import cfg

group = cfg.OptGroup("image", title="Image service options")
glance_group = cfg.OptGroup("glance", title="Image service (Glance) client options")

opts = [
    cfg.StrOpt("backend", default="auto", choices=["auto", "glance", "local"],
               help="Where images come from. glance: a Glance v2 service ([glance]); "
                    "local: a directory on this host (local_store_path), for the "
                    "all-in-one nova-lite-all only, since it is not shared between "
                    "hosts; auto: glance when [glance] names servers, an endpoint or "
                    "credentials, else local."),
    cfg.StrOpt("local_store_path", default="$state_path/images",
               help="Directory of the local image store (backend local)."),
]

glance_opts = [
    cfg.ListOpt("api_servers",
                help="Glance endpoints (e.g. http://controller:9292), tried in turn when "
                     "one cannot be reached; empty means endpoint_override or the "
                     "catalog's image endpoint."),
    cfg.IntOpt("num_retries", default=3, min=0,
               help="Times a request to Glance is retried after a connection failure "
                    "or a 503, moving to the next of api_servers."),
    cfg.BoolOpt("verify_glance_signatures", default=False,
                help="Verify image signatures. Not supported: nova-lite refuses to "
                     "start when it is set rather than boot unverified images."),
    cfg.IntOpt("download_chunk_size", default=1024 * 1024, min=4096,
               help="Bytes read and written at a time while streaming an image."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_group(glance_group)
    conf.register_opts(glance_opts, group=glance_group)


def list_opts() -> list:
    return [(group.name, opts), (glance_group.name, glance_opts)]
