"""Conductor methods for what hangs off a flavor: description, extra specs, access."""

from __future__ import annotations

from typing import Any

from nova_lite.db import flavors as flavors_db


class FlavorExtrasMixin:
    api_url: str

    def flavor_update(self, ctx: Any, flavorid: str, values: dict) -> Any:
        return flavors_db.flavor_update(self.api_url, flavorid, dict(values))

    def flavor_extra_specs_update(self, ctx: Any, flavorid: str, specs: dict) -> dict:
        return flavors_db.extra_specs_update(self.api_url, flavorid, dict(specs))

    def flavor_extra_spec_delete(self, ctx: Any, flavorid: str, key: str) -> None:
        flavors_db.extra_spec_delete(self.api_url, flavorid, key)

    def flavor_access_add(self, ctx: Any, flavorid: str, project_id: str) -> list:
        return flavors_db.access_add(self.api_url, flavorid, project_id)

    def flavor_access_remove(self, ctx: Any, flavorid: str, project_id: str) -> list:
        return flavors_db.access_remove(self.api_url, flavorid, project_id)
