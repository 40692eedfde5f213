"""HostView, its update from the conductor's changes, and OwnClaims across views."""

from __future__ import annotations

from nova_lite.scheduler.host_state import HostView, OwnClaims


def provider(name: str, generation: int = 1, used: int = 0) -> dict:
    return {"uuid": f"u-{name}", "name": name, "host": name, "generation": generation,
            "traits": ["T"], "resources": {
                "VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 2.0, "used": used},
                "MEMORY_MB": {"total": 1024, "reserved": 24, "allocation_ratio": 1.0,
                              "used": 0}}}


HOSTS = {h: {"cell_uuid": "c", "service_up": True, "service_disabled": False,
             "availability_zone": "az"} for h in ("b", "a")}


def view(*providers: dict) -> HostView:
    return HostView({p["uuid"]: p for p in providers}, HOSTS)


def test_hosts_in_name_order_with_free_capacity_and_filter_reads() -> None:
    v = view(provider("b", used=3), provider("a"))
    assert [h.name for h in v.hosts] == ["a", "b"]
    b = v.by_uuid["u-b"]
    assert (b.free("VCPU"), b.free("MEMORY_MB"), b.free("DISK_GB")) == (13, 1000, 0)
    assert b.get("traits") == ["T"] and b.get("availability_zone") == "az"
    assert b.cell_uuid == "c" and b.service_up and not b.service_disabled
    assert v.fitting([0, 1], {"VCPU": 14}) == [0]
    assert v.fitting([0, 1], {"VCPU": 1, "DISK_GB": 1}) == []
    b.consume({"VCPU": 13})
    assert b.resources["VCPU"]["used"] == 16 and v.fitting([0, 1], {"VCPU": 1}) == [0]


def test_changes_replace_changed_providers_and_drop_gone_ones() -> None:
    v = view(provider("a"), provider("b"))
    assert v.known() == {"u-a": 1, "u-b": 1}
    new = v.changed({"providers": [provider("b", 2, used=5)], "gone": ["u-a"],
                     "hosts": HOSTS})
    assert [h.name for h in new.hosts] == ["b"] and new.by_uuid["u-b"].free("VCPU") == 11


def test_own_claims_stay_counted_until_a_view_read_after_them() -> None:
    own = OwnClaims()
    v1 = view(provider("a"))
    token = own.take(v1, v1.hosts[0], {"VCPU": 4})
    assert v1.hosts[0].free("VCPU") == 12
    v2 = view(provider("a"))  # read while the claim was in flight
    own.reapply(v2, read_at=10.0)
    assert v2.hosts[0].free("VCPU") == 12
    own.settle(v2, token, True, at=11.0)
    v3 = view(provider("a"))  # read before the claim was made: still counted
    own.reapply(v3, read_at=10.5)
    assert v3.hosts[0].free("VCPU") == 12
    v4 = view(provider("a", 2, used=4))  # read after: the database shows it
    own.reapply(v4, read_at=12.0)
    assert v4.hosts[0].free("VCPU") == 12
    own.reapply(v4, read_at=13.0)  # and it is forgotten
    assert v4.hosts[0].free("VCPU") == 12


def test_a_refused_claim_is_undone_on_the_current_view() -> None:
    own = OwnClaims()
    v1 = view(provider("a"))
    old_host = v1.hosts[0]
    v2 = view(provider("a"))  # a refresh between the choice and the take
    token = own.take(v2, old_host, {"VCPU": 4})
    assert v2.hosts[0].free("VCPU") == 12 and old_host.free("VCPU") == 16
    own.settle(v2, token, False, 0)
    assert v2.hosts[0].free("VCPU") == 16


def test_a_usage_change_keeps_the_other_states_and_the_static_answers() -> None:
    v = view(provider("a"), provider("b"))
    a_state = v.by_uuid["u-a"]
    new = v.changed({"providers": [provider("b", 2, used=5)], "gone": [], "hosts": HOSTS})
    assert new.same_static and new.by_uuid["u-a"] is a_state and a_state.view is new
    assert [h.name for h in new.hosts] == ["a", "b"]
    assert new.by_uuid["u-b"].free("VCPU") == 11 and a_state.free("VCPU") == 16
    assert new.changed({"providers": [], "gone": [], "hosts": HOSTS}).same_static


def test_a_change_static_filters_read_builds_the_view_again() -> None:
    v = view(provider("a"), provider("b"))
    down = {h: dict(HOSTS[h], service_up=h != "a") for h in HOSTS}
    new = v.changed({"providers": [], "gone": [], "hosts": down})
    assert not new.same_static and not new.by_uuid["u-a"].service_up
    retraited = dict(provider("b", 2), traits=["T", "U"])
    new = v.changed({"providers": [retraited], "gone": [], "hosts": HOSTS})
    assert not new.same_static and new.by_uuid["u-b"].get("traits") == ["T", "U"]
    new = v.changed({"providers": [provider("c")], "gone": [], "hosts": HOSTS})
    assert not new.same_static and [h.name for h in new.hosts] == ["a", "b", "c"]
    assert not v.changed({"providers": [], "gone": ["u-a"], "hosts": HOSTS}).same_static
