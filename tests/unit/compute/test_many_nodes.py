"""One compute service, many nodes ([fake_driver] nodes): what the fake driver reports
and how the periodic pass reports each node's usage to the conductor."""

from __future__ import annotations

import uuid

import pytest

from nova_lite.compute import manager, states
from nova_lite.conf import CONF
from nova_lite.objects.migration import Migration
from nova_lite.virt import fake
from tests.unit.compute.test_compute_manager import FakeConductor, _ctx, _instance


class ReportingConductor(FakeConductor):
    """Records the node reports (the same signatures as ConductorAPI)."""

    def __init__(self) -> None:
        super().__init__()
        self.single: list[dict] = []
        self.batches: list[list[dict]] = []

    def compute_node_update(self, ctx, host, service_id, resources):
        self.single.append(resources)
        return {"uuid": "u", "id": 1, "mapped": 0}

    def compute_nodes_update(self, ctx, host, service_id, resources):
        self.batches.append(resources)
        return [{"uuid": "u", "id": i, "mapped": 0} for i, _ in enumerate(resources)]


@pytest.fixture
def nodes():
    def make(n: int) -> manager.ComputeManager:
        CONF.set_override("nodes", n, group="fake_driver")
        m = manager.ComputeManager("h1", conductor=ReportingConductor(),
                                   driver=fake.FakeDriver("h1", None, CONF))
        m.service_id = 3
        return m
    yield make
    CONF.clear_override("nodes", group="fake_driver")


def test_one_node_by_default_keeps_the_host_name():
    drv = fake.FakeDriver("h1", None, CONF)
    assert [r["hypervisor_hostname"] for r in drv.get_available_resources()] == ["h1"]


def test_many_nodes_each_of_the_configured_size(nodes):
    drv = nodes(3).driver
    res = drv.get_available_resources()
    assert [r["hypervisor_hostname"] for r in res] == ["h1", "h1-n0001", "h1-n0002"]
    fd = CONF.fake_driver
    assert {(r["vcpus"], r["memory_mb"], r["local_gb"]) for r in res} == {
        (fd.vcpus, fd.memory_mb, fd.local_gb)}


def test_one_node_is_reported_as_before(nodes):
    mgr = nodes(1)
    mgr.update_available_resource(_ctx())
    assert mgr.conductor.batches == []
    [res] = mgr.conductor.single
    assert res["hypervisor_hostname"] == "h1" and "COMPUTE_NODE" in res["traits"]


def test_every_node_in_one_batch_with_its_own_usage(nodes):
    mgr = nodes(4)
    cond = mgr.conductor
    for node in ("h1-n0002", "h1-n0002", "h1"):
        inst = _instance(node=node, vm_state=states.ACTIVE, task_state=None)
        cond.instances[inst.uuid] = inst
    orphan = _instance(node=None, vm_state=states.ACTIVE, task_state=None)
    cond.instances[orphan.uuid] = orphan  # no node recorded: counts on the first
    mgr.update_available_resource(_ctx())
    assert cond.single == []
    [batch] = cond.batches
    used = {r["hypervisor_hostname"]: (r["vcpus_used"], r["memory_mb_used"],
                                       r["running_vms"]) for r in batch}
    assert used == {"h1": (2, 1024, 2), "h1-n0001": (0, 0, 0),
                    "h1-n0002": (2, 1024, 2), "h1-n0003": (0, 0, 0)}
    assert all("COMPUTE_NODE" in r["traits"] for r in batch)


def test_a_move_between_nodes_holds_both_sizes_on_their_nodes(nodes):
    mgr = nodes(3)
    cond = mgr.conductor
    inst = _instance(node="h1-n0001", vm_state=states.RESIZED, task_state=None)
    cond.instances[inst.uuid] = inst
    big = inst.flavor.obj_clone()
    big.vcpus, big.memory_mb = 2, 2048
    inst.old_flavor, inst.new_flavor = inst.flavor, big
    mig_uuid = str(uuid.uuid4())
    cond.migrations = {mig_uuid: Migration(
        id=1, uuid=mig_uuid, instance_uuid=inst.uuid, migration_type="resize",
        status="finished", source_compute="h1", source_node="h1-n0002",
        dest_compute="h1", dest_node="h1-n0001", dest_host=None, old_instance_type_id=1,
        new_instance_type_id=2, hidden=False, cross_cell_move=False, user_id="u",
        project_id="p", deleted=False)}
    mgr.update_available_resource(_ctx())
    used = {r["hypervisor_hostname"]: r["vcpus_used"] for r in cond.batches[0]}
    assert used == {"h1": 0, "h1-n0001": 2, "h1-n0002": 1}


class _CappedClient:
    """An oslo.messaging client capped below 1.14 (a conductor not yet upgraded)."""

    def __init__(self, cap_ok: bool) -> None:
        self.cap_ok, self.calls = cap_ok, []

    def can_send_version(self, version):
        return self.cap_ok

    def prepare(self, **kw):
        return self

    def call(self, ctx, method, **kw):
        self.calls.append((method, len(kw.get("resources") or [1])))
        return [{}] * len(kw["resources"]) if method == "compute_nodes_update" else {}


@pytest.mark.parametrize("cap_ok, expected", [
    (True, [("compute_nodes_update", 3)]),
    (False, [("compute_node_update", 1)] * 3)])
def test_rpc_client_batches_unless_the_conductor_is_older(cap_ok, expected):
    from nova_lite.conductor import rpcapi

    api = rpcapi.ConductorAPI.__new__(rpcapi.ConductorAPI)
    api.client, api._retry = _CappedClient(cap_ok), None
    api.compute_nodes_update(_ctx(), "h1", 3, [{"a": 1}, {"a": 2}, {"a": 3}])
    assert api.client.calls == expected


def test_unchanged_nodes_are_not_sent_again_until_a_full_pass(nodes):
    mgr = nodes(3)
    cond = mgr.conductor
    mgr.update_available_resource(_ctx())
    mgr.update_available_resource(_ctx())  # nothing changed: no message
    assert [len(b) for b in cond.batches] == [3]
    inst = _instance(node="h1-n0002", vm_state=states.ACTIVE, task_state=None)
    cond.instances[inst.uuid] = inst
    mgr.update_available_resource(_ctx())  # only the node that changed
    assert cond.batches[-1][0]["hypervisor_hostname"] == "h1-n0002"
    assert [len(b) for b in cond.batches] == [3, 1]
    mgr.service_id = 4  # a new service record (deleted and back): everything again
    mgr.update_available_resource(_ctx())
    assert [len(b) for b in cond.batches] == [3, 1, 3]
    for _ in range(manager.FULL_REPORT_EVERY - 1):
        mgr.update_available_resource(_ctx())
    assert [len(b) for b in cond.batches] == [3, 1, 3, 3]
