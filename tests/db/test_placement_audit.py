"""nova-lite-manage placement audit and heal_allocations on real databases: orphaned
allocations and providers are found (exit 3), deleted (exit 4), and then nothing is
left (exit 0); live consumers (instances, build requests, moves) are never touched;
missing allocations of settled instances are healed with nova-manage's exit codes."""

from __future__ import annotations

import uuid

import pytest

from nova_lite.cmd import manage_placement as mp
from nova_lite.db import cells as cells_db
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import placement as placement_db
from nova_lite.db import placement_query as pq
from nova_lite.db import services as svc_db
from tests.db.test_cells_instances import create_instance, new_instance, node_values

INV = {rc: {"total": total, "reserved": 0, "allocation_ratio": 1.0}
       for rc, total in (("VCPU", 8), ("MEMORY_MB", 8192), ("DISK_GB", 100))}


@pytest.fixture
def env(api_url: str, mapped_cells: dict) -> dict:
    cell1 = mapped_cells["cell1"]
    sid = svc_db.service_heartbeat(cell1, "h1", "nova-compute", "compute")
    node = svc_db.compute_node_update(cell1, "h1", sid, node_values("h1.node"))
    rp = placement_db.provider_ensure(api_url, "h1.node", "h1", mapped_cells["cell1_uuid"], INV,
                                      uuid=node["uuid"])
    inst = new_instance(host="h1", node="h1.node", vm_state="active", task_state=None)
    create_instance(cell1, inst, "cell1")
    placement_db.claim(api_url, rp, inst.uuid, {"VCPU": 1, "MEMORY_MB": 128})
    return {"api": api_url, "cell1": cell1, "rp": rp, "inst": inst.uuid,
            "cell_uuid": mapped_cells["cell1_uuid"]}


def test_audit_clean_deployment_exits_0(env: dict, capsys) -> None:
    assert mp.audit(env["api"], verbose=True, delete=False) == mp.AUDIT_CLEAN
    assert "no orphaned" in capsys.readouterr().out


def test_audit_reports_then_deletes_orphans(env: dict, capsys) -> None:
    orphan = str(uuid.uuid4())
    placement_db.claim(env["api"], env["rp"], orphan, {"VCPU": 2})
    ghost = placement_db.provider_ensure(env["api"], "gone.node", "gone", env["cell_uuid"],
                                         INV)
    # Live consumers that are not (yet) instances: a build request and a move.
    building = str(uuid.uuid4())
    cells_db.build_request_create(env["api"], building, "p1", "u1", {"uuid": building}, {})
    placement_db.claim(env["api"], env["rp"], building, {"VCPU": 1})
    mig = mig_db.migration_create(env["cell1"], {
        "instance_uuid": env["inst"], "migration_type": "resize", "status": "migrating",
        "source_compute": "h1", "dest_compute": "h1"})
    placement_db.claim(env["api"], env["rp"], mig.uuid, {"VCPU": 1})

    assert mp.audit(env["api"], verbose=True, delete=False) == mp.AUDIT_FOUND
    out = capsys.readouterr().out
    assert orphan in out and ghost in out and "1 orphaned allocation(s) and 1" in out
    assert building not in out and mig.uuid not in out and env["inst"] not in out
    assert placement_db.consumer_allocations(env["api"], orphan)  # only reported

    assert mp.audit(env["api"], verbose=False, delete=True) == mp.AUDIT_DELETED
    assert not placement_db.consumer_allocations(env["api"], orphan)
    assert ghost not in {p["uuid"] for p in pq.all_providers(env["api"])}
    for live in (building, mig.uuid, env["inst"]):
        assert placement_db.consumer_allocations(env["api"], live)
    assert mp.audit(env["api"], verbose=False, delete=False) == mp.AUDIT_CLEAN


def test_heal_allocations(env: dict, capsys) -> None:
    assert mp.heal_allocations(env["api"]) == mp.HEAL_NOTHING
    placement_db.release(env["api"], env["inst"])
    assert mp.heal_allocations(env["api"], max_count=0) == mp.BAD_INPUT
    assert mp.heal_allocations(env["api"], dry_run=True, verbose=True) == mp.HEAL_DONE
    assert not placement_db.consumer_allocations(env["api"], env["inst"])
    assert mp.heal_allocations(env["api"], verbose=True) == mp.HEAL_DONE
    healed = placement_db.consumer_allocations(env["api"], env["inst"])
    assert healed == {env["rp"]: {"VCPU": 1, "MEMORY_MB": 128, "DISK_GB": 1}}
    assert mp.heal_allocations(env["api"]) == mp.HEAL_NOTHING


def test_heal_stops_at_max_count_and_without_a_provider(env: dict) -> None:
    placement_db.release(env["api"], env["inst"])
    other = new_instance(host="h1", node="h1.node", vm_state="active", task_state=None)
    create_instance(env["cell1"], other, "cell1")
    assert mp.heal_allocations(env["api"], max_count=1) == mp.HEAL_MORE
    assert mp.heal_allocations(env["api"], max_count=1) == mp.HEAL_DONE
    lost = new_instance(host="h9", node="h9.node", vm_state="active", task_state=None)
    create_instance(env["cell1"], lost, "cell1")
    assert mp.heal_allocations(env["api"]) == mp.HEAL_NO_NODE


def test_compute_traits_keep_an_operators_custom_traits(env: dict) -> None:
    from nova_lite.db import placement_write as pw

    pw.traits_ensure(env["api"], ["CUSTOM_GOLD", "COMPUTE_NODE"])
    gen = pq.provider_get(env["api"], env["rp"])["generation"]
    pw.traits_set(env["api"], env["rp"], gen, ["CUSTOM_GOLD", "COMPUTE_NODE"])
    placement_db.provider_traits_set(env["api"], "h1.node", ["COMPUTE_NODE", "HW_CPU_X86_SSE"],
                                     keep_custom=True)
    traits = pq.provider_detail(env["api"], env["rp"], "traits")["traits"]
    assert traits == ["COMPUTE_NODE", "CUSTOM_GOLD", "HW_CPU_X86_SSE"]
    placement_db.provider_traits_set(env["api"], "h1.node", ["COMPUTE_NODE"])
    assert pq.provider_detail(env["api"], env["rp"], "traits")["traits"] == ["COMPUTE_NODE"]


def test_endpoint_consumers_and_project_usages_include_moves(env: dict) -> None:
    from nova_lite.conductor.cells import CellDirectory
    from nova_lite.conductor.placement import PlacementEndpoint

    # The instance's mapping, as the API records it with its build request.
    cells_db.build_request_create(env["api"], env["inst"], "p1", "u1", {}, {})
    cells_db.build_request_delete(env["api"], env["inst"])
    ep = PlacementEndpoint(env["api"], CellDirectory(env["api"], None))
    mig = mig_db.migration_create(env["cell1"], {
        "instance_uuid": env["inst"], "migration_type": "migration", "status": "migrating",
        "source_compute": "h1", "dest_compute": "h1"})
    placement_db.claim(env["api"], env["rp"], mig.uuid, {"VCPU": 1, "MEMORY_MB": 128})
    got = ep.consumer_get(None, mig.uuid)
    assert (got["project_id"], got["user_id"], got["consumer_type"]) == ("p1", "u1",
                                                                         "MIGRATION")
    assert ep.consumer_get(None, env["inst"])["consumer_type"] == "INSTANCE"
    usages = ep.usages_for(None, "p1")
    assert usages["all"] == {"VCPU": 2, "MEMORY_MB": 256} and usages["count"] == 2
    assert usages["by_type"]["MIGRATION"] == {"count": 1,
                                              "resources": {"VCPU": 1, "MEMORY_MB": 128}}
    assert ep.usages_for(None, "p1", "someone-else")["count"] == 0


def test_heal_claims_no_root_disk_for_a_volume_backed_server(env: dict) -> None:
    from nova_lite.db import block_devices as bdm_db

    placement_db.release(env["api"], env["inst"])
    bdm_db.bdm_create(env["cell1"], env["inst"], {
        "source_type": "image", "destination_type": "volume", "boot_index": 0,
        "volume_id": str(uuid.uuid4()), "volume_size": 1})
    assert mp.heal_allocations(env["api"]) == mp.HEAL_DONE
    assert placement_db.consumer_allocations(env["api"], env["inst"]) == {
        env["rp"]: {"VCPU": 1, "MEMORY_MB": 128}}
