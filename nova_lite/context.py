"""The request context: who is asking, in which project, under which request id.

It travels with every RPC message (see nova_lite.rpc) so the conductor, scheduler and
compute log and authorise with the same identity the API saw.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Optional

_local = threading.local()


def generate_request_id() -> str:
    return f"req-{uuid.uuid4()}"


class RequestContext:
    def __init__(
        self,
        user_id: Optional[str] = None,
        project_id: Optional[str] = None,
        roles: Optional[list[str]] = None,
        is_admin: bool = False,
        request_id: Optional[str] = None,
        global_request_id: Optional[str] = None,
        auth_token: Optional[str] = None,
        user_name: Optional[str] = None,
        project_name: Optional[str] = None,
        read_deleted: str = "no",
        **_ignored: Any,
    ) -> None:
        self.user_id = user_id
        self.project_id = project_id
        self.roles = list(roles or [])
        self.is_admin = is_admin or "admin" in self.roles
        self.request_id = request_id or generate_request_id()
        self.global_request_id = global_request_id
        self.auth_token = auth_token
        self.user_name = user_name
        self.project_name = project_name
        self.read_deleted = read_deleted
        # The server a service is working on, for its log lines ([instance: uuid]); set
        # by the RPC server per call, never sent over the wire.
        self.resource_uuid: Optional[str] = None

    def to_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "roles": self.roles,
            "is_admin": self.is_admin,
            "request_id": self.request_id,
            "global_request_id": self.global_request_id,
            "auth_token": self.auth_token,
            "user_name": self.user_name,
            "project_name": self.project_name,
            "read_deleted": self.read_deleted,
        }

    @classmethod
    def from_dict(cls, values: dict) -> "RequestContext":
        return cls(**values)

    def elevated(self) -> "RequestContext":
        ctx = RequestContext.from_dict(self.to_dict())
        ctx.is_admin = True
        if "admin" not in ctx.roles:
            ctx.roles.append("admin")
        return ctx

    def to_policy_values(self) -> dict:
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "roles": self.roles,
            "is_admin": self.is_admin,
        }

    def get_logging_values(self) -> dict:
        """What oslo.log's context format strings read (logging_user_identity_format:
        user, project, domain, system_scope, user_domain, project_domain)."""
        return {
            "request_id": self.request_id,
            "global_request_id": self.global_request_id,
            "user": self.user_id,
            "project": self.project_id,
            "user_name": self.user_name,
            "project_name": self.project_name,
            "domain": None,
            "system_scope": None,
            "user_domain": None,
            "project_domain": None,
        }

    def update_store(self) -> None:
        """Make this the current thread's context (used by logging)."""
        _local.context = self

    def __repr__(self) -> str:
        return f"<RequestContext {self.request_id} user={self.user_id} project={self.project_id}>"


def get_admin_context() -> RequestContext:
    return RequestContext(user_id=None, project_id=None, is_admin=True, roles=["admin"])


def get_current() -> Optional[RequestContext]:
    return getattr(_local, "context", None)


def clear_current() -> None:
    """Forget the current thread's context (a pooled thread's next job is unrelated)."""
    _local.context = None
