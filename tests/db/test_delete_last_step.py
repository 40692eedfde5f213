"""A delete's last step (the host destroyed the guest): the record, its console tokens,
its claims (its unfinished moves' too), its group membership and its mapping go in one
cell transaction and one API-database transaction, and a retry after a crash between
them still finds the moves whose claims are left."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.db import cells as cells_db
from nova_lite.db import engine as db_engine
from nova_lite.db import guest_access as guest_db
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import server_groups as groups_db
from tests.db.test_builds_always_end import _Tasks
from tests.db.test_cells_instances import create_instance, new_instance

VCPU = {"VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}}


@pytest.fixture
def server(api_url: str, mapped_cells: dict) -> dict:
    """A server in cell1 on h1 mid-move to h2: claims for it and for the move, a group
    membership and a console token."""
    cell1 = mapped_cells["cell1"]
    inst = new_instance(host="h1", node="h1", vm_state="active", task_state="deleting")
    cells_db.build_request_create(api_url, inst.uuid, "p1", "u1", inst.obj_to_primitive(),
                                  {})
    create_instance(cell1, inst)
    assert cells_db.hand_over(api_url, inst.uuid, mapped_cells["cell1_uuid"])
    h1 = placement_db.provider_ensure(api_url, "h1", "h1", None, VCPU)
    h2 = placement_db.provider_ensure(api_url, "h2", "h2", None, VCPU)
    mig = mig_db.migration_create(cell1, {
        "instance_uuid": inst.uuid, "migration_type": "migration", "status": "migrating",
        "source_compute": "h1", "dest_compute": "h2"})
    placement_db.claim(api_url, h1, mig.uuid, {"VCPU": 1})
    placement_db.claim(api_url, h2, inst.uuid, {"VCPU": 1})
    group = groups_db.group_create(api_url, "g", "p1", "u1", "anti-affinity", {})
    groups_db.members_add(api_url, group.uuid, [inst.uuid])
    guest_db.console_token_create(cell1, "secret", "novnc", "h1", 5900, None, inst.uuid,
                                  600, None)
    return {"api": api_url, "cell1": cell1, "inst": inst, "mig": mig.uuid}


def _left(s: dict) -> dict:
    uuid = s["inst"].uuid
    return {"claims": sorted(placement_db.consumers_on_provider(s["api"], "h1")
                             + placement_db.consumers_on_provider(s["api"], "h2")),
            "member": groups_db.groups_of(s["api"], uuid),
            "token": guest_db.console_token_get(s["cell1"], "secret"),
            "queued": cells_db.instance_mapping_get(s["api"], uuid)["queued_for_delete"],
            "move": mig_db.migration_get(s["cell1"], s["mig"]).status}


def _transactions_of(monkeypatch, step) -> list[str]:
    """The database URL of each transaction ``step()`` runs, in order."""
    urls: list[str] = []
    real = db_engine.run_in_transaction

    def counted(url, fn, *args, **kwargs):
        urls.append(url)
        return real(url, fn, *args, **kwargs)

    monkeypatch.setattr(db_engine, "run_in_transaction", counted)
    try:
        step()
    finally:
        monkeypatch.undo()
    return urls


def test_one_cell_and_one_api_transaction_and_nothing_left(server: dict,
                                                           monkeypatch) -> None:
    t = _Tasks(server["api"])
    urls = _transactions_of(monkeypatch,
                            lambda: t._destroy(server["cell1"], server["inst"].uuid))
    # the two transactions, then the move's end (there is a move)
    assert urls == [server["cell1"], server["api"], server["cell1"]]
    assert _left(server) == {"claims": [], "member": [], "token": None, "queued": True,
                             "move": "error"}
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_get(server["cell1"], server["inst"].uuid)


def test_a_retry_after_a_crash_before_the_moves_ended_drops_their_claims(
        server: dict, monkeypatch) -> None:
    t = _Tasks(server["api"])
    # the API transaction fails (the database went away): the move is left unfinished
    monkeypatch.setattr(groups_db, "member_remove_in",
                        lambda *a: (_ for _ in ()).throw(RuntimeError("gone")))
    with pytest.raises(RuntimeError):
        t._destroy(server["cell1"], server["inst"].uuid)
    monkeypatch.undo()
    assert _left(server)["move"] == "migrating"
    assert _left(server)["claims"]  # rolled back with the rest
    t._destroy(server["cell1"], server["inst"].uuid)
    assert _left(server) == {"claims": [], "member": [], "token": None, "queued": True,
                             "move": "error"}


def test_the_hosts_finish_of_the_delete_comes_in_the_same_cell_transaction(
        server: dict, monkeypatch) -> None:
    """The host's last call of a delete: its event's finish and the action's finish are
    written with the record's deletion, not in a transaction of their own."""
    uuid, cell1 = server["inst"].uuid, server["cell1"]
    inst_db.action_start(cell1, uuid, "delete", "req-del", "u1", "p1")
    inst_db.action_event(cell1, uuid, "req-del", "compute_terminate_instance", "start", "h1")
    t = _Tasks(server["api"])
    urls = _transactions_of(monkeypatch, lambda: t._destroy(
        cell1, uuid, "req-del", "compute_terminate_instance", "h1"))
    assert urls == [cell1, server["api"], cell1]
    [action] = inst_db.action_list(cell1, uuid, with_events=True, request_id="req-del")
    assert action.finish_time is not None
    [event] = action.events
    assert (event.event, event.result, event.host) == ("compute_terminate_instance",
                                                       "Success", "h1")
    assert event.finish_time is not None
    assert _left(server)["claims"] == []
