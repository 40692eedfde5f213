"""The compute API WSGI application: routing, microversions, faults and request ids.

Middleware order, outermost first: request id (so every response, 401s included, carries
x-openstack-request-id) -> authentication (puts the RequestContext in the environ) ->
ComputeApp (routes to a handler and turns whatever it raises into Nova's fault body).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, Optional

import oslo_messaging as messaging
import routes
import webob

from nova_lite import context as nl_context
from nova_lite import rpc
from nova_lite import exception
from nova_lite.api import auth, microversion, wsgi
from nova_lite.api.handlers import (aggregates, availability_zones, console_auth_tokens,
                                    flavor_access, flavor_extra_specs, flavors, hypervisors,
                                    images, instance_actions, interfaces, ips, keypairs,
                                    limits, quota_class_sets, quota_sets, remote_consoles,
                                    security_groups, server_actions, server_diagnostics,
                                    server_external_events, server_groups, server_metadata,
                                    server_moves, server_password, server_tags, servers,
                                    services, simple_tenant_usage, versions)
from nova_lite.api.handlers import image_metadata
from nova_lite.api.handlers import migrations, server_migrations, volume_attachments

LOG = logging.getLogger(__name__)

CONTEXT_KEY = "nova_lite.context"
# Reconnections to the message bus an API request waits for (a few seconds) before it
# answers 503: held through a whole outage, requests would use up the server's threads.
SEND_RETRIES = 2

# (path below /v2.1[/{project_id}], {method: handler}); more specific paths first.
ROUTES: tuple[tuple[str, dict[str, Callable]], ...] = (
    ("/servers", {"GET": servers.index, "POST": servers.create}),
    ("/servers/detail", {"GET": servers.detail}),
    ("/servers/{id}", {"GET": servers.show, "PUT": servers.update,
                       "DELETE": servers.delete}),
    ("/servers/{id}/action", {"POST": server_actions.action}),
    ("/servers/{server_id}/migrations/{id}/action", {"POST": server_moves.force_complete}),
    ("/servers/{server_id}/ips", {"GET": ips.index}),
    ("/servers/{server_id}/ips/{id}", {"GET": ips.show}),
    ("/servers/{server_id}/os-interface", {"GET": interfaces.index,
                                           "POST": interfaces.create}),
    ("/servers/{server_id}/os-interface/{id}", {"GET": interfaces.show,
                                                "DELETE": interfaces.delete}),
    ("/servers/{server_id}/os-security-groups", {"GET": security_groups.index}),
    ("/os-server-external-events", {"POST": server_external_events.create}),
    ("/servers/{server_id}/os-volume_attachments", {"GET": volume_attachments.index,
                                                    "POST": volume_attachments.create}),
    ("/servers/{server_id}/os-volume_attachments/{id}", {
        "GET": volume_attachments.show, "PUT": volume_attachments.update,
        "DELETE": volume_attachments.delete}),
    ("/servers/{server_id}/metadata", {"GET": server_metadata.index,
                                       "POST": server_metadata.create,
                                       "PUT": server_metadata.update_all}),
    ("/servers/{server_id}/metadata/{key}", {"GET": server_metadata.show,
                                             "PUT": server_metadata.update,
                                             "DELETE": server_metadata.delete}),
    ("/servers/{server_id}/tags", {"GET": server_tags.index, "PUT": server_tags.update_all,
                                   "DELETE": server_tags.delete_all}),
    ("/servers/{server_id}/tags/{tag}", {"GET": server_tags.show, "PUT": server_tags.update,
                                         "DELETE": server_tags.delete}),
    ("/servers/{server_id}/os-instance-actions", {"GET": instance_actions.index}),
    ("/servers/{server_id}/diagnostics", {"GET": server_diagnostics.index}),
    ("/servers/{server_id}/os-instance-actions/{id}", {"GET": instance_actions.show}),
    ("/servers/{server_id}/migrations", {"GET": server_migrations.index}),
    ("/servers/{server_id}/migrations/{id}", {"GET": server_migrations.show,
                                              "DELETE": server_moves.abort}),
    ("/servers/{server_id}/remote-consoles", {"POST": remote_consoles.create}),
    ("/servers/{server_id}/os-server-password", {"GET": server_password.show,
                                                 "DELETE": server_password.clear}),
    ("/flavors", {"GET": flavors.index, "POST": flavors.create}),
    ("/flavors/detail", {"GET": flavors.detail}),
    ("/flavors/{id}", {"GET": flavors.show, "PUT": flavors.update,
                       "DELETE": flavors.delete}),
    ("/flavors/{id}/action", {"POST": flavor_access.action}),
    ("/flavors/{flavor_id}/os-flavor-access", {"GET": flavor_access.index}),
    ("/flavors/{flavor_id}/os-extra_specs", {"GET": flavor_extra_specs.index,
                                             "POST": flavor_extra_specs.create}),
    ("/flavors/{flavor_id}/os-extra_specs/{id}", {"GET": flavor_extra_specs.show,
                                                  "PUT": flavor_extra_specs.update,
                                                  "DELETE": flavor_extra_specs.delete}),
    ("/os-server-groups", {"GET": server_groups.index, "POST": server_groups.create}),
    ("/os-server-groups/{id}", {"GET": server_groups.show, "DELETE": server_groups.delete}),
    ("/os-aggregates", {"GET": aggregates.index, "POST": aggregates.create}),
    ("/os-aggregates/{id}", {"GET": aggregates.show, "PUT": aggregates.update,
                             "DELETE": aggregates.delete}),
    ("/os-aggregates/{id}/action", {"POST": aggregates.action}),
    ("/os-availability-zone", {"GET": availability_zones.index}),
    ("/os-availability-zone/detail", {"GET": availability_zones.detail}),
    ("/images", {"GET": images.index}),
    ("/images/detail", {"GET": images.detail}),
    ("/images/{id}", {"GET": images.show, "DELETE": images.delete}),
    ("/images/{image_id}/metadata", {"GET": image_metadata.index,
                                     "POST": image_metadata.create,
                                     "PUT": image_metadata.update_all}),
    ("/images/{image_id}/metadata/{id}", {"GET": image_metadata.show,
                                          "PUT": image_metadata.update,
                                          "DELETE": image_metadata.delete}),
    ("/os-services", {"GET": services.index}),
    ("/os-services/{id}", {"PUT": services.update, "DELETE": services.delete}),
    ("/os-migrations", {"GET": migrations.index}),
    ("/os-console-auth-tokens/{id}", {"GET": console_auth_tokens.show}),
    ("/os-hypervisors", {"GET": hypervisors.index}),
    ("/os-hypervisors/detail", {"GET": hypervisors.detail}),
    ("/os-hypervisors/statistics", {"GET": hypervisors.statistics}),
    ("/os-hypervisors/{id}", {"GET": hypervisors.show}),
    ("/os-hypervisors/{id}/uptime", {"GET": hypervisors.uptime}),
    ("/os-hypervisors/{id}/search", {"GET": hypervisors.search}),
    ("/os-hypervisors/{id}/servers", {"GET": hypervisors.servers}),
    ("/os-quota-sets/{id}", {"GET": quota_sets.show, "PUT": quota_sets.update,
                             "DELETE": quota_sets.delete}),
    ("/os-quota-sets/{id}/detail", {"GET": quota_sets.detail}),
    ("/os-quota-sets/{id}/defaults", {"GET": quota_sets.defaults}),
    ("/os-quota-class-sets/{id}", {"GET": quota_class_sets.show,
                                   "PUT": quota_class_sets.update}),
    ("/limits", {"GET": limits.index}),
    ("/os-keypairs", {"GET": keypairs.index, "POST": keypairs.create}),
    ("/os-keypairs/{id}", {"GET": keypairs.show, "DELETE": keypairs.delete}),
    ("/os-simple-tenant-usage", {"GET": simple_tenant_usage.index}),
    ("/os-simple-tenant-usage/{id}", {"GET": simple_tenant_usage.show}),
)
COLLECTIONS = frozenset(path.split("/")[1] for path, _ in ROUTES)
_API_ROOTS = {"v2.1": "v2.1", "v2": "v2.0"}


class ComputeApp:
    """Dispatches /v2.1 requests to handlers; serves the version documents."""

    def __init__(self, conf: Any, conductor_api: Any, image_api: Any,
                 network_api: Any = None, volume_api: Any = None) -> None:
        self.conf = conf
        self.conductor = conductor_api
        self.images = image_api
        self.network = network_api
        self.volumes = volume_api
        self.mapper = routes.Mapper()
        for n, (path, _methods) in enumerate(ROUTES):
            self.mapper.connect(path, _route=n)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        req = webob.Request(environ)
        start = time.monotonic()
        ctx = environ.get(CONTEXT_KEY)
        if ctx is not None:
            ctx.update_store()  # so this request's log lines carry its ids
        try:
            resp = self.handle(req)
            LOG.info("%s %s status: %s len: %s microversion: %s time: %.4f", req.method,
                     req.path_qs, resp.status_int, resp.content_length,
                     resp.headers.get(microversion.LEGACY_HEADER, "-"),
                     time.monotonic() - start)
        finally:
            nl_context.clear_current()
        return resp(environ, start_response)

    def handle(self, req: webob.Request) -> webob.Response:
        path = req.path_info
        if path in ("", "/"):
            if req.method not in ("GET", "HEAD"):
                return wsgi.fault_response(405, "The method is not allowed for this "
                                                "resource.", [("Allow", "GET")])
            # Nova answers the unversioned root with 200 and the list of versions.
            return wsgi.reply_response(wsgi.Reply(200, versions.all_versions(req)))
        root, _, rest = path.lstrip("/").partition("/")
        if root not in _API_ROOTS:
            return wsgi.fault_response(404, "The resource could not be found.")
        if not rest:
            return wsgi.reply_response(
                wsgi.Reply(200, versions.one_version(req, _API_ROOTS[root])))
        legacy = root == "v2"
        try:
            ver = microversion.MIN_VERSION if legacy else microversion.negotiate(req.headers)
        except microversion.VersionError as e:
            return wsgi.fault_response(e.code, e.message)
        resp = self._dispatch(req, ver, "/" + rest)
        if not legacy:
            for k, v in microversion.response_headers(ver):
                resp.headers[k] = v
        return resp

    def _dispatch(self, req: webob.Request, ver: microversion.Version, rest: str
                  ) -> webob.Response:
        ctx: Optional[nl_context.RequestContext] = req.environ.get(CONTEXT_KEY)
        try:
            if ctx is None:
                return wsgi.fault_response(401, "Authentication required")
            rest, prefix = self._strip_project(ctx, rest)
            match = self.mapper.match(rest)
            if match is None:
                raise wsgi.not_found()
            methods = ROUTES[int(match.pop("_route"))][1]
            handler = methods.get(req.method)
            if handler is None:
                raise wsgi.HTTPError(405, "The method is not allowed for this resource.",
                                     [("Allow", ", ".join(sorted(methods)))])
            LOG.debug("%s %s at %s: calling %s.%s", req.method, rest, microversion.to_str(ver),
                      handler.__module__, handler.__name__)
            api_req = wsgi.ApiRequest(req, ctx, ver, self.conf, self.conductor, self.images,
                                      prefix, network=self.network,
                                      volumes=self.volumes)
            return wsgi.reply_response(handler(api_req, **match))
        except wsgi.HTTPError as e:
            return wsgi.fault_response(e.code, e.message, e.headers)
        except exception.NovaLiteException as e:
            if e.code >= 500:
                log = LOG.warning if e.code == 503 else LOG.error
                log("%s %s failed: %s", req.method, req.path, e.format_message())
            return wsgi.exception_response(e)
        except rpc.BUS_UNREACHABLE:
            LOG.warning("%s %s: the message bus is unreachable", req.method, req.path)
            return wsgi.unavailable("The message bus is unreachable; the request was not "
                                    "carried out. Retry shortly.")
        except messaging.MessagingTimeout:
            LOG.error("%s %s: timed out waiting for the conductor", req.method, req.path)
            return wsgi.unavailable("The request timed out waiting for a reply from the "
                                    "conductor; it may still complete.")
        except Exception as e:  # a 500 is a bug: log it whole
            LOG.exception("Unexpected error serving %s %s", req.method, req.path)
            return wsgi.fault_response(
                500, "Unexpected API Error. Please report this to the operator with the "
                     f"request id. {type(e).__name__}")

    @staticmethod
    def _strip_project(ctx: nl_context.RequestContext, rest: str) -> tuple[str, str]:
        """Drop an optional leading /{project_id} (Nova accepts URLs with and without)."""
        first, sep, tail = rest.lstrip("/").partition("/")
        if first in COLLECTIONS or not sep:
            return rest, ""
        if tail.partition("/")[0] not in COLLECTIONS:
            raise wsgi.not_found()
        if first != ctx.project_id:
            raise wsgi.bad_request(f"Malformed request URL: URL's project_id '{first}' "
                                   f"doesn't match Context's project_id "
                                   f"'{ctx.project_id}'")
        return "/" + tail, "/" + first


def build_app(conf: Any, conductor_api: Any = None, image_api: Any = None,
              network_api: Any = None, volume_api: Any = None) -> Callable:
    """The complete API WSGI callable. Real backends are made from conf when not given."""
    if conductor_api is None:
        from nova_lite.api.flavor_cache import FlavorCachingConductor
        from nova_lite.conductor import rpcapi

        conductor_api = FlavorCachingConductor(rpcapi.ConductorAPI(send_retries=SEND_RETRIES),
                                               conf.api.flavor_cache_seconds)
    if image_api is None:
        from nova_lite.image import api as image_mod

        image_api = image_mod.get_image_api(conf)
    if network_api is None:
        from nova_lite.network import api as network_mod

        network_api = (network_mod.get_network_api(conf) if hasattr(conf, "neutron")
                       else network_mod.NoNetworkAPI())
    if volume_api is None and hasattr(conf, "cinder"):
        from nova_lite import volume

        volume_api = volume.get_api(conf)
    app = ComputeApp(conf, conductor_api, image_api, network_api, volume_api)
    from nova_lite.api import healthcheck, middleware

    return middleware.build_pipeline(
        auth.build_auth_middleware(app, conf), conductor_api,
        auth.build_auth_middleware(healthcheck.whoami_app, conf))
