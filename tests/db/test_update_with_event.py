"""instance_update with an action event: the update, the event and the action's finish
in one transaction (a build's two compute updates cost two transactions, not six); and
with an action's start (a server action's start is one transaction, not two)."""

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


@pytest.mark.parametrize("guard", ["passes", "refuses"])
def test_an_action_starts_with_its_update_or_not_at_all(cell_url: str, guard: str) -> None:
    """A server action's start: the task_state held and the action recorded in one
    transaction; a start refused by the guard records no action."""
    inst = new_instance(vm_state="active", task_state=None)
    inst_db.instance_create_with_action(cell_url, inst, None, "req-1", "u1", "p1")
    start = {"action": "pause", "request_id": "req-2", "user_id": "u2", "project_id": "p1"}
    expected = None if guard == "passes" else "spawning"
    try:
        inst_db.instance_update(cell_url, inst.uuid, {"task_state": "pausing"}, expected,
                                start_action=start)
    except exception.InstanceInvalidState:
        assert guard == "refuses"
    actions = inst_db.action_list(cell_url, inst.uuid)
    assert [(a.action, a.request_id) for a in actions][:1] == (
        [("pause", "req-2")] if guard == "passes" else [("create", "req-1")])
    assert len(actions) == (2 if guard == "passes" else 1)
    assert inst_db.instance_get(cell_url, inst.uuid).task_state == (
        "pausing" if guard == "passes" else None)


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
