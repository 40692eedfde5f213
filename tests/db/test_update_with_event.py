"""instance_update with an action event: the update, the event and the action's finish
in one transaction (a build's two compute updates cost two transactions, not six)."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.db import instances as inst_db
from tests.db.test_cells_instances import new_instance


def test_update_records_the_event_and_finishes_the_action(cell_url: str) -> None:
    inst = new_instance()
    inst_db.instance_create_with_action(cell_url, inst, None, "req-1", "u1", "p1")
    ev = {"request_id": "req-1", "event": "compute_build", "host": "h1"}
    inst_db.instance_update(cell_url, inst.uuid, {"task_state": "spawning"}, "scheduling",
                            event=dict(ev, phase="start"))
    [action] = inst_db.action_list(cell_url, inst.uuid, with_events=True)
    assert action.finish_time is None
    assert [(e.event, e.finish_time) for e in action.events] == [("compute_build", None)]
    out = inst_db.instance_update(cell_url, inst.uuid, {"vm_state": "active",
                                                        "task_state": None}, "spawning",
                                  event=dict(ev, phase="finish", result="Success"),
                                  load=False)
    assert out is None  # the caller did not ask for the instance back
    assert inst_db.instance_get(cell_url, inst.uuid).vm_state == "active"
    [action] = inst_db.action_list(cell_url, inst.uuid, with_events=True)
    assert action.finish_time is not None
    [event] = action.events
    assert event.finish_time is not None and event.result == "Success"
    assert action.finish_time == action.updated_at


def test_a_refused_update_records_no_event(cell_url: str) -> None:
    inst = new_instance()
    inst_db.instance_create_with_action(cell_url, inst, None, "req-1", "u1", "p1")
    with pytest.raises(exception.InstanceInvalidState):
        inst_db.instance_update(cell_url, inst.uuid, {"task_state": None}, "spawning",
                                event={"request_id": "req-1", "event": "e", "phase": "start"})
    [action] = inst_db.action_list(cell_url, inst.uuid, with_events=True)
    assert action.events == []


@pytest.mark.parametrize("load", [True, False])
def test_guard_refuses_and_says_why_read_back_or_not(cell_url: str, load: bool) -> None:
    """Whether the row is read first (load) or the guard is the UPDATE's own condition
    (plain values, nothing read back), the outcome is the same."""
    inst = new_instance()
    inst_db.instance_create_with_action(cell_url, inst, None, "req-1", "u1", "p1")
    before = inst_db.instance_get(cell_url, inst.uuid)
    assert before.task_state == "scheduling"
    with pytest.raises(exception.InstanceInvalidState, match="scheduling"):
        inst_db.instance_update(cell_url, inst.uuid, {"task_state": "deleting"},
                                ["spawning", None], load=load)
    assert inst_db.instance_get(cell_url, inst.uuid).task_state == "scheduling"
    inst_db.instance_update(cell_url, inst.uuid, {"task_state": None, "power_state": 1},
                            "scheduling", load=load)
    # None in the allowed states matches a server with no task.
    inst_db.instance_update(cell_url, inst.uuid,
                            {"vm_state": "active", "launched_at": before.created_at},
                            ["spawning", None], load=load)
    after = inst_db.instance_get(cell_url, inst.uuid)
    assert (after.vm_state, after.task_state, after.power_state) == ("active", None, 1)
    assert after.launched_at == before.created_at
    assert after.updated_at is not None
    inst_db.instance_destroy(cell_url, inst.uuid)
    with pytest.raises(exception.InstanceNotFound):
        inst_db.instance_update(cell_url, inst.uuid, {"task_state": None}, load=load)
