"""os-quota-sets, os-quota-class-sets and /limits: shapes per microversion, policy,
validation, and the 403 a create over quota gets."""

from __future__ import annotations

import pytest

from tests.unit.api.conftest import ALICE, BOB

QS = "/v2.1/os-quota-sets"
ALL_21 = {"id", "cores", "fixed_ips", "floating_ips", "injected_file_content_bytes",
          "injected_file_path_bytes", "injected_files", "instances", "key_pairs",
          "metadata_items", "ram", "security_group_rules", "security_groups",
          "server_groups", "server_group_members"}
ALL_257 = {"id", "cores", "instances", "key_pairs", "metadata_items", "ram",
           "server_groups", "server_group_members"}


@pytest.mark.parametrize("version,keys", [
    (None, ALL_21),
    ("2.36", ALL_21 - {"fixed_ips", "floating_ips", "security_group_rules",
                       "security_groups"}),
    ("2.57", ALL_257),
])
def test_show_and_defaults_per_microversion(client, version, keys):
    for path in (f"{QS}/proj-a", f"{QS}/proj-a/defaults"):
        resp = client.get(path, token=ALICE, version=version)
        assert resp.status_int == 200, resp.text
        qs = resp.json["quota_set"]
        assert set(qs) == keys and qs["id"] == "proj-a"
        assert qs["instances"] == 10 and qs["cores"] == 20 and qs["ram"] == 51200


def test_detail_shows_usage(client, conductor):
    conductor.add_server(project_id="proj-a")
    qs = client.get(f"{QS}/proj-a/detail", token=ALICE, version="2.57").json["quota_set"]
    assert qs["instances"] == {"in_use": 1, "limit": 10, "reserved": 0}
    assert qs["ram"] == {"in_use": 512, "limit": 51200, "reserved": 0}
    assert set(qs) == ALL_257


def test_policy(client):
    # another project's quotas are not a member's business
    for path in (f"{QS}/proj-b", f"{QS}/proj-b/detail"):
        assert client.get(path, token=ALICE).status_int == 403
    assert client.get(f"{QS}/proj-b/defaults", token=ALICE).status_int == 200
    body = {"quota_set": {"instances": 5}}
    resp = client.put(f"{QS}/proj-a", body, token=ALICE)
    assert resp.status_int == 403
    assert resp.json["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
    assert client.delete(f"{QS}/proj-a", token=ALICE).status_int == 403
    assert client.get(f"{QS}/proj-b").status_int == 200  # admin


def test_update_show_delete(client):
    resp = client.put(f"{QS}/proj-a", {"quota_set": {"instances": "2", "cores": 4,
                                                     "force": "true"}}, version="2.57")
    assert resp.status_int == 200, resp.text
    qs = resp.json["quota_set"]
    assert "id" not in qs and qs["instances"] == 2 and qs["cores"] == 4
    assert set(qs) == ALL_257 - {"id"}
    assert client.get(f"{QS}/proj-a", token=ALICE).json["quota_set"]["instances"] == 2
    # a user's own limit
    client.put(f"{QS}/proj-a?user_id=alice", {"quota_set": {"instances": 1}})
    assert client.get(f"{QS}/proj-a?user_id=alice").json["quota_set"]["instances"] == 1
    assert client.delete(f"{QS}/proj-a").status_int == 202
    assert client.get(f"{QS}/proj-a").json["quota_set"]["instances"] == 10


@pytest.mark.parametrize("body,version,fragment", [
    ({"quota_set": {"instances": -2}}, None, "-2 is less than the minimum of -1"),
    ({"quota_set": {"instances": "abc"}}, None, "instances"),
    ({"quota_set": {"bogus": 1}}, None, "Additional properties are not allowed"),
    ({"quota_set": {"floating_ips": 1}}, "2.36", "Additional properties are not allowed"),
    ({"quota_set": {"injected_files": 1}}, "2.57", "Additional properties are not allowed"),
    ({"quota_set": {"networks": 1}}, None, "The networks quota is disabled"),
    ({"quota_set": {"instances": 1, "force": "maybe"}}, None, "force"),
    ({"quota": {}}, None, "'quota_set' is a required property"),
])
def test_update_rejects_bad_input(client, body, version, fragment):
    resp = client.put(f"{QS}/proj-a", body, version=version)
    assert resp.status_int == 400, resp.text
    assert fragment in resp.json["badRequest"]["message"]


def test_update_below_usage_needs_force(client, conductor):
    conductor.add_server(project_id="proj-a")
    conductor.add_server(project_id="proj-a")
    resp = client.put(f"{QS}/proj-a", {"quota_set": {"instances": 1}})
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "Quota limit 1 for instances must be greater than or equal to already used and "
        "reserved 2.")
    resp = client.put(f"{QS}/proj-a", {"quota_set": {"instances": 1, "force": True}})
    assert resp.status_int == 200


def test_unknown_query_parameter_from_275(client):
    assert client.get(f"{QS}/proj-a?foo=1", version="2.74").status_int == 200
    resp = client.get(f"{QS}/proj-a?foo=1", version="2.75")
    assert resp.status_int == 400 and "foo" in resp.json["badRequest"]["message"]


def test_create_over_quota_is_403_with_novas_message(client, conductor, image_id):
    client.put(f"{QS}/proj-a", {"quota_set": {"instances": 2}})
    body = {"server": {"name": "vm", "imageRef": image_id, "flavorRef": "1"}}
    for _ in range(2):
        assert client.post("/v2.1/servers", body, token=ALICE).status_int == 202
    resp = client.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 403
    assert resp.json == {"forbidden": {"code": 403, "message": (
        "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances")}}
    assert client.post("/v2.1/servers", body, token=BOB).status_int == 202


# -- quota classes --------------------------------------------------------------------------

@pytest.mark.parametrize("version,has_groups,has_network", [
    (None, False, True), ("2.50", True, False), ("2.57", True, False)])
def test_quota_class_show_per_microversion(client, version, has_groups, has_network):
    qcs = client.get("/v2.1/os-quota-class-sets/default", version=version
                     ).json["quota_class_set"]
    assert qcs["id"] == "default" and qcs["instances"] == 10
    assert ("server_groups" in qcs) is has_groups
    assert ("floating_ips" in qcs) is has_network
    assert ("injected_files" in qcs) is (version != "2.57")


def test_quota_class_update_sets_defaults(client):
    resp = client.put("/v2.1/os-quota-class-sets/default",
                      {"quota_class_set": {"instances": 50}}, version="2.57")
    assert resp.status_int == 200
    assert resp.json["quota_class_set"]["instances"] == 50
    assert "id" not in resp.json["quota_class_set"]
    assert client.get(f"{QS}/proj-a/defaults").json["quota_set"]["instances"] == 50
    assert client.put("/v2.1/os-quota-class-sets/default",
                      {"quota_class_set": {"instances": 5}}, token=ALICE).status_int == 403
    assert client.get("/v2.1/os-quota-class-sets/default", token=ALICE).status_int == 403
    resp = client.put("/v2.1/os-quota-class-sets/default",
                      {"quota_class_set": {"server_groups": 5}}, version="2.49")
    assert resp.status_int == 400


# -- limits --------------------------------------------------------------------------------

def test_limits_shapes(client, conductor):
    conductor.add_server(project_id="proj-a")
    old = client.get("/v2.1/limits", token=ALICE).json["limits"]
    assert old["rate"] == []
    absolute = old["absolute"]
    assert absolute["maxTotalInstances"] == 10 and absolute["totalInstancesUsed"] == 1
    assert absolute["totalCoresUsed"] == 1 and absolute["totalRAMUsed"] == 512
    assert absolute["maxImageMeta"] == 128 and absolute["maxPersonality"] == 5
    assert absolute["maxTotalFloatingIps"] == 10 and absolute["totalFloatingIpsUsed"] == 0
    new = client.get("/v2.1/limits", token=ALICE, version="2.57").json["limits"]["absolute"]
    assert set(new) == {"maxServerMeta", "maxTotalCores", "maxTotalInstances",
                        "maxTotalKeypairs", "maxTotalRAMSize", "maxServerGroups",
                        "maxServerGroupMembers", "totalCoresUsed", "totalInstancesUsed",
                        "totalRAMUsed", "totalServerGroupsUsed"}
    mid = client.get("/v2.1/limits", token=ALICE, version="2.39").json["limits"]["absolute"]
    assert "maxImageMeta" not in mid and "maxPersonality" in mid
    assert "maxSecurityGroups" not in mid


def test_limits_of_another_project_are_admin_only(client, conductor):
    conductor.add_server(project_id="proj-b")
    resp = client.get("/v2.1/limits?tenant_id=proj-b", token=ALICE)
    assert resp.status_int == 403
    absolute = client.get("/v2.1/limits?tenant_id=proj-b").json["limits"]["absolute"]
    assert absolute["totalInstancesUsed"] == 1
    resp = client.get("/v2.1/limits?bogus=1", version="2.75")
    assert resp.status_int == 400
