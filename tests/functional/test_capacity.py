"""More boots than fit: exactly the capacity goes ACTIVE, the rest ERROR saying why."""

from __future__ import annotations

import collections

from tests.functional.test_boot_flow import boot_many, delete_all, image_id


def test_capacity_exhaustion_explains_why(forty_fit, tmp_path_factory):
    dep = forty_fit
    image = image_id(dep, tmp_path_factory)
    r = dep.post("/flavors", {"flavor": {"name": "disk1", "ram": 64, "vcpus": 1,
                                         "disk": 1, "id": "disk1"}})
    assert r.status_code == 200, r.text
    ids = boot_many(dep, 50, image, "disk1")
    servers = dep.wait_for_servers(ids)
    status = collections.Counter(s["status"] for s in servers.values())
    assert status == {"ACTIVE": 40, "ERROR": 10}, status
    per_host = collections.Counter(s["OS-EXT-SRV-ATTR:host"] for s in servers.values()
                                   if s["status"] == "ACTIVE")
    assert per_host == {"d1": 10, "d2": 10, "d3": 10, "d4": 10}
    for s in servers.values():
        if s["status"] == "ERROR":
            msg = s["fault"]["message"]
            assert "No valid host was found" in msg
            assert "DISK_GB" in msg and "4 host(s) considered" in msg, msg
            assert s["OS-EXT-SRV-ATTR:host"] is None
    delete_all(dep, ids)
    # all capacity is back: one more server fits
    again = boot_many(dep, 1, image, "disk1")
    assert dep.wait_for_servers(again)[again[0]]["status"] == "ACTIVE"
    delete_all(dep, again)
