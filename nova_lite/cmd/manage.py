"""nova-lite-manage: the operator's set-up commands, named as nova-manage names them.

Exit codes follow nova-manage: 0 success, 1 a required setting is missing or a check
failed, 2 the thing already exists (create_cell); update_cell has its own.
"""

from __future__ import annotations

import sys
from typing import Optional

from oslo_config import cfg

from nova_lite import config, objects
from nova_lite.conf import CONF


def _add_parsers(subparsers: object) -> None:
    api_db = subparsers.add_parser("api_db")
    api_db_sub = api_db.add_subparsers(dest="action")
    api_db_sub.add_parser("sync")
    api_db_sub.add_parser("version")

    db = subparsers.add_parser("db")
    db_sub = db.add_subparsers(dest="action")
    sync = db_sub.add_parser("sync")
    sync.add_argument("--local_cell", action="store_true")
    db_sub.add_parser("version")

    cell_v2 = subparsers.add_parser("cell_v2")
    cs = cell_v2.add_subparsers(dest="action")
    m0 = cs.add_parser("map_cell0")
    m0.add_argument("--database_connection", "--database-connection",
                    dest="cell_database_connection")
    cc = cs.add_parser("create_cell")
    # Not dest "name": the SubCommandOpt keeps the category's name there (CONF.category.name).
    cc.add_argument("--name", dest="cell_name")
    cc.add_argument("--transport-url", "--transport_url", dest="cell_transport_url")
    cc.add_argument("--database_connection", "--database-connection",
                    dest="cell_database_connection")
    cc.add_argument("--verbose", action="store_true")
    uc = cs.add_parser("update_cell")
    uc.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid", required=True)
    uc.add_argument("--name", dest="cell_name")
    uc.add_argument("--transport-url", "--transport_url", dest="cell_transport_url")
    uc.add_argument("--database_connection", "--database-connection",
                    dest="cell_database_connection")
    uc.add_argument("--disable", action="store_true")
    uc.add_argument("--enable", action="store_true")
    lc = cs.add_parser("list_cells")
    lc.add_argument("--verbose", action="store_true")
    dh = cs.add_parser("discover_hosts")
    dh.add_argument("--verbose", action="store_true")
    cs.add_parser("list_hosts")
    dl = cs.add_parser("delete_host")
    dl.add_argument("--cell_uuid", "--cell-uuid", dest="cell_uuid", required=True)
    # Not dest "host": the category namespace resolves that name to [DEFAULT] host.
    dl.add_argument("--host", dest="host_name", required=True)

    image = subparsers.add_parser("image")
    isub = image.add_subparsers(dest="action")
    imp = isub.add_parser("import")
    imp.add_argument("--name", dest="image_name", required=True)
    imp.add_argument("--disk-format", "--disk_format", dest="disk_format", default="raw")
    imp.add_argument("--container-format", "--container_format", dest="container_format")
    imp.add_argument("--property", action="append", default=[], metavar="KEY=VALUE")
    imp.add_argument("--visibility", default="public",
                     choices=["public", "private", "shared", "community"])
    imp.add_argument("file")
    isub.add_parser("list")

    plc = subparsers.add_parser("placement")
    psub = plc.add_subparsers(dest="action")
    aud = psub.add_parser("audit")
    aud.add_argument("--verbose", action="store_true")
    aud.add_argument("--delete", action="store_true")
    heal = psub.add_parser("heal_allocations")
    heal.add_argument("--verbose", action="store_true")
    heal.add_argument("--dry-run", "--dry_run", dest="dry_run", action="store_true")
    heal.add_argument("--max-count", "--max_count", dest="max_count", type=int)
    heal.add_argument("--instance", dest="instance_uuid")

    flavor = subparsers.add_parser("flavor")
    fsub = flavor.add_subparsers(dest="action")
    fsub.add_parser("create_defaults")


category_opt = cfg.SubCommandOpt("category", title="Command categories", handler=_add_parsers)


def _api_url() -> str:
    url = CONF.api_database.connection
    if not url:
        print("[api_database] connection is not set", file=sys.stderr)
        sys.exit(1)
    return url


def _main_url() -> str:
    url = CONF.database.connection
    if not url:
        print("[database] connection is not set", file=sys.stderr)
        sys.exit(1)
    return url


def _mask(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        import re

        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:****@", url)


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    print(sep)
    print("|" + "|".join(f" {h:<{w}} " for h, w in zip(headers, widths)) + "|")
    print(sep)
    for r in rows:
        print("|" + "|".join(f" {str(c):<{w}} " for c, w in zip(r, widths)) + "|")
    print(sep)


def cmd_api_db(action: str) -> int:
    from nova_lite.db import bootstrap, migration

    url = _api_url()
    if action == "sync":
        bootstrap.sync("api", url)
        return 0
    print(migration.current_version("api", url))
    return 0


def cmd_db(action: str, local_cell: bool = False) -> int:
    from nova_lite.db import bootstrap, migration
    from nova_lite.db import cells as cells_db

    url = _main_url()
    if action == "version":
        print(migration.current_version("main", url))
        return 0
    bootstrap.sync("main", url)
    if not local_cell and CONF.api_database.connection:
        for cell in cells_db.cell_list(CONF.api_database.connection):
            if cell["uuid"] == cells_db.CELL0_UUID and cell["database_connection"] != url:
                bootstrap.sync("main", cell["database_connection"])
    return 0


def cmd_cell_v2(args: object) -> int:
    from nova_lite.db import bootstrap, discovery
    from nova_lite.db import cells as cells_db

    api_url = _api_url()
    action = args.action
    if action == "map_cell0":
        cell0_url = args.cell_database_connection or bootstrap.cell0_url_from(_main_url())
        if bootstrap.map_cell0(api_url, cell0_url):
            print("Cell0 mapped.")
        else:
            print("Cell0 is already setup")
        return 0
    if action == "create_cell":
        transport = args.cell_transport_url or CONF.transport_url
        db_url = args.cell_database_connection or CONF.database.connection
        if not transport:
            print("Must specify --transport-url if [DEFAULT]/transport_url is not set "
                  "in the configuration file.")
            return 1
        if not db_url:
            print("Must specify --database_connection if [database]/connection is not set "
                  "in the configuration file.")
            return 1
        existing = bootstrap.find_cell(api_url, transport, db_url)
        if existing:
            print("The specified transport_url and/or database_connection combination "
                  f"already exists for another cell with uuid {existing['uuid']}.")
            return 2
        cell = cells_db.cell_create(api_url, args.cell_name, transport, db_url)
        if args.verbose:
            print(cell["uuid"])
        return 0
    if action == "update_cell":
        return _update_cell(api_url, args)
    if action == "list_cells":
        rows = [[c["name"] or "", c["uuid"],
                 c["transport_url"] if args.verbose else _mask(c["transport_url"]),
                 c["database_connection"] if args.verbose else _mask(c["database_connection"]),
                 str(c["disabled"])]
                for c in sorted(cells_db.cell_list(api_url), key=lambda c: c["name"] or "")]
        _print_table(["Name", "UUID", "Transport URL", "Database Connection", "Disabled"],
                     rows)
        return 0
    if action == "list_hosts":
        rows = [[m["cell_name"] or "", m["cell_uuid"], m["host"]]
                for m in cells_db.host_mapping_list(api_url)]
        _print_table(["Cell Name", "Cell UUID", "Hostname"], rows)
        return 0
    if action == "discover_hosts":
        cells = [c for c in cells_db.cell_list(api_url) if c["uuid"] != cells_db.CELL0_UUID]
        if args.verbose:
            for c in cells:
                print(f"Found cell {c['name'] or ''} ({c['uuid']}); checking for unmapped "
                      "hosts.")
        found = discovery.discover_hosts(api_url)
        if args.verbose:
            for host, cell_name in found:
                print(f"Mapped compute host {host} to cell {cell_name}.")
            print(f"Found {len(found)} unmapped computes in {len(cells)} cell(s).")
        return 0
    if action == "delete_host":
        from nova_lite.db import host_removal

        rc, message = host_removal.delete_host(api_url, args.cell_uuid, args.host_name)
        if message:
            print(message)
        return rc
    print(f"unknown cell_v2 command {action}", file=sys.stderr)
    return 1


def _update_cell(api_url: str, args: object) -> int:
    """nova-manage's update_cell and its exit codes: 1 no such cell, 2 not stored, 3 the
    transport and database are another cell's, 4 --enable with --disable, 5 cell0
    enabled or disabled. A URL not given is [DEFAULT] transport_url / [database]
    connection, else the cell's own."""
    from nova_lite.db import cells as cells_db

    if args.enable and args.disable:
        print("Cell cannot be disabled and enabled at same time.")
        return 4
    cells = cells_db.cell_list(api_url)
    cell = next((c for c in cells if c["uuid"] == args.cell_uuid), None)
    if cell is None:
        print(f"Cell with uuid {args.cell_uuid} was not found.")
        return 1
    if (args.enable or args.disable) and cell["uuid"] == cells_db.CELL0_UUID:
        print("Cell0 cannot be disabled.")
        return 5
    values: dict = {
        "transport_url": args.cell_transport_url or CONF.transport_url or cell["transport_url"],
        "database_connection": (args.cell_database_connection or CONF.database.connection
                                or cell["database_connection"])}
    if cell["uuid"] == cells_db.CELL0_UUID and not args.cell_transport_url:
        values["transport_url"] = cell["transport_url"]  # cell0 has no message bus
    if args.cell_name:
        values["name"] = args.cell_name
    if args.enable or args.disable:
        values["disabled"] = bool(args.disable)
    for other in cells:
        if other["uuid"] != cell["uuid"] and (
                other["transport_url"], other["database_connection"]) == (
                values["transport_url"], values["database_connection"]):
            print("The specified transport_url and/or database_connection combination "
                  f"already exists for another cell with uuid {other['uuid']}.")
            return 3
    try:
        cells_db.cell_update(api_url, cell["uuid"], values)
    except Exception as err:  # noqa: BLE001 - nova-manage's "could not be set"
        print(f"Unable to update CellMapping: {err}")
        return 2
    return 0


def cmd_image(args: object) -> int:
    from nova_lite import exception
    from nova_lite.image import api as image_api

    store = image_api.get_image_api(CONF)
    if args.action == "list":
        for img in store.list(None):
            print(f"{img['id']}  {img['disk_format'] or '-':6} {img['size'] or 0:>12}  "
                  f"{img['status']:6}  {img['name']}")
        return 0
    props = {}
    for item in args.property:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"--property must be KEY=VALUE, got {item!r}", file=sys.stderr)
            return 1
        props[key] = value
    container_format = args.container_format or (
        args.disk_format if args.disk_format in ("aki", "ari", "ami") else "bare")
    try:
        meta = store.import_file(None, args.file, {
            "name": args.image_name, "disk_format": args.disk_format,
            "container_format": container_format, "visibility": args.visibility,
            "properties": props})
    except (exception.NovaLiteException, OSError) as err:
        print(f"image import failed: {err}", file=sys.stderr)
        return 1
    print(f"Imported {meta['name']} ({meta['disk_format']}, {meta['size']} bytes)")
    print(meta["id"])
    return 0


def cmd_flavor(args: object) -> int:
    from nova_lite.db import flavors as flavors_db

    n = flavors_db.ensure_default_flavors(_api_url())
    print(f"Created {n} flavor(s).")
    return 0


def cmd_placement(args: object) -> int:
    from nova_lite.cmd import manage_placement

    if args.action == "audit":
        return manage_placement.audit(_api_url(), args.verbose, args.delete)
    return manage_placement.heal_allocations(_api_url(), args.verbose, args.dry_run,
                                             args.max_count, args.instance_uuid)


def main(argv: Optional[list[str]] = None) -> None:
    CONF.register_cli_opt(category_opt)
    config.parse_args(sys.argv[1:] if argv is None else argv)
    objects.register_all()
    from nova_lite.db import engine

    engine.configure(CONF)
    cat = CONF.category
    if cat.name is None or getattr(cat, "action", None) is None:
        print("usage: nova-lite-manage {api_db,db,cell_v2,image,placement,flavor} ACTION ...",
              file=sys.stderr)
        sys.exit(1)
    if cat.name == "api_db":
        rc = cmd_api_db(cat.action)
    elif cat.name == "db":
        rc = cmd_db(cat.action, getattr(cat, "local_cell", False))
    elif cat.name == "cell_v2":
        rc = cmd_cell_v2(cat)
    elif cat.name == "image":
        rc = cmd_image(cat)
    elif cat.name == "placement":
        rc = cmd_placement(cat)
    else:
        rc = cmd_flavor(cat)
    sys.exit(rc)
