"""nova-lite-status upgrade check: is this deployment ready to serve?

Exit codes as nova-status: 0 all checks passed, 1 a warning, 2 a failure, 255 an error.
"""

from __future__ import annotations

import sys
import textwrap
from typing import Callable, Optional

from oslo_config import cfg

from nova_lite import config
from nova_lite.conf import CONF

SUCCESS, WARNING, FAILURE = 0, 1, 2
NAMES = {SUCCESS: "Success", WARNING: "Warning", FAILURE: "Failure"}


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


CHECKS: list[tuple[str, Callable[[], tuple[int, Optional[str]]]]] = [
    ("Database schema", _check_schema),
    ("Cells v2", _check_cells),
    ("Compute hosts", _check_hosts),
]


def upgrade_check() -> int:
    results = []
    for name, fn in CHECKS:
        try:
            results.append((name, *fn()))
        except Exception as err:
            results.append((name, FAILURE, f"check raised {err.__class__.__name__}: {err}"))
    width = 60
    line = "+" + "-" * (width + 2) + "+"
    print(line)
    print(f"| {'Upgrade Check Results':<{width}} |")
    print(line)
    for name, code, details in results:
        rows = [f"Check: {name}", f"Result: {NAMES[code]}"]
        detail_lines = textwrap.wrap(f"Details: {details}", width) if details else [
            "Details: None"]
        for row in rows + detail_lines:
            print(f"| {row:<{width}} |")
        print(line)
    return max(code for _, code, _ in results)


def _add_parsers(subparsers: object) -> None:
    upgrade = subparsers.add_parser("upgrade")
    sub = upgrade.add_subparsers(dest="action")
    sub.add_parser("check")


def main(argv: Optional[list[str]] = None) -> None:
    CONF.register_cli_opt(cfg.SubCommandOpt("category", handler=_add_parsers))
    config.parse_args(sys.argv[1:] if argv is None else argv)
    if CONF.category.name != "upgrade" or CONF.category.action != "check":
        print("usage: nova-lite-status upgrade check", file=sys.stderr)
        sys.exit(255)
    try:
        sys.exit(upgrade_check())
    except Exception as err:
        print(f"Error: {err}", file=sys.stderr)
        sys.exit(255)
