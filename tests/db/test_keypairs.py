"""Key pairs in the API database (quota, uniqueness, paging) and the copies instances keep
in instance_extra, on both backends."""

from __future__ import annotations

import types

import pytest

from nova_lite import exception
from nova_lite.conductor import quota as quota_mod
from nova_lite.conductor.keypairs import KeypairMixin
from nova_lite.conf import CONF
from nova_lite.db import instances as inst_db
from nova_lite.objects.keypair import KeyPair
from tests.db.test_cells_instances import create_instance, new_instance
from tests.db.test_quota import Cells

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGkF7rWgS1j3qW2l8a5cZQhZyYl8cQm5n4mQ5b5d0y0N me"


def _keypairs(api_url: str, cell_url: str) -> KeypairMixin:
    kp = KeypairMixin()
    kp.api_url = api_url
    kp.quota = quota_mod.QuotaEngine(api_url, Cells(cell_url))
    return kp


def _new(name: str, user: str = "u1") -> KeyPair:
    return KeyPair(name=name, user_id=user, fingerprint="aa:bb", public_key=KEY, type="ssh")


def test_create_list_get_delete_and_quota(api_url: str, cell_url: str) -> None:
    kp = _keypairs(api_url, cell_url)
    ctx = types.SimpleNamespace(project_id="p1", user_id="u1")
    CONF.set_override("key_pairs", 3, group="quota")
    try:
        for name in ("b", "a", "c"):
            made = kp.keypair_create(ctx, _new(name))
            assert made.id and made.created_at and made.fingerprint == "aa:bb"
        with pytest.raises(exception.KeypairLimitExceeded,
                           match="Quota exceeded, too many key pairs."):
            kp.keypair_create(ctx, _new("d"))
        kp.keypair_create(ctx, _new("a", user="u2"))  # per user
    finally:
        CONF.clear_override("key_pairs", group="quota")
    with pytest.raises(exception.KeyPairExists, match="Key pair 'a' already exists."):
        kp.keypair_create(ctx, _new("a"))
    assert [k.name for k in kp.keypair_list(ctx, "u1")] == ["a", "b", "c"]
    assert [k.name for k in kp.keypair_list(ctx, "u1", limit=1, marker="a")] == ["b"]
    with pytest.raises(exception.Invalid, match="Marker zz could not be found"):
        kp.keypair_list(ctx, "u1", marker="zz")
    assert kp.keypair_get(ctx, "u2", "a").user_id == "u2"
    kp.keypair_delete(ctx, "u1", "a")
    with pytest.raises(exception.KeypairNotFound, match="Keypair a not found for user u1"):
        kp.keypair_get(ctx, "u1", "a")
    with pytest.raises(exception.KeypairNotFound):
        kp.keypair_delete(ctx, "u1", "a")


def test_instance_keeps_its_keypairs(cell_url: str) -> None:
    copy = _new("mine").copy_for_instance()
    inst = new_instance(key_name="mine", keypairs=[copy])
    created = create_instance(cell_url, inst, "cell1")
    assert created.key_name == "mine"
    got = inst_db.instance_get(cell_url, inst.uuid, "cell1")
    assert got.keypairs == [copy] and got.keypairs[0]["public_key"] == KEY
    plain = create_instance(cell_url, new_instance(), "cell1")
    assert inst_db.instance_get(cell_url, plain.uuid).keypairs == []
    other = dict(copy, name="other")
    updated = inst_db.instance_update(cell_url, inst.uuid, {"key_name": "other",
                                                            "keypairs": [other]})
    assert updated.key_name == "other" and updated.keypairs == [other]
    made = inst_db.instance_create_with_action(cell_url, new_instance(keypairs=[copy]),
                                               "cell1", "req-1", "u1", "p1")
    assert made.keypairs == [copy]
    assert inst_db.instance_get(cell_url, made.uuid).keypairs == [copy]
