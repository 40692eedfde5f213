"""Graphical consoles: [vnc], [consoleauth], [console] and [DEFAULT] web, as Nova names
them. The [vnc] options are read on compute hosts (the guest's VNC server and the URL
handed to users) and by nova-lite-novncproxy (where it listens)."""

from oslo_config import cfg

vnc_group = cfg.OptGroup("vnc", title="VNC console options")
consoleauth_group = cfg.OptGroup("consoleauth", title="Console token options")
console_group = cfg.OptGroup("console", title="Console proxy options")

vnc_opts = [
    cfg.BoolOpt("enabled", default=True,
                help="Give guests a VNC graphics device and serve VNC consoles."),
    cfg.StrOpt("server_listen", default="127.0.0.1",
               help="Address the guests' VNC servers listen on (on the compute host)."),
    cfg.StrOpt("server_proxyclient_address", default="127.0.0.1",
               help="Address of this compute host that nova-lite-novncproxy connects "
                    "to for its guests' VNC servers."),
    cfg.URIOpt("novncproxy_base_url", default="http://127.0.0.1:6080/vnc_lite.html",
               help="Public URL of the noVNC page of nova-lite-novncproxy; console "
                    "URLs are this plus the token."),
    cfg.StrOpt("novncproxy_host", default="0.0.0.0",
               help="Address nova-lite-novncproxy listens on."),
    cfg.PortOpt("novncproxy_port", default=6080,
                help="Port nova-lite-novncproxy listens on."),
]

consoleauth_opts = [
    cfg.IntOpt("token_ttl", default=600, min=0,
               help="Seconds a console token stays valid."),
]

console_opts = [
    cfg.ListOpt("allowed_origins", default=[],
                help="Origins (host names) besides the proxy's own that may open "
                     "console websockets, e.g. a dashboard's host."),
]

default_opts = [
    cfg.StrOpt("web", default="/usr/share/novnc",
               help="Directory of the noVNC web client nova-lite-novncproxy serves "
                    "(Debian package novnc)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, opts in ((vnc_group, vnc_opts), (consoleauth_group, consoleauth_opts),
                        (console_group, console_opts)):
        conf.register_group(group)
        conf.register_opts(opts, group=group)
    conf.register_opts(default_opts)


def list_opts() -> list:
    return [("DEFAULT", default_opts), (vnc_group.name, vnc_opts),
            (consoleauth_group.name, consoleauth_opts), (console_group.name, console_opts)]
