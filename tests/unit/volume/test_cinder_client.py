"""The Cinder client against a fake transport (requests-mock under a real keystoneauth1
session): URLs, tokens, microversion, retries, connection_info's shape, error mapping."""

from __future__ import annotations

import pytest
import requests
import requests_mock
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_config import cfg

from nova_lite import exception
from nova_lite.context import RequestContext
from nova_lite.volume import cinder

KEYSTONE = "http://keystone.test:5000/v3"
CINDER = "http://cinder.test:8776/v3"
SERVICE_PROJECT = "5e1"
VOL = "9b2a0c5e-3c35-4b8e-9a53-0c1d8c3c0c01"
ATT = "7d5c1e43-9a2e-4d16-8c26-1b2c3d4e5f60"
INST = "2f0b3c2a-1111-4c2b-9999-0a0b0c0d0e0f"


def ctx(token: str = "tok-a", project: str = "proj-a") -> RequestContext:
    return RequestContext(user_id="u", project_id=project, roles=["member"],
                          auth_token=token, global_request_id="req-g")


@pytest.fixture
def http():
    with requests_mock.Mocker() as m:
        m.post(f"{KEYSTONE}/auth/tokens", json=_token(),
               headers={"X-Subject-Token": "service-token"})
        yield m


def _token() -> dict:
    """A Keystone v3 token whose catalog has Cinder (public URL with the project)."""
    endpoints = [{"id": "e1", "interface": "public", "region": "r1", "region_id": "r1",
                  "url": f"{CINDER}/{SERVICE_PROJECT}"},
                 {"id": "e2", "interface": "internal", "region": "r1", "region_id": "r1",
                  "url": "http://internal.test/v3"}]
    return {"token": {
        "methods": ["password"], "expires_at": "2999-01-01T00:00:00.000000Z",
        "user": {"id": "nova", "name": "nova", "domain": {"id": "default"}},
        "project": {"id": SERVICE_PROJECT, "name": "service", "domain": {"id": "default"}},
        "roles": [{"id": "r", "name": "admin"}],
        "catalog": [{"id": "s1", "type": "volumev3", "name": "cinderv3",
                     "endpoints": endpoints}]}}


def catalog_client(**kwargs) -> cinder.API:
    auth = v3.Password(auth_url=KEYSTONE, username="nova", password="p",
                       project_name="service", user_domain_id="default",
                       project_domain_id="default")
    sess = ks_session.Session(auth=auth)

    def find():
        return sess.get_endpoint(service_type="volumev3", interface="public",
                                 region_name="r1")
    return cinder.API(sess, find_endpoint=find, **kwargs)


def test_catalog_endpoint_with_the_callers_project_and_both_tokens(http):
    http.get(f"{CINDER}/proj-a/volumes/{VOL}", json={"volume": {"id": VOL}})
    assert catalog_client().get(ctx(), VOL) == {"id": VOL}
    req = http.request_history[-1]
    assert req.headers["X-Auth-Token"] == "tok-a"
    assert req.headers["X-Service-Token"] == "service-token"
    assert req.headers["OpenStack-API-Version"] == "volume 3.44"
    assert req.headers["X-OpenStack-Request-ID"] == "req-g"


def test_without_a_user_token_the_service_user_asks(http):
    http.get(f"{CINDER}/{SERVICE_PROJECT}/volumes/{VOL}", json={"volume": {"id": VOL}})
    catalog_client().get(None, VOL)
    assert http.request_history[-1].headers["X-Auth-Token"] == "service-token"
    assert http.request_history[-1].headers["X-Service-Token"] == "service-token"


def test_noauth_contexts_do_not_send_their_tokens(http):
    http.get(f"{CINDER}/proj-a/volumes/{VOL}", json={"volume": {"id": VOL}})
    catalog_client(user_tokens=False).get(ctx("alice:proj-a"), VOL)
    assert http.request_history[-1].headers["X-Auth-Token"] == "service-token"


def test_endpoint_template_takes_the_project():
    with requests_mock.Mocker() as m:
        m.get(f"http://c.test/v3/proj-b/volumes/{VOL}", json={"volume": {"id": VOL}})
        api = cinder.API(ks_session.Session(), "http://c.test/v3/%(project_id)s")
        api.get(ctx("tok-b", "proj-b"), VOL)
        assert m.request_history[-1].headers["X-Auth-Token"] == "tok-b"


def test_attachment_flow_bodies_and_connection_info_shape():
    api = cinder.API(ks_session.Session(), CINDER)
    flat = {"driver_volume_type": "rbd", "name": f"volumes/volume-{VOL}",
            "hosts": ["127.0.0.1"], "ports": ["6789"], "attachment_id": ATT}
    with requests_mock.Mocker() as m:
        m.post(f"{CINDER}/attachments", json={"attachment": {
            "id": ATT, "status": "reserved", "connection_info": {}}})
        m.put(f"{CINDER}/attachments/{ATT}", json={"attachment": {
            "id": ATT, "status": "attaching", "connection_info": flat}})
        m.post(f"{CINDER}/attachments/{ATT}/action", status_code=204)
        m.delete(f"{CINDER}/attachments/{ATT}", json={"attachments": []})
        att = api.attachment_create(ctx(), VOL, INST)
        assert att["id"] == ATT and att["connection_info"] == {}
        assert m.request_history[-1].json() == {"attachment": {
            "volume_uuid": VOL, "instance_uuid": INST}}
        att = api.attachment_update(ctx(), ATT, {"host": "h1", "ip": "1.2.3.4"},
                                    "/dev/vdb")
        assert m.request_history[-1].json() == {"attachment": {"connector": {
            "host": "h1", "ip": "1.2.3.4", "mountpoint": "/dev/vdb"}}}
        assert att["connection_info"] == {
            "driver_volume_type": "rbd", "attachment_id": ATT,
            "data": {"name": f"volumes/volume-{VOL}", "hosts": ["127.0.0.1"],
                     "ports": ["6789"]}}
        api.attachment_complete(ctx(), ATT)
        assert m.request_history[-1].json() == {"os-complete": None}
        api.attachment_delete(ctx(), ATT)
        assert [r.method for r in m.request_history] == ["POST", "PUT", "POST", "DELETE"]


@pytest.mark.parametrize("status,method,expected", [
    (404, "get", exception.VolumeNotFound),
    (404, "attachment_create", exception.VolumeNotFound),
    (400, "attachment_create", exception.InvalidVolume),
    (404, "attachment_delete", exception.VolumeAttachmentNotFound),
    (400, "create", exception.InvalidInput),
    (404, "create", exception.InvalidInput),
    (413, "create", exception.OverQuota),
    (403, "get", exception.Forbidden),
    (500, "get", exception.CinderConnectionFailed),
])
def test_error_mapping(status, method, expected):
    api = cinder.API(ks_session.Session(), CINDER, http_retries=0)
    calls = {"get": (VOL,), "attachment_create": (VOL, INST),
             "attachment_delete": (ATT,), "create": (1, "v")}
    with requests_mock.Mocker() as m:
        m.register_uri(requests_mock.ANY, requests_mock.ANY, status_code=status,
                       json={"badRequest": {"message": "Invalid volume: in-use",
                                            "code": status}})
        with pytest.raises(expected) as err:
            getattr(api, method)(ctx(), *calls[method])
    assert err.value.code == expected.code


def test_reimage_asks_at_3_68_and_a_refusal_is_invalid_volume():
    api = cinder.API(ks_session.Session(), CINDER, http_retries=0)
    image = "5d7a2f1e-0000-4000-8000-00000000000a"
    with requests_mock.Mocker() as m:
        m.post(f"{CINDER}/volumes/{VOL}/action", status_code=202)
        api.reimage(ctx(), VOL, image)
        req = m.request_history[-1]
        assert req.json() == {"os-reimage": {"image_id": image, "reimage_reserved": True}}
        assert req.headers["OpenStack-API-Version"] == "volume 3.68"
        m.post(f"{CINDER}/volumes/{VOL}/action", status_code=400, json={"badRequest": {
            "message": "Image virtual size is 2GB and doesn't fit in a volume of size "
                       "1GB.", "code": 400}})
        with pytest.raises(exception.InvalidVolume, match="doesn't fit in a volume"):
            api.reimage(ctx(), VOL, image)
        m.post(f"{CINDER}/volumes/{VOL}/action", status_code=404, json={})
        with pytest.raises(exception.VolumeNotFound):
            api.reimage(ctx(), VOL, image)


def test_503_and_connection_failures_are_retried_then_fail():
    api = cinder.API(ks_session.Session(), CINDER, http_retries=2, retry_backoff=0)
    with requests_mock.Mocker() as m:
        m.get(f"{CINDER}/volumes/{VOL}", [{"status_code": 503},
                                          {"json": {"volume": {"id": VOL}}}])
        assert api.get(ctx(), VOL)["id"] == VOL
        m.get(f"{CINDER}/volumes/{VOL}", exc=requests.exceptions.ConnectionError)
        with pytest.raises(exception.CinderConnectionFailed):
            api.get(ctx(), VOL)
        assert len(m.request_history) == 2 + 3


def test_a_500_is_asked_again_only_where_a_repeat_does_nothing_twice():
    api = cinder.API(ks_session.Session(), CINDER, http_retries=2, retry_backoff=0)
    failed = {"status_code": 500, "json": {"computeFault": {
        "message": "Error EPERM: problem getting command descriptions", "code": 500}}}
    with requests_mock.Mocker() as m:
        m.put(f"{CINDER}/attachments/{ATT}",
              [failed, {"json": {"attachment": {"id": ATT, "connection_info": {}}}}])
        assert api.attachment_update(ctx(), ATT, {"host": "h1"})["id"] == ATT
        assert [r.method for r in m.request_history] == ["PUT", "PUT"]
        m.post(f"{CINDER}/attachments", [failed])
        with pytest.raises(exception.CinderConnectionFailed):
            api.attachment_create(ctx(), VOL, INST)
        assert [r.method for r in m.request_history] == ["PUT", "PUT", "POST"]


def test_retries_wait_longer_each_time(monkeypatch):
    slept = []
    monkeypatch.setattr(cinder.time, "sleep", slept.append)
    api = cinder.API(ks_session.Session(), CINDER, http_retries=3, retry_backoff=0.5)
    with requests_mock.Mocker() as m:
        m.get(f"{CINDER}/volumes/{VOL}", status_code=503)
        with pytest.raises(exception.CinderConnectionFailed):
            api.get(ctx(), VOL)
    assert slept == [0.5, 1.0, 2.0]


def test_checks_before_attach():
    vol = {"id": VOL, "status": "in-use", "multiattach": False, "availability_zone": "a",
           "attachments": [{"server_id": INST}]}
    with pytest.raises(exception.InvalidVolume, match="already attached"):
        cinder.check_attach(vol, INST)
    with pytest.raises(exception.InvalidVolume, match="must be 'available'"):
        cinder.check_attach(vol, "other")
    cinder.check_attach(dict(vol, multiattach=True), "other")
    cinder.check_attach(dict(vol, status="available", attachments=[]), INST)
    cinder.check_availability_zone(vol, "b", cross_az_attach=True)
    with pytest.raises(exception.InvalidVolume, match="availability_zone"):
        cinder.check_availability_zone(vol, "b", cross_az_attach=False)


def test_from_conf_needs_a_way_to_cinder():
    from nova_lite.conf import CONF

    conf = cfg.ConfigOpts()
    for mod in ("api", "cinder"):
        __import__(f"nova_lite.conf.{mod}", fromlist=["x"]).register_opts(conf)
    conf([], default_config_files=[])
    with pytest.raises(exception.ConfigError):
        cinder.API.from_conf(conf)
    # oslo.config shares a group's option records between ConfigOpts registering the
    # same OptGroup: the override must not outlive the test (CONF would see it).
    conf.set_override("endpoint_template", "http://c/v3/%(project_id)s", "cinder")
    try:
        assert cinder.API.from_conf(conf).endpoint_template
    finally:
        conf.clear_override("endpoint_template", "cinder")
    assert CONF.cinder.catalog_info == "volumev3::publicURL"
    assert cinder.parse_catalog_info("volumev3::internalURL") == (
        "volumev3", None, "internal")


def test_the_catalog_endpoint_is_looked_up_once_and_again_on_refresh():
    from keystoneauth1 import exceptions as ks_exc

    from nova_lite import keystone_session

    answers = ["http://a/v3/", "http://b/v3"]
    found = keystone_session.CachedEndpoint(
        lambda: answers.pop(0), lambda r: exception.CinderConnectionFailed(reason=r),
        "volume")
    assert found.get() == found.get() == "http://a/v3"
    assert found.get(refresh=True) == "http://b/v3" and answers == []

    def broken():
        raise ks_exc.EndpointNotFound("nope")
    with pytest.raises(exception.CinderConnectionFailed, match="no volume endpoint"):
        keystone_session.CachedEndpoint(
            broken, lambda r: exception.CinderConnectionFailed(reason=r), "volume").get()
    with pytest.raises(exception.CinderConnectionFailed, match="catalog has no volume"):
        keystone_session.CachedEndpoint(
            lambda: None, lambda r: exception.CinderConnectionFailed(reason=r),
            "volume").get()


def test_volume_types_are_listed():
    with requests_mock.Mocker() as m:
        m.get("http://c.test/v3/p/types", json={"volume_types": [
            {"id": "t1", "name": "__DEFAULT__"}, {"id": "t2", "name": "fast"}]})
        api = cinder.API(ks_session.Session(), "http://c.test/v3/%(project_id)s")
        types = api.get_all_volume_types(RequestContext(user_id="u", project_id="p"))
    assert [t["name"] for t in types] == ["__DEFAULT__", "fast"]
