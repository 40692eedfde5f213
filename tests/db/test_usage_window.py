"""Instances active in a time window (usage reports), deleted ones included, paged by
(project, uuid) across cells, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nova_lite import exception
from nova_lite.conductor.usage import UsageMixin
from nova_lite.db import instances as inst_db
from tests.db.test_cells_instances import create_instance, new_instance
from tests.db.test_quota import Cells

T0 = datetime(2026, 1, 1)
H = timedelta(hours=1)


def test_window_and_paging(migrated_db) -> None:
    cell_a, cell_b = migrated_db("main"), migrated_db("main")
    made = {}
    for url, name, project, launched, ended in (
            (cell_a, "before", "p1", T0 - 5 * H, T0 - 1 * H),   # ended before: out
            (cell_a, "lived", "p1", T0 + H, T0 + 2 * H),        # deleted inside: in
            (cell_b, "running", "p1", T0 - H, None),            # in
            (cell_b, "later", "p1", T0 + 30 * H, None),         # launched after: out
            (cell_b, "other", "p2", T0, None),                  # another project
            (cell_a, "never", "p1", None, None)):               # never launched: out
        inst = create_instance(url, new_instance(project, display_name=name,
                                                         launched_at=launched), "c")
        if ended is not None:
            inst_db.instance_destroy(url, inst.uuid)
            _set_terminated(url, inst.uuid, ended)
        made[name] = inst.uuid
    usage = UsageMixin()
    usage.cells = Cells(cell_a, cell_b)
    got = usage.instances_in_window(None, "p1", T0, T0 + 24 * H)
    assert {i.display_name for i in got} == {"lived", "running"}
    assert all(i.flavor.name == "m1.nano" for i in got)
    everyone = usage.instances_in_window(None, None, T0, T0 + 24 * H)
    assert [i.display_name for i in everyone][-1] == "other"  # ordered by project
    first = usage.instances_in_window(None, None, T0, T0 + 24 * H, limit=1)
    rest = usage.instances_in_window(None, None, T0, T0 + 24 * H, marker=first[0].uuid)
    assert [i.uuid for i in first + rest] == [i.uuid for i in everyone]
    with pytest.raises(exception.Invalid, match="Marker nope could not be found"):
        usage.instances_in_window(None, None, T0, T0 + 24 * H, marker="nope")


def _set_terminated(url: str, uuid: str, when: datetime) -> None:
    import sqlalchemy as sa

    from nova_lite.db import engine as db_engine
    from nova_lite.db import main_models as m

    with db_engine.session_scope(url) as s:
        s.execute(sa.update(m.Instance).where(m.Instance.uuid == uuid)
                  .values(terminated_at=when))
