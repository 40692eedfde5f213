"""A small Neutron v2.0 client on a keystoneauth1 adapter ([neutron] section).

Only the calls nova_lite makes; every error becomes a nova_lite exception with the
status Neutron answered, so callers never see HTTP. The adapter is built from
[neutron] (auth_type, auth_url, ..., endpoint_override, region_name): with
``auth_type = none`` and ``endpoint_override`` it talks to a noauth Neutron.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from keystoneauth1 import exceptions as ks_exc

from nova_lite import exception

LOG = logging.getLogger(__name__)


class NeutronError(exception.NovaLiteException):
    """Neutron answered an error; ``code`` is its status, ``neutron_type`` its type."""

    msg_fmt = "Neutron error: %(reason)s"
    code = 500

    def __init__(self, status: int, neutron_type: str, message: str) -> None:
        super().__init__(f"{message}")
        self.status = status
        self.neutron_type = neutron_type


class NeutronUnavailable(exception.NovaLiteException):
    msg_fmt = "The network service is unavailable: %(reason)s"
    code = 503


class NeutronClient:
    """Neutron's REST API through an adapter that adds the token and finds the URL."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    # -- plumbing ------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None,
                 params: Optional[dict] = None) -> Any:
        url = "/v2.0" + path
        try:
            resp = self.adapter.request(url, method, json=body, params=params,
                                        raise_exc=False)
        except ks_exc.ClientException as err:  # connection refused, no endpoint, auth
            raise NeutronUnavailable(reason=str(err)) from err
        if resp.status_code >= 400:
            ntype, message = "", resp.text[:500]
            try:
                err = resp.json().get("NeutronError") or {}
                ntype, message = err.get("type", ""), err.get("message", message)
            except ValueError:
                pass
            LOG.debug("neutron %s %s: %s %s", method, url, resp.status_code, message)
            raise NeutronError(resp.status_code, ntype, message)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def _list(self, collection: str, **filters: Any) -> list[dict]:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._request("GET", f"/{collection}", params=params)[collection]

    # -- networks, subnets ------------------------------------------------------------------
    def list_networks(self, **filters: Any) -> list[dict]:
        return self._list("networks", **filters)

    def show_network(self, network_id: str) -> dict:
        return self._request("GET", f"/networks/{network_id}")["network"]

    def list_subnets(self, **filters: Any) -> list[dict]:
        return self._list("subnets", **filters)

    def show_auto_allocated_topology(self, project_id: str) -> dict:
        return self._request("GET", f"/auto-allocated-topology/{project_id}")[
            "auto_allocated_topology"]

    # -- ports ------------------------------------------------------------------------------
    def list_ports(self, **filters: Any) -> list[dict]:
        return self._list("ports", **filters)

    def show_port(self, port_id: str) -> dict:
        return self._request("GET", f"/ports/{port_id}")["port"]

    def create_port(self, body: dict) -> dict:
        return self._request("POST", "/ports", {"port": body})["port"]

    def update_port(self, port_id: str, body: dict) -> dict:
        return self._request("PUT", f"/ports/{port_id}", {"port": body})["port"]

    def delete_port(self, port_id: str) -> None:
        self._request("DELETE", f"/ports/{port_id}")

    def show_quota_details(self, project_id: str) -> dict:
        """{resource: {"limit", "used", "reserved"}} of a project."""
        return self._request("GET", f"/quotas/{project_id}/details")["quota"]

    # -- security groups and floating IPs ---------------------------------------------------
    def list_security_groups(self, **filters: Any) -> list[dict]:
        return self._list("security_groups", **filters)

    def list_floatingips(self, **filters: Any) -> list[dict]:
        return self._list("floatingips", **filters)


def is_not_found(err: Exception) -> bool:
    return isinstance(err, NeutronError) and err.status == 404


def client_from_conf(conf: Any) -> NeutronClient:
    from nova_lite import keystone_session

    return NeutronClient(keystone_session.get_adapter(conf, "neutron"))
