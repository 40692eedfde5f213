"""Cinder's v3 API over a keystoneauth1 session ([cinder]), with Nova's error mapping.

Volumes are attached through the attachments API as Nova does (3.44): the API creates
an attachment without a connector (reserving the volume), the compute host updates it
with its connector (Cinder exports the volume and answers its connection_info), marks
it complete once the guest has the disk, and deletes it on detach (which also releases
a reservation that never got a connector).

Where Cinder is: ``[cinder] endpoint_template`` (``%(project_id)s`` is the caller's
project), else the catalog entry ``catalog_info`` names, found with the ``[cinder]``
service user. Who asks: the user whose token the RequestContext carries, with the
service user's token beside it as the service token (so Cinder accepts a user token that
expired during a long operation, and trusts attachment deletes as Nova's), or the service
user's token as both when no user token is at hand.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import service_token, token_endpoint

from nova_lite import exception, keystone_session

LOG = logging.getLogger(__name__)

MICROVERSION = "3.44"  # attachments with os-complete
REIMAGE_MICROVERSION = "3.68"  # os-reimage (with reimage_reserved)
_RETRY_STATUS = (502, 503, 504)
# A 500 may be a backend's passing trouble (a storage monitor that refuses a command
# under load); asked again only where asking twice cannot do a thing twice.
_IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE")
_CONNECT_ERRORS = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                   ks_exc.UnknownConnectionError)
# Volume states from which an attachment may be created (Cinder's own rule).
ATTACHABLE = ("available", "downloading")


def parse_catalog_info(value: str) -> tuple[str, Optional[str], str]:
    """``type:name:endpointType`` → (service_type, service_name or None, interface)."""
    service_type, service_name, endpoint_type = value.split(":", 2)
    interface = endpoint_type[:-3] if endpoint_type.endswith("URL") else endpoint_type
    return service_type, service_name or None, interface or "public"


def translate_attachment(doc: dict) -> dict:
    """Cinder's attachment with Nova's connection_info shape: the driver's keys under
    ``data``, ``driver_volume_type`` and ``attachment_id`` beside it ({} before the
    attachment has a connector)."""
    out = dict(doc)
    flat = dict(doc.get("connection_info") or {})
    info: dict = {}
    if flat:
        flat.pop("attachment_id", None)
        info = {"driver_volume_type": flat.pop("driver_volume_type", None),
                "data": flat, "attachment_id": doc.get("id")}
    out["connection_info"] = info
    return out


# -- the checks Nova makes before it asks Cinder to attach ----------------------------------

def check_not_attached_to(volume: dict, instance_uuid: str) -> None:
    """InvalidVolume when ``volume`` already has an attachment to this server."""
    for att in volume.get("attachments") or []:
        if att.get("server_id") == instance_uuid:
            raise exception.InvalidVolume(
                reason=f"volume {volume['id']} already attached")


def check_attach(volume: dict, instance_uuid: Optional[str] = None) -> None:
    """InvalidVolume unless ``volume`` can take a new attachment: available, or in-use
    and multiattach (never twice to one server)."""
    if instance_uuid:
        check_not_attached_to(volume, instance_uuid)
    status = volume.get("status")
    if status in ATTACHABLE:
        return
    if status == "in-use" and volume.get("multiattach"):
        return
    raise exception.InvalidVolume(
        reason=f"volume '{volume['id']}' status must be 'available'. Currently in "
               f"'{status}'")


def check_multiattach(volume: dict, supported: bool) -> None:
    """MultiattachNotSupportedOldMicroversion (400) for a multiattach volume asked for
    below compute API 2.60, where clients do not expect a volume shared by servers."""
    if volume.get("multiattach") and not supported:
        raise exception.MultiattachNotSupportedOldMicroversion()


def check_availability_zone(volume: dict, instance_az: Optional[str],
                            cross_az_attach: bool) -> None:
    """InvalidVolume when cross_az_attach is off and the volume's zone is not the
    server's."""
    if cross_az_attach or instance_az is None:
        return
    if volume.get("availability_zone") != instance_az:
        raise exception.InvalidVolume(
            reason=f"Server and volume {volume['id']} are not in the same "
                   f"availability_zone. Server is in {instance_az}. Volume is in "
                   f"{volume.get('availability_zone')}")


class API:
    """The Cinder calls nova_lite makes; every error is a nova_lite exception."""

    def __init__(self, session: Any, endpoint_template: Optional[str] = None,
                 find_endpoint: Any = None, user_tokens: bool = True,
                 http_retries: int = 3, cross_az_attach: bool = True,
                 retry_backoff: float = 0.5) -> None:
        """``session``: a keystoneauth1 Session (its auth is the service user, or None).
        ``endpoint_template`` or ``find_endpoint()`` (the catalog) give Cinder's URL.
        ``user_tokens``: contexts carry Keystone tokens that requests should use.
        ``retry_backoff``: seconds before the first retry, doubled for each next one."""
        self.session = session
        self.endpoint_template = endpoint_template
        self.find_endpoint = find_endpoint
        self.user_tokens = user_tokens
        self.http_retries = http_retries
        self.retry_backoff = retry_backoff
        self.cross_az_attach = cross_az_attach
        self._catalog = keystone_session.CachedEndpoint(
            lambda: self.find_endpoint(),
            lambda reason: exception.CinderConnectionFailed(reason=reason), "volume")

    @classmethod
    def from_conf(cls, conf: Any) -> "API":
        """The client [cinder] describes (ConfigError when it names no way to Cinder)."""
        c = conf.cinder
        find = None
        if not c.endpoint_template:
            if not c.auth_type:
                raise exception.ConfigError(
                    reason="[cinder] needs endpoint_template or service credentials "
                           "(auth_type, auth_url, ...) to find Cinder")
            service_type, service_name, interface = parse_catalog_info(c.catalog_info)

            def find() -> Optional[str]:
                sess = keystone_session.get_session(conf, "cinder")
                return sess.get_endpoint(service_type=service_type,
                                         service_name=service_name, interface=interface,
                                         region_name=c.os_region_name)
        return cls(keystone_session.get_session(conf, "cinder"), c.endpoint_template,
                   find, user_tokens=conf.api.auth_strategy == "keystone",
                   http_retries=c.http_retries, cross_az_attach=c.cross_az_attach)

    # -- transport -------------------------------------------------------------------

    def _base(self, ctx: Any, refresh: bool) -> str:
        project_id = getattr(ctx, "project_id", None)
        if self.endpoint_template:
            return (self.endpoint_template % {"project_id": project_id or "",
                                              "tenant": project_id or ""}).rstrip("/")
        url = self._catalog.get(refresh)
        # A catalog URL may end with the service user's project: use the caller's.
        own = self._service_project()
        if project_id and own and url.endswith("/" + own):
            url = url[: -len(own)] + project_id
        return url

    def _service_project(self) -> Optional[str]:
        try:
            return self.session.get_project_id() if self.session.auth else None
        except ks_exc.ClientException:
            return None

    def _auth(self, ctx: Any) -> Any:
        """The user's token with the service user's as the service token; the service
        user's as both without a user token (Cinder trusts attachment deletes that carry
        a service token as Nova's, and asks Nova about the others)."""
        token = getattr(ctx, "auth_token", None) if ctx is not None else None
        service = self.session.auth
        if not (token and self.user_tokens):
            if service is None:
                return None
            return service_token.ServiceTokenAuthWrapper(service, service)
        user = token_endpoint.Token(None, token)
        if service is None:
            return user
        return service_token.ServiceTokenAuthWrapper(user, service)

    def _request(self, ctx: Any, method: str, path: str,
                 microversion: str = MICROVERSION, **kwargs: Any) -> Any:
        rid = getattr(ctx, "global_request_id", None) or getattr(ctx, "request_id", None)
        attempts = self.http_retries + 1
        last: Any = None
        retry_on = _RETRY_STATUS + ((500,) if method.upper() in _IDEMPOTENT else ())
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.retry_backoff * 2 ** (attempt - 1))
            url = self._base(ctx, refresh=attempt > 0 and last is not None) + path
            try:
                resp = self.session.request(
                    url, method, auth=self._auth(ctx), raise_exc=False,
                    headers={"OpenStack-API-Version": f"volume {microversion}"},
                    global_request_id=rid, **kwargs)
            except _CONNECT_ERRORS as err:
                last = err
                LOG.warning("Cinder at %s unreachable (attempt %d of %d): %s", url,
                            attempt + 1, attempts, err)
                continue
            except ks_exc.ClientException as err:  # auth failures, missing endpoints
                raise exception.CinderConnectionFailed(reason=str(err)) from err
            if resp.status_code in retry_on and attempt + 1 < attempts:
                last = None
                LOG.warning("Cinder answered %s to %s %s (attempt %d of %d): %s",
                            resp.status_code, method, path, attempt + 1, attempts,
                            self._message(resp))
                continue
            return resp
        raise exception.CinderConnectionFailed(reason=str(last or "no answer"))

    @staticmethod
    def _message(resp: Any) -> str:
        try:
            doc = resp.json()
            if isinstance(doc, dict) and len(doc) == 1:
                inner = next(iter(doc.values()))
                if isinstance(inner, dict) and inner.get("message"):
                    return str(inner["message"])
        except ValueError:
            pass
        return (resp.text or "").strip().replace("\n", " ")[:300]

    def _call(self, ctx: Any, method: str, path: str, not_found: Any,
              ok: tuple = (200, 202), **kwargs: Any) -> Any:
        """One call; ``not_found()`` is the exception a 404 becomes."""
        resp = self._request(ctx, method, path, **kwargs)
        if resp.status_code in ok:
            return resp.json() if resp.content else None
        msg = self._message(resp)
        code = resp.status_code
        LOG.debug("cinder %s %s: %s %s", method, path, code, msg)
        if code == 404:
            raise not_found()
        if code == 400:
            raise exception.InvalidInput(reason=msg)
        if code in (401, 403):
            raise exception.Forbidden(f"The block storage service refused: {msg}")
        if code == 409:
            raise exception.Conflict(msg)
        if code == 413:
            raise exception.OverQuota(msg)
        if code >= 500:
            raise exception.CinderConnectionFailed(reason=f"HTTP {code}: {msg}")
        raise exception.NovaLiteException(f"Unexpected answer {code} from Cinder: {msg}")

    # -- volumes ---------------------------------------------------------------------

    def get(self, ctx: Any, volume_id: str) -> dict:
        """Cinder's volume document (status, size, attachments, availability_zone,
        multiattach, ...)."""
        return self._call(ctx, "GET", f"/volumes/{volume_id}",
                          lambda: exception.VolumeNotFound(volume_id=volume_id))["volume"]

    def create(self, ctx: Any, size: int, name: Optional[str],
               description: Optional[str] = None, image_id: Optional[str] = None,
               snapshot_id: Optional[str] = None, volume_type: Optional[str] = None,
               availability_zone: Optional[str] = None) -> dict:
        """A new volume (status ``creating``); a missing snapshot or image is a 400."""
        body: dict[str, Any] = {"size": size, "name": name, "description": description}
        for key, value in (("imageRef", image_id), ("snapshot_id", snapshot_id),
                           ("volume_type", volume_type),
                           ("availability_zone", availability_zone)):
            if value is not None:
                body[key] = value
        missing = snapshot_id or image_id
        return self._call(
            ctx, "POST", "/volumes",
            lambda: exception.InvalidInput(reason=f"{missing} could not be found"),
            json={"volume": body})["volume"]

    def delete(self, ctx: Any, volume_id: str) -> None:
        self._call(ctx, "DELETE", f"/volumes/{volume_id}",
                   lambda: exception.VolumeNotFound(volume_id=volume_id), ok=(202, 204))

    def reimage(self, ctx: Any, volume_id: str, image_id: str,
                reimage_reserved: bool = True) -> None:
        """Ask Cinder to write ``image_id`` over the volume (it answers at once and
        sends volume-reimaged to the servers attached when done). ``reimage_reserved``:
        a volume reserved for a server (attachment without connector) may be re-imaged,
        as a rebuild leaves it; Cinder's refusal (status, image too big) is InvalidVolume."""
        body = {"os-reimage": {"image_id": image_id, "reimage_reserved": reimage_reserved}}
        try:
            self._call(ctx, "POST", f"/volumes/{volume_id}/action",
                       lambda: exception.VolumeNotFound(volume_id=volume_id),
                       microversion=REIMAGE_MICROVERSION, json=body)
        except (exception.InvalidInput, exception.Conflict) as err:
            raise exception.InvalidVolume(reason=err.kwargs.get("reason", str(err))) \
                from err

    def get_all_volume_types(self, ctx: Any) -> list[dict]:
        """The volume types the caller may use (id, name, ...)."""
        return self._call(ctx, "GET", "/types",
                          lambda: exception.CinderConnectionFailed(
                              reason="no volume types resource"))["volume_types"]

    # -- attachments -----------------------------------------------------------------

    def attachment_create(self, ctx: Any, volume_id: str, instance_uuid: str,
                          connector: Optional[dict] = None,
                          mountpoint: Optional[str] = None) -> dict:
        """Reserve ``volume_id`` for the server (no connector) or export it to the host
        ``connector`` describes; a volume Cinder will not attach is InvalidVolume."""
        body: dict[str, Any] = {"volume_uuid": volume_id, "instance_uuid": instance_uuid}
        if connector is not None:
            body["connector"] = dict(connector, **({"mountpoint": mountpoint}
                                                   if mountpoint else {}))
        try:
            doc = self._call(ctx, "POST", "/attachments",
                             lambda: exception.VolumeNotFound(volume_id=volume_id),
                             json={"attachment": body})
        except exception.InvalidInput as err:
            raise exception.InvalidVolume(reason=err.kwargs.get("reason", str(err))) \
                from err
        return translate_attachment(doc["attachment"])

    def attachment_get(self, ctx: Any, attachment_id: str) -> dict:
        doc = self._call(ctx, "GET", f"/attachments/{attachment_id}",
                         lambda: exception.VolumeAttachmentNotFound(
                             attachment_id=attachment_id))
        return translate_attachment(doc["attachment"])

    def attachment_update(self, ctx: Any, attachment_id: str, connector: dict,
                          mountpoint: Optional[str] = None) -> dict:
        """Give the attachment the compute host's connector: Cinder exports the volume
        and the answer carries its connection_info."""
        connector = dict(connector, **({"mountpoint": mountpoint} if mountpoint else {}))
        doc = self._call(ctx, "PUT", f"/attachments/{attachment_id}",
                         lambda: exception.VolumeAttachmentNotFound(
                             attachment_id=attachment_id),
                         json={"attachment": {"connector": connector}})
        return translate_attachment(doc["attachment"])

    def attachment_complete(self, ctx: Any, attachment_id: str) -> None:
        """The guest has the disk: Cinder marks the volume in-use."""
        self._call(ctx, "POST", f"/attachments/{attachment_id}/action",
                   lambda: exception.VolumeAttachmentNotFound(attachment_id=attachment_id),
                   ok=(200, 202, 204), json={"os-complete": None})

    def attachment_delete(self, ctx: Any, attachment_id: str) -> None:
        """Unexport and forget the attachment (the volume is available again when it
        was its last)."""
        self._call(ctx, "DELETE", f"/attachments/{attachment_id}",
                   lambda: exception.VolumeAttachmentNotFound(attachment_id=attachment_id),
                   ok=(200, 202, 204))

    def check_swappable(self, ctx: Any, volume: dict) -> None:
        """MultiattachSwapVolumeNotSupported (400) when a multiattach volume has more
        than one read/write attachment: the other servers would keep writing to the
        volume the guest is copied away from."""
        atts = volume.get("attachments") or []
        if not volume.get("multiattach") or len(atts) < 2:
            return
        writers = 0
        for att in atts:
            try:
                mode = self.attachment_get(ctx, att["attachment_id"]).get("attach_mode")
            except exception.VolumeAttachmentNotFound:
                continue
            writers += mode != "ro"
        if writers > 1:
            raise exception.MultiattachSwapVolumeNotSupported()

    # -- snapshots -------------------------------------------------------------------

    def create_snapshot_force(self, ctx: Any, volume_id: str, name: Optional[str],
                              description: Optional[str]) -> dict:
        """A snapshot of ``volume_id`` even while it is attached."""
        body = {"volume_id": volume_id, "force": True, "name": name,
                "description": description}
        return self._call(ctx, "POST", "/snapshots",
                          lambda: exception.VolumeNotFound(volume_id=volume_id),
                          json={"snapshot": body})["snapshot"]

    def get_snapshot(self, ctx: Any, snapshot_id: str) -> dict:
        return self._call(ctx, "GET", f"/snapshots/{snapshot_id}",
                          lambda: exception.SnapshotNotFound(
                              snapshot_id=snapshot_id))["snapshot"]

    def delete_snapshot(self, ctx: Any, snapshot_id: str) -> None:
        self._call(ctx, "DELETE", f"/snapshots/{snapshot_id}",
                   lambda: exception.SnapshotNotFound(snapshot_id=snapshot_id),
                   ok=(202, 204))

    # -- checks ----------------------------------------------------------------------

    def check_availability_zone(self, volume: dict, instance_az: Optional[str]) -> None:
        """InvalidVolume when [cinder] cross_az_attach forbids this zone pairing."""
        check_availability_zone(volume, instance_az, self.cross_az_attach)
