"""API of lock/unlock, os-resetState, rebuild, resize with confirm/revert, and deferred
delete (restore, forceDelete): bodies by microversion, policies, Nova's codes and
messages, and the list filters and view fields of their states."""

from __future__ import annotations

import pytest

from nova_lite.api import microversion
from nova_lite.compute import states
from tests.unit.api.conftest import ALICE, BOB

MAX = microversion.MAX_STR


def act(client, inst, body, token=ALICE, version=None):
    return client.post(f"/v2.1/servers/{inst.uuid}/action", body, token=token,
                       version=version)


def show(client, inst, version=MAX, token=ALICE):
    return client.get(f"/v2.1/servers/{inst.uuid}", token=token, version=version).json[
        "server"]


# -- lock ------------------------------------------------------------------------------

def test_lock_and_unlock_by_the_owner(client, conductor):
    inst = conductor.add_server()
    assert act(client, inst, {"lock": None}).status_int == 202
    server = show(client, inst)
    assert server["locked"] is True and server["locked_reason"] is None
    assert inst.locked_by == "owner"
    assert act(client, inst, {"unlock": None}).status_int == 202
    assert show(client, inst)["locked"] is False
    actions = [a.action for a in conductor.actions[inst.uuid]]
    assert actions[:2] == ["unlock", "lock"]


def test_locked_reason_from_2_73(client, conductor):
    inst = conductor.add_server()
    resp = act(client, inst, {"lock": {"locked_reason": "maintenance"}}, version="2.73")
    assert resp.status_int == 202
    assert show(client, inst)["locked_reason"] == "maintenance"
    assert "locked_reason" not in show(client, inst, version="2.72")
    assert show(client, inst, version="2.9")["locked"] is True
    act(client, inst, {"unlock": None}, version="2.73")
    assert show(client, inst)["locked_reason"] is None


@pytest.mark.parametrize("body", [{"lock": {"locked_reason": ""}},
                                  {"lock": {"locked_reason": "x" * 256}},
                                  {"lock": {"reason": "x"}}, {"lock": "now"}])
def test_bad_lock_bodies_at_2_73(client, conductor, body):
    inst = conductor.add_server()
    assert act(client, inst, body, version="2.73").status_int == 400
    assert inst.locked is False


def test_a_locked_server_refuses_its_owner_409_but_not_an_admin(client, conductor, image_id):
    inst = conductor.add_server()
    act(client, inst, {"lock": None})
    for body in ({"os-stop": None}, {"pause": None}, {"reboot": {"type": "HARD"}},
                 {"resize": {"flavorRef": "2"}},
                 {"rebuild": {"imageRef": image_id}}):
        resp = act(client, inst, body)
        assert resp.status_int == 409, (body, resp.text)
        assert resp.json["conflictingRequest"]["message"] == f"Instance {inst.uuid} is locked"
    resp = client.delete(f"/v2.1/servers/{inst.uuid}", token=ALICE)
    assert resp.status_int == 409
    assert inst.task_state is None and not inst.deleted
    # the admin may act on it, and the owner may still read and unlock it
    assert act(client, inst, {"os-stop": None}, token="admin:admin").status_int == 202
    assert client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE).status_int == 200


def test_only_an_admin_unlocks_what_an_admin_locked(client, conductor):
    inst = conductor.add_server()
    assert act(client, inst, {"lock": None}, token="admin:admin").status_int == 202
    assert inst.locked_by == "admin"
    resp = act(client, inst, {"unlock": None})
    assert resp.status_int == 403
    assert inst.locked
    assert act(client, inst, {"unlock": None}, token="admin:admin").status_int == 202
    assert not inst.locked


def test_lock_of_another_projects_server_is_404(client, conductor):
    inst = conductor.add_server(project_id="proj-b")
    assert act(client, inst, {"lock": None}).status_int == 404
    assert act(client, inst, {"lock": None}, token=BOB).status_int == 202


def test_locked_list_filter(client, conductor):
    a, b = conductor.add_server(name="a"), conductor.add_server(name="b")
    act(client, a, {"lock": None})

    def names(query, version="2.73"):
        resp = client.get(f"/v2.1/servers?{query}", token=ALICE, version=version)
        assert resp.status_int == 200, resp.text
        return sorted(s["name"] for s in resp.json["servers"])

    assert names("locked=true") == ["a"]
    assert names("locked=false") == ["b"]
    assert names("locked=true", version="2.72") == ["a", "b"]
    assert client.get("/v2.1/servers?locked=maybe", token=ALICE,
                      version="2.73").status_int == 400
    assert b.locked is False


# -- os-resetState -----------------------------------------------------------------------

def test_reset_state_is_for_admins(client, conductor):
    inst = conductor.add_server(task_state=states.RESIZE_MIGRATING)
    body = {"os-resetState": {"state": "error"}}
    assert act(client, inst, body).status_int == 403
    assert act(client, inst, body, token="admin:admin").status_int == 202
    assert (inst.vm_state, inst.task_state) == ("error", None)
    assert conductor.actions[inst.uuid][0].action == "resetState"
    assert act(client, inst, {"os-resetState": {"state": "active"}},
               token="admin:admin").status_int == 202
    assert inst.vm_state == "active"


@pytest.mark.parametrize("body", [{"os-resetState": {"state": "stopped"}},
                                  {"os-resetState": {}}, {"os-resetState": None}])
def test_reset_state_bad_bodies(client, conductor, body):
    inst = conductor.add_server()
    assert act(client, inst, body, token="admin:admin").status_int == 400


# -- rebuild -------------------------------------------------------------------------------

def test_rebuild_answers_the_server_with_its_password(client, conductor, image_id):
    inst = conductor.add_server(image_ref="old-image")
    body = {"rebuild": {"imageRef": image_id, "name": "renamed", "metadata": {"k": "v"},
                        "adminPass": "s3cret", "preserve_ephemeral": True}}
    resp = act(client, inst, body, version="2.74")
    assert resp.status_int == 202, resp.text
    server = resp.json["server"]
    assert server["adminPass"] == "s3cret" and server["status"] == "REBUILD"
    assert server["image"]["id"] == image_id and server["name"] == "renamed"
    assert server["metadata"] == {"k": "v"}
    assert "OS-EXT-STS:task_state" not in server  # the reduced view before 2.75
    action, params = conductor.action_params[-1]
    assert (action, params["values"], params["preserve_ephemeral"]) == (
        "rebuild", {"image_ref": image_id, "display_name": "renamed", "metadata": {"k": "v"}},
        True)
    # the new image's properties replace the old ones in the system metadata
    assert params["image_system_metadata"]["image_base_image_ref"] == image_id
    assert params["image_system_metadata"]["image_os_distro"] == "cirros"
    inst.task_state = None
    server = act(client, inst, {"rebuild": {"imageRef": image_id}}, version="2.75").json[
        "server"]
    assert server["OS-EXT-STS:task_state"] == "rebuilding"
    assert len(server["adminPass"]) == 12 and server["server_groups"] == []


def test_rebuild_fields_by_microversion(client, conductor, image_id):
    inst = conductor.add_server()
    body = {"rebuild": {"imageRef": image_id, "description": "d", "key_name": None,
                        "user_data": "aGk=", "hostname": "new-host"}}
    assert act(client, inst, body, version="2.90").status_int == 202
    assert conductor.action_params[-1][1]["values"] == {
        "image_ref": image_id, "display_description": "d", "key_name": None,
        "keypairs": [], "user_data": "aGk=", "hostname": "new-host"}
    inst.task_state = None
    r = client.post("/v2.1/os-keypairs", {"keypair": {"name": "k1"}}, token=ALICE)
    assert r.status_int == 200, r.text
    body = {"rebuild": {"imageRef": image_id, "key_name": "k1"}}
    assert act(client, inst, body, version="2.54").status_int == 202
    values = conductor.action_params[-1][1]["values"]
    assert values["key_name"] == "k1" and values["keypairs"][0]["name"] == "k1"
    assert values["keypairs"][0]["public_key"].startswith("ssh-")
    inst.task_state = None
    for version, key, value in (("2.18", "description", "d"), ("2.53", "key_name", None),
                                ("2.56", "user_data", "aGk="), ("2.89", "hostname", "h"),
                                ("2.90", "hostname", "-bad-")):
        resp = act(client, inst, {"rebuild": {"imageRef": image_id, key: value}},
                   version=version)
        assert resp.status_int == 400, (version, key)
    fqdn = {"rebuild": {"imageRef": image_id, "hostname": "h.example.org."}}
    assert act(client, inst, fqdn, version="2.94").status_int == 202
    inst.task_state = None
    personality = {"rebuild": {"imageRef": image_id, "personality": [{"path": "/x"}]}}
    assert act(client, inst, personality, version="2.57").status_int == 400
    assert act(client, inst, personality, version="2.56").status_int == 400


@pytest.mark.parametrize("body, message", [
    ({"rebuild": {"imageRef": "nope"}}, "Can not find requested image"),
    ({"rebuild": {"imageRef": "IMAGE", "key_name": "k1"}}, "Invalid key_name provided."),
    ({"rebuild": {"imageRef": "IMAGE", "trusted_image_certificates": ["c"]}},
     "Trusted image certificates are not supported."),
])
def test_rebuild_rejections(client, conductor, image_id, body, message):
    inst = conductor.add_server()
    body["rebuild"]["imageRef"] = body["rebuild"]["imageRef"].replace("IMAGE", image_id)
    resp = act(client, inst, body, version=MAX)
    assert resp.status_int == 400, resp.text
    assert resp.json["badRequest"]["message"] == message
    assert inst.task_state is None


def test_rebuild_checks_the_image_fits_the_flavor(client, conductor, images, tmp_path):
    src = tmp_path / "big.img"
    src.write_bytes(b"x" * 10)
    big = images.import_file(None, str(src), {"name": "big", "disk_format": "raw",
                                              "container_format": "bare", "min_ram": 4096,
                                              "visibility": "public"})
    inst = conductor.add_server()
    resp = act(client, inst, {"rebuild": {"imageRef": big["id"]}})
    assert resp.status_int == 400
    assert "memory is too small" in resp.json["badRequest"]["message"]


@pytest.mark.parametrize("vm_state, code", [(states.ACTIVE, 202), (states.STOPPED, 202),
                                            (states.ERROR, 202), (states.PAUSED, 409),
                                            (states.RESIZED, 409),
                                            (states.SOFT_DELETED, 409)])
def test_rebuild_states(client, conductor, image_id, vm_state, code):
    inst = conductor.add_server(vm_state=vm_state)
    resp = act(client, inst, {"rebuild": {"imageRef": image_id}})
    assert resp.status_int == code, resp.text
    if code == 409:
        assert resp.json["conflictingRequest"]["message"] == (
            f"Cannot 'rebuild' instance {inst.uuid} while it is in vm_state {vm_state}")


# -- resize --------------------------------------------------------------------------------

def test_resize_confirm_and_revert(client, conductor):
    inst = conductor.add_server()
    assert act(client, inst, {"resize": {"flavorRef": "2"}}).status_int == 202
    assert inst.task_state == states.RESIZE_PREP and inst.new_flavor.flavorid == "2"
    assert show(client, inst)["status"] == "RESIZE"
    inst.vm_state, inst.task_state = states.RESIZED, None
    assert show(client, inst)["status"] == "VERIFY_RESIZE"
    resp = act(client, inst, {"confirmResize": None})
    assert resp.status_int == 204 and resp.body == b""
    assert conductor.actions[inst.uuid][0].action == "confirmResize"
    inst.task_state = None
    assert act(client, inst, {"revertResize": None}).status_int == 202
    assert inst.task_state == states.RESIZE_REVERTING
    assert show(client, inst)["status"] == "REVERT_RESIZE"
    assert conductor.actions[inst.uuid][0].action == "revertResize"


def test_resize_takes_a_flavor_link(client, conductor):
    inst = conductor.add_server()
    body = {"resize": {"flavorRef": "http://x/v2.1/flavors/2", "OS-DCF:diskConfig": "AUTO"}}
    assert act(client, inst, body).status_int == 202
    assert conductor.action_params[-1] == ("resize", {"flavor_id": "2"})


@pytest.mark.parametrize("flavor, message", [
    ("1", "Resize requires a flavor change."),
    ("404", "Unable to locate requested flavor."),
    ("42", "Resize error: Unable to resize disk down."),
])
def test_resize_400s(client, conductor, flavor, message):
    inst = conductor.add_server()
    inst.flavor = conductor.flavors["2"]  # 20 GB: m1.nano (1 GB) is smaller
    if flavor == "1":
        inst.flavor = conductor.flavors["1"]
    resp = act(client, inst, {"resize": {"flavorRef": flavor}})
    assert resp.status_int == 400, resp.text
    assert resp.json["badRequest"]["message"] == message
    assert inst.task_state is None


@pytest.mark.parametrize("body", [{"resize": {}}, {"resize": {"flavorRef": ""}},
                                  {"resize": {"flavorRef": "2", "x": 1}},
                                  {"resize": None}, {"confirmResize": {"x": 1}}])
def test_resize_bad_bodies(client, conductor, body):
    inst = conductor.add_server()
    assert act(client, inst, body).status_int == 400


@pytest.mark.parametrize("body, verb", [({"confirmResize": None}, "confirmResize"),
                                        ({"revertResize": None}, "revertResize")])
def test_confirm_and_revert_need_verify_resize(client, conductor, body, verb):
    inst = conductor.add_server()
    resp = act(client, inst, body)
    assert resp.status_int == 409
    assert resp.json["conflictingRequest"]["message"] == (
        f"Cannot '{verb}' instance {inst.uuid} while it is in vm_state active")


def test_resize_of_a_busy_or_paused_server_is_409(client, conductor):
    busy = conductor.add_server(task_state=states.REBOOTING)
    assert act(client, busy, {"resize": {"flavorRef": "2"}}).status_int == 409
    paused = conductor.add_server(vm_state=states.PAUSED)
    assert act(client, paused, {"resize": {"flavorRef": "2"}}).status_int == 409
    stopped = conductor.add_server(vm_state=states.STOPPED)
    assert act(client, stopped, {"resize": {"flavorRef": "2"}}).status_int == 202


# -- deferred delete ---------------------------------------------------------------------

def test_restore_and_force_delete(client, conductor):
    inst = conductor.add_server(vm_state=states.SOFT_DELETED)
    assert act(client, inst, {"restore": None}).status_int == 202
    assert inst.task_state == states.RESTORING
    assert conductor.actions[inst.uuid][0].action == "restore"
    other = conductor.add_server(vm_state=states.SOFT_DELETED)
    assert act(client, other, {"forceDelete": None}).status_int == 202
    assert other.task_state == states.DELETING
    assert conductor.actions[other.uuid][0].action == "delete"
    active = conductor.add_server()
    resp = act(client, active, {"restore": None})
    assert resp.status_int == 409
    assert "Cannot 'restore' instance" in resp.json["conflictingRequest"]["message"]
    busy = conductor.add_server(task_state=states.REBOOTING)
    resp = act(client, busy, {"forceDelete": None})
    assert resp.status_int == 409
    assert resp.json["conflictingRequest"]["message"] == (
        f"Cannot 'forceDelete' instance {busy.uuid} while it is in task_state rebooting")


def test_soft_deleted_servers_are_listed_only_when_asked_for(client, conductor):
    conductor.add_server(name="live")
    conductor.add_server(name="gone", vm_state=states.SOFT_DELETED)
    conductor.add_server(name="moving", vm_state=states.RESIZED)

    def names(query, token=ALICE):
        resp = client.get(f"/v2.1/servers/detail?{query}", token=token, version=MAX)
        assert resp.status_int == 200, resp.text
        return sorted(s["name"] for s in resp.json["servers"])

    assert names("") == ["live", "moving"]
    assert names("status=SOFT_DELETED") == ["gone"]
    assert names("status=VERIFY_RESIZE") == ["moving"]
    assert names("status=SOFT_DELETED&status=ACTIVE") == ["gone", "live"]
    assert names("deleted=true&all_tenants=1", token="admin:admin") == ["gone"]
    assert names("soft_deleted=true&all_tenants=1", token="admin:admin") == [
        "gone", "live", "moving"]
    assert names("soft_deleted=true") == ["live", "moving"]  # an admin-only filter
    resp = client.get("/v2.1/servers/detail?status=SOFT_DELETED", token=ALICE, version=MAX)
    assert resp.json["servers"][0]["status"] == "SOFT_DELETED"
