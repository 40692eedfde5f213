"""The conductor's quota-set methods: what /os-quota-sets, /os-quota-class-sets and
/limits read and write (the checks themselves are in quota.py)."""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import exception
from nova_lite.conductor import quota as quota_mod
from nova_lite.db import engine as db_engine
from nova_lite.db import quotas as quotas_db

# Counted per server group, so a project or user total means nothing.
_NOT_SUMMED = {"server_group_members"}


class QuotaSetsMixin:
    api_url: str
    quota: quota_mod.QuotaEngine

    def quota_get(self, ctx: Any, project_id: str, user_id: Optional[str] = None,
                  usages: bool = False) -> dict:
        """{resource: limit}, or with usages {resource: {"limit", "in_use"}} for the
        project (or, with user_id, that user in it)."""
        def read(session: Any) -> dict:
            project, user = self.quota.limits(session, project_id, user_id)
            limits = user if user_id else project
            if not usages:
                return limits
            counted = [k for k in limits if k in quota_mod.COUNTERS and k not in _NOT_SUMMED
                       and (user_id or k not in quota_mod.PER_USER)]
            used = self.quota.usage(session, project_id, user_id, counted)
            pick = 1 if user_id else 0
            return {k: {"limit": v, "in_use": used[k][pick] if k in used else 0}
                    for k, v in limits.items()}

        return db_engine.run_in_transaction(self.api_url, read)

    def quota_defaults(self, ctx: Any) -> dict:
        return db_engine.run_in_transaction(self.api_url, self.quota.defaults)

    def quota_update(self, ctx: Any, project_id: str, user_id: Optional[str], values: dict,
                     force: bool = False) -> dict:
        """Set limits; unless ``force``, none may drop below what is in use, and a user's
        none above the project's. Returns the resulting limits."""
        values = {k: int(v) for k, v in values.items() if k in quota_mod.RESOURCES}

        def write(session: Any) -> None:
            if not force:
                project, _ = self.quota.limits(session, project_id, None)
                counted = [k for k in values if k in quota_mod.COUNTERS
                           and k not in _NOT_SUMMED and (user_id or k not in quota_mod.PER_USER)]
                used = self.quota.usage(session, project_id, user_id, counted)
                for name, limit in sorted(values.items()):
                    in_use = used[name][1 if user_id else 0] if name in used else 0
                    _validate(name, limit, in_use, project[name] if user_id else -1)
            if user_id:
                quotas_db.set_user_limits(session, project_id, user_id, values)
            else:
                quotas_db.set_project_limits(session, project_id, values)

        db_engine.run_in_transaction(self.api_url, write)
        return self.quota_get(ctx, project_id, user_id)

    def quota_delete(self, ctx: Any, project_id: str, user_id: Optional[str] = None) -> None:
        db_engine.run_in_transaction(
            self.api_url, lambda s: quotas_db.delete_limits(s, project_id, user_id))

    def quota_class_get(self, ctx: Any, class_name: str) -> dict:
        """The class's limits, the [quota] options filling what it does not set."""
        def read(session: Any) -> dict:
            values = self.quota.config_defaults()
            values.update({k: v for k, v in quotas_db.class_limits(session, class_name).items()
                           if k in values})
            return values

        return db_engine.run_in_transaction(self.api_url, read)

    def quota_class_update(self, ctx: Any, class_name: str, values: dict) -> dict:
        values = {k: int(v) for k, v in values.items() if k in quota_mod.RESOURCES}
        db_engine.run_in_transaction(
            self.api_url, lambda s: quotas_db.set_class_limits(s, class_name, values))
        return self.quota_class_get(ctx, class_name)


def _validate(name: str, limit: int, minimum: int, maximum: int) -> None:
    def inf(v: int) -> float:
        return float("inf") if v == -1 else v

    if inf(limit) < inf(minimum):
        raise exception.Invalid(
            message=f"Quota limit {limit} for {name} must be greater than or equal to "
                    f"already used and reserved {minimum}.")
    if inf(limit) > inf(maximum):
        raise exception.Invalid(
            message=f"Quota limit {limit} for {name} must be less than or equal to "
                    f"{maximum}.")
