"""The fake volume API has the real client's methods and signatures, and keeps the
Cinder rules callers rely on."""

from __future__ import annotations

import inspect

import pytest

from nova_lite import exception
from nova_lite.context import RequestContext
from nova_lite.volume import cinder
from tests import fake_volume as fake


def _public(cls) -> dict:
    return {name: inspect.signature(fn) for name, fn in vars(cls).items()
            if callable(fn) and not name.startswith("_") and name != "from_conf"}


def test_same_methods_and_signatures():
    real, stand_in = _public(cinder.API), _public(fake.API)
    assert set(real) == set(stand_in)
    for name, sig in real.items():
        assert str(sig) == str(stand_in[name]), name


def test_attach_lifecycle_and_rules():
    api = fake.API()
    a = RequestContext(user_id="u", project_id="pa", roles=["member"])
    b = RequestContext(user_id="v", project_id="pb", roles=["member"])
    vol = api.create(a, 1, "v1")
    with pytest.raises(exception.VolumeNotFound):
        api.get(b, vol["id"])
    att = api.attachment_create(a, vol["id"], "inst-1")
    assert api.get(a, vol["id"])["status"] == "reserved" and att["connection_info"] == {}
    with pytest.raises(exception.InvalidVolume):
        api.attachment_create(a, vol["id"], "inst-2")
    info = api.attachment_update(a, att["id"], {"host": "h"}, "/dev/vdb")["connection_info"]
    assert info["driver_volume_type"] == "rbd" and info["data"]["name"].endswith(vol["id"])
    api.attachment_complete(a, att["id"])
    got = api.get(a, vol["id"])
    assert got["status"] == "in-use" and got["attachments"][0]["server_id"] == "inst-1"
    with pytest.raises(exception.InvalidInput):
        api.delete(a, vol["id"])
    api.attachment_delete(a, att["id"])
    assert api.get(a, vol["id"])["status"] == "available"
    api.delete(a, vol["id"])
    assert [c[0] for c in api.calls].count("attachment_create") == 2


def test_reimage_of_a_reserved_volume_tells_its_server():
    api = fake.API()
    a = RequestContext(user_id="u", project_id="pa", roles=["member"])
    vol = api.create(a, 1, "v1", image_id="img-1")
    att = api.attachment_create(a, vol["id"], "inst-1", {"host": "h"})
    api.attachment_complete(a, att["id"])
    with pytest.raises(exception.InvalidVolume):  # in use: never re-imaged
        api.reimage(a, vol["id"], "img-2")
    api.attachment_delete(a, att["id"])
    api.attachment_create(a, vol["id"], "inst-1")  # reserved for the server
    told = []
    api.on_reimaged = lambda *args: told.append(args)
    api.reimage(a, vol["id"], "img-2")
    assert told == [("inst-1", vol["id"], "completed")]
    assert api.get(a, vol["id"])["volume_image_metadata"]["image_id"] == "img-2"
    api.reimage_fails = True
    api.reimage(a, vol["id"], "img-3")
    assert told[-1] == ("inst-1", vol["id"], "failed")
    assert api.get(a, vol["id"])["status"] == "error"
