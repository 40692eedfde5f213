"""Host discovery: map compute hosts found in cell databases to their cells."""

from __future__ import annotations

from nova_lite.db import cells as cells_db
from nova_lite.db import services as svc_db


def discover_hosts(api_url: str) -> list[tuple[str, str]]:
    """Map every unmapped compute host of every cell; return (host, cell name) pairs."""
    found = []
    for cell in cells_db.cell_list(api_url):
        if cell["uuid"] == cells_db.CELL0_UUID:
            continue
        url = cell["database_connection"]
        hosts = svc_db.unmapped_compute_hosts(url)
        for host in hosts:
            if cells_db.host_mapping_create(api_url, host, cell["uuid"]):
                found.append((host, cell["name"] or cell["uuid"]))
        if hosts:
            svc_db.mark_compute_hosts_mapped(url, hosts)
    return found
