"""Conductor methods for server groups: CRUD for the API, members for builds and deletes,
and the members' hosts for the scheduler."""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import exception
from nova_lite.conductor import quota
from nova_lite.db import server_groups as groups_db

quota.register_counter("server_groups", lambda c: {
    "server_groups": groups_db.count_groups(c.session, c.project_id, c.user_id)})


class ServerGroupMixin:
    api_url: str
    quota: Any

    def server_group_create(self, ctx: Any, name: str, policy: str, rules: dict) -> Any:
        """A new group of ctx's project and user, within their server_groups quota."""
        def record(session: Any) -> Any:
            return groups_db.add_group(session, name, ctx.project_id, ctx.user_id, policy,
                                       dict(rules or {}))

        try:
            return self.quota.check_deltas(ctx, ctx.project_id, ctx.user_id,
                                           {"server_groups": 1}, record=record)
        except exception.OverQuota:
            raise exception.QuotaError(
                message="Quota exceeded, too many server groups.") from None

    def server_group_get(self, ctx: Any, uuid: str) -> Any:
        return groups_db.group_get(self.api_url, uuid)

    def server_group_list(self, ctx: Any, project_id: Optional[str]) -> list:
        return groups_db.group_list(self.api_url, project_id)

    def server_group_delete(self, ctx: Any, uuid: str) -> None:
        groups_db.group_delete(self.api_url, uuid)

    def server_groups_of(self, ctx: Any, instance_uuid: str) -> list:
        """UUIDs of the groups a server belongs to (2.71 server_groups)."""
        return groups_db.groups_of(self.api_url, instance_uuid)

    # -- used by the build and delete tasks ---------------------------------------------
    def _group_add_members(self, session: Any, request_spec: Any,
                           instance_uuids: list[str]) -> None:
        """Inside the quota step of a build: the new servers join their group, within
        the user's server_group_members quota."""
        group = request_spec.get("instance_group")
        if group is None:
            return
        _project, user = self.quota.limits(session, request_spec.project_id,
                                           request_spec.get("user_id"))
        groups_db.add_members(session, group.uuid, instance_uuids,
                              user.get("server_group_members", -1))

    def _check_metadata_items(self, session: Any, inst: Any) -> None:
        """A new server's metadata within its project's metadata_items quota."""
        project, _user = self.quota.limits(session, inst.project_id, None)
        limit = project.get("metadata_items", -1)
        if 0 <= limit < len(inst.get("metadata") or {}):
            raise exception.MetadataLimitExceeded(allowed=limit)

    def _group_refresh(self, request_spec: Any) -> Any:
        """The spec with its group's current members and their hosts, for the scheduler."""
        group = request_spec.get("instance_group")
        if group is not None:
            request_spec.instance_group = groups_db.group_get(self.api_url, group.uuid,
                                                              with_hosts=True)
        return request_spec

    def _group_forget(self, instance_uuid: str) -> None:
        groups_db.member_remove(self.api_url, instance_uuid)
