"""rescue/unrescue, trigger_crash_dump, changePassword and diagnostics through the API."""

from __future__ import annotations

import pytest

from nova_lite.compute import states
from tests.unit.api.conftest import ALICE

ACTION = "/v2.1/servers/{}/action"
ADMIN = "admin:admin"


def _post(client, inst, body, token=ALICE, version=None):
    return client.post(ACTION.format(inst.uuid), body, token=token, version=version)


# -- rescue ---------------------------------------------------------------------------------

@pytest.mark.parametrize("vm_state", [states.ACTIVE, states.STOPPED, states.ERROR])
def test_rescue_answers_the_password(client, conductor, vm_state):
    inst = conductor.add_server(vm_state=vm_state)
    resp = _post(client, inst, {"rescue": None})
    assert resp.status_int == 200, resp.text
    password = resp.json["adminPass"]
    assert len(password) == 12
    assert conductor.action_params[-1] == ("rescue", {"rescue_image_ref": None,
                                                      "admin_password": password,
                                                      "allow_bfv_rescue": False})
    assert inst.task_state == states.RESCUING


def test_rescue_with_given_password_and_image(client, conductor, image_id):
    inst = conductor.add_server()
    body = {"rescue": {"adminPass": "s3cret", "rescue_image_ref": image_id}}
    resp = _post(client, inst, body)
    assert resp.json == {"adminPass": "s3cret"}
    assert conductor.action_params[-1][1]["rescue_image_ref"] == image_id


@pytest.mark.parametrize("body, code", [
    ({"rescue": {"rescue_image_ref": "6c2ab9b5-ae1f-45d2-bbf0-42bd57d0f54c"}}, 400),
    ({"rescue": {"rescue_image_ref": "not-a-uuid"}}, 400),
    ({"rescue": {"bogus": 1}}, 400),
    ({"rescue": {"adminPass": 1}}, 400),
    ({"unrescue": {}}, 400),
])
def test_rescue_bad_input(client, conductor, body, code):
    inst = conductor.add_server(vm_state=states.RESCUED if "unrescue" in body else
                                states.ACTIVE)
    resp = _post(client, inst, body)
    assert resp.status_int == code, resp.text
    assert "badRequest" in resp.json


@pytest.mark.parametrize("props, version, allowed", [
    ({}, "2.87", False),                                    # legacy rescue: never BFV
    ({"hw_rescue_device": "disk"}, "2.86", False),          # stable, but before 2.87
    ({"hw_rescue_device": "disk"}, "2.87", True),
    ({"hw_rescue_bus": "usb"}, "2.90", True),
    ({"hw_rescue_device": "cdrom", "hw_rescue_bus": "scsi"}, "2.87", True),
])
def test_volume_backed_rescue_allowed_from_287_with_a_stable_rescue_image(
        client, conductor, images, image_id, props, version, allowed):
    """The API says whether the conductor may rescue a volume-backed server: only for a
    stable device rescue at 2.87 or later (the conductor answers Nova's 400 otherwise)."""
    images.update(None, image_id, properties=props)
    inst = conductor.add_server()
    resp = _post(client, inst, {"rescue": {"rescue_image_ref": image_id}}, version=version)
    assert resp.status_int == 200, resp.text
    assert conductor.action_params[-1][1]["allow_bfv_rescue"] is allowed


@pytest.mark.parametrize("props, message", [
    ({"hw_rescue_device": "tape"}, "Requested rescue device 'tape' is not supported"),
    ({"hw_rescue_bus": "xen"}, "Requested rescue bus 'xen' is not supported for a disk"),
    ({"hw_rescue_device": "cdrom", "hw_rescue_bus": "virtio"},
     "Requested rescue bus 'virtio' is not supported for a cdrom"),
    ({"hw_rescue_device": "floppy", "hw_rescue_bus": "scsi"},
     "Requested rescue bus 'scsi' is not supported for a floppy"),
])
def test_unsupported_rescue_device_or_bus(client, conductor, images, image_id, props,
                                          message):
    images.update(None, image_id, properties=props)
    inst = conductor.add_server()
    resp = _post(client, inst, {"rescue": {"rescue_image_ref": image_id}}, version="2.87")
    assert resp.status_int == 400 and resp.json["badRequest"]["message"] == message
    assert inst.task_state is None


def test_unknown_rescue_image_message(client, conductor):
    inst = conductor.add_server()
    ref = "6c2ab9b5-ae1f-45d2-bbf0-42bd57d0f54c"
    resp = _post(client, inst, {"rescue": {"rescue_image_ref": ref}})
    assert resp.json["badRequest"]["message"] == (
        f"Requested rescue image '{ref}' is not supported")


def test_rescue_states(client, conductor):
    rescued = conductor.add_server(vm_state=states.RESCUED)
    assert _post(client, rescued, {"rescue": None}).status_int == 409
    resp = _post(client, rescued, {"unrescue": None})
    assert resp.status_int == 202 and rescued.task_state == states.UNRESCUING
    active = conductor.add_server()
    resp = _post(client, active, {"unrescue": None})
    assert resp.status_int == 409
    assert resp.json["conflictingRequest"]["message"] == (
        f"Cannot 'unrescue' instance {active.uuid} while it is in vm_state active")


# -- trigger_crash_dump ---------------------------------------------------------------------

def test_crash_dump_needs_217(client, conductor):
    inst = conductor.add_server()
    assert _post(client, inst, {"trigger_crash_dump": None}, version="2.16").status_int \
        == 404
    resp = _post(client, inst, {"trigger_crash_dump": None}, version="2.17")
    assert resp.status_int == 202, resp.text
    assert conductor.action_params[-1] == ("trigger_crash_dump", {})


@pytest.mark.parametrize("kw, message", [
    ({"vm_state": states.STOPPED, "power_state": 4}, "while it is in vm_state stopped"),
    ({"vm_state": states.ERROR, "power_state": 4}, "is not running."),
    ({"vm_state": states.ACTIVE, "task_state": states.REBOOTING},
     "while it is in task_state rebooting"),
])
def test_crash_dump_conflicts(client, conductor, kw, message):
    inst = conductor.add_server(**kw)
    resp = _post(client, inst, {"trigger_crash_dump": None}, version="2.17")
    assert resp.status_int == 409
    assert message in resp.json["conflictingRequest"]["message"]


def test_crash_dump_body_must_be_null(client, conductor):
    inst = conductor.add_server()
    resp = _post(client, inst, {"trigger_crash_dump": {}}, version="2.17")
    assert resp.status_int == 400


# -- changePassword ---------------------------------------------------------------------------

def test_change_password(client, conductor):
    inst = conductor.add_server()
    resp = _post(client, inst, {"changePassword": {"adminPass": "n3w"}})
    assert resp.status_int == 202, resp.text
    assert conductor.admin_passwords[inst.uuid] == "n3w"


def test_change_password_without_agent_is_409(client, conductor):
    inst = conductor.add_server(metadata={"fake_no_agent": "1"})
    resp = _post(client, inst, {"changePassword": {"adminPass": "n3w"}})
    assert resp.status_int == 409
    assert "Guest agent is not enabled" in resp.json["conflictingRequest"]["message"]


@pytest.mark.parametrize("body", [{"changePassword": {}}, {"changePassword": {"adminPass": 1}},
                                  {"changePassword": None}])
def test_change_password_bad_bodies(client, conductor, body):
    assert _post(client, conductor.add_server(), body).status_int == 400


def test_change_password_needs_active(client, conductor):
    inst = conductor.add_server(vm_state=states.STOPPED)
    assert _post(client, inst, {"changePassword": {"adminPass": "x"}}).status_int == 409


# -- diagnostics --------------------------------------------------------------------------------

def test_diagnostics_admin_only(client, conductor):
    inst = conductor.add_server()
    url = f"/v2.1/servers/{inst.uuid}/diagnostics"
    assert client.get(url, token=ALICE).status_int == 403


def test_diagnostics_248_shape(client, conductor):
    inst = conductor.add_server()
    resp = client.get(f"/v2.1/servers/{inst.uuid}/diagnostics", token=ADMIN, version="2.48")
    assert resp.status_int == 200
    assert set(resp.json) == {"state", "driver", "hypervisor", "hypervisor_os", "uptime",
                              "config_drive", "num_cpus", "num_disks", "num_nics",
                              "cpu_details", "disk_details", "nic_details",
                              "memory_details"}
    assert resp.json["memory_details"] == {"maximum": 512, "used": 100}


def test_diagnostics_before_248_are_the_drivers_flat_dict(client, conductor):
    inst = conductor.add_server()
    resp = client.get(f"/v2.1/servers/{inst.uuid}/diagnostics", token=ADMIN)
    assert resp.json == {"cpu0_time": 1000, "memory": 524288, "vda_read": 1,
                         "vda_read_req": 2, "vda_write": 3, "vda_write_req": 4,
                         "vda_errors": 0}


def test_diagnostics_without_host_is_409(client, conductor):
    inst = conductor.add_server(vm_state=states.SHELVED_OFFLOADED, host=None)
    resp = client.get(f"/v2.1/servers/{inst.uuid}/diagnostics", token=ADMIN)
    assert resp.status_int == 409
