"""nova-lite-status upgrade check: is this deployment ready to serve?

Built on oslo.upgradecheck, as nova-status is: exit codes 0 all checks passed, 1 a
warning, 2 a failure, 255 an error; ``--json`` for machines.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Optional

from oslo_upgradecheck import upgradecheck

from nova_lite import config
from nova_lite.conf import CONF

SUCCESS, WARNING, FAILURE = (upgradecheck.Code.SUCCESS.value, upgradecheck.Code.WARNING.value,
                              upgradecheck.Code.FAILURE.value)


def _check_schema() -> tuple[int, Optional[str]]:
    from nova_lite.db import cells as cells_db
    from nova_lite.db import migration

    api_url = CONF.api_database.connection
    if not api_url:
        return FAILURE, "[api_database] connection is not set."
    behind = []
    if migration.current_version("api", api_url) != migration.head_version("api"):
        behind.append("API database (run `nova-lite-manage api_db sync`)")
    for cell in cells_db.cell_list(api_url):
        url = cell["database_connection"]
        try:
            at = migration.current_version("main", url)
        except Exception as err:
            behind.append(f"cell {cell['name']} (unreachable: {err.__class__.__name__})")
            continue
        if at != migration.head_version("main"):
            behind.append(f"cell {cell['name']} (run `nova-lite-manage db sync`)")
    if behind:
        return FAILURE, "Database schema is not at head: " + "; ".join(behind) + "."
    return SUCCESS, None


def _check_cells() -> tuple[int, Optional[str]]:
    from nova_lite.db import cells as cells_db

    api_url = CONF.api_database.connection
    if not api_url:
        return FAILURE, "[api_database] connection is not set."
    try:
        cells = cells_db.cell_list(api_url)
    except Exception:
        return FAILURE, "The API database has no schema; run `nova-lite-manage api_db sync`."
    if not any(c["uuid"] == cells_db.CELL0_UUID for c in cells):
        return FAILURE, "No cell0 mapping found. Run `nova-lite-manage cell_v2 map_cell0`."
    if len(cells) < 2:
        return FAILURE, ("No cells (other than cell0) are mapped. Run "
                         "`nova-lite-manage cell_v2 create_cell`.")
    return SUCCESS, None


def _check_hosts() -> tuple[int, Optional[str]]:
    from nova_lite.db import cells as cells_db
    from nova_lite.db import services as svc_db

    api_url = CONF.api_database.connection
    unmapped = []
    total = 0
    try:
        cells = cells_db.cell_list(api_url)
    except Exception:
        return FAILURE, "The API database is not reachable or has no schema."
    for cell in cells:
        if cell["uuid"] == cells_db.CELL0_UUID:
            continue
        try:
            unmapped.extend(svc_db.unmapped_compute_hosts(cell["database_connection"]))
            total += len(svc_db.compute_node_list(cell["database_connection"], 60, None))
        except Exception:
            return FAILURE, f"Cell {cell['name']} database is not reachable or has no schema."
    if unmapped:
        return WARNING, (f"Compute hosts not mapped to a cell: {', '.join(sorted(unmapped))}. "
                         "Run `nova-lite-manage cell_v2 discover_hosts`.")
    if total == 0:
        return WARNING, "No compute nodes have reported yet."
    return SUCCESS, None


class Checks(upgradecheck.UpgradeCommands):
    """The checks of ``nova-lite-status upgrade check`` (oslo.upgradecheck prints the
    table, offers --json and turns the worst result into the exit code)."""

    @staticmethod
    def _result(fn: Callable[[], tuple[int, Optional[str]]]) -> upgradecheck.Result:
        """A check that cannot run (e.g. its database does not exist yet) fails with
        the reason; the other checks still run."""
        try:
            code, details = fn()
        except Exception as err:
            code, details = FAILURE, f"check raised {err.__class__.__name__}: {err}"
        return upgradecheck.Result(upgradecheck.Code(code), details)

    def _schema(self) -> upgradecheck.Result:
        return self._result(_check_schema)

    def _cells(self) -> upgradecheck.Result:
        return self._result(_check_cells)

    def _hosts(self) -> upgradecheck.Result:
        return self._result(_check_hosts)

    _upgrade_checks = (
        ("Database schema", _schema),
        ("Cells v2", _cells),
        ("Compute hosts", _hosts),
    )


def main(argv: Optional[list[str]] = None) -> None:
    from nova_lite.db import engine

    engine.configure(CONF)
    default_files = [config.DEFAULT_CONFIG] if os.path.exists(config.DEFAULT_CONFIG) else []
    sys.exit(upgradecheck.main(CONF, "nova-lite", Checks(),
                               sys.argv[1:] if argv is None else argv,
                               default_config_files=default_files))
