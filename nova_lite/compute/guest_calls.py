"""Synchronous calls into a guest, as a ComputeManager mixin: set the administrator
password (changePassword) and read diagnostics. The caller waits for the answer, so a
guest that cannot do it is reported to the user at once (409), as Nova does."""

from __future__ import annotations

import logging
from typing import Any

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.compute.snapshot import spec_of
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)


class GuestCallsMixin:
    host: str
    conductor: Any
    driver: Any

    def set_admin_password(self, ctx: Any, instance: Any, password: str) -> None:
        """RPC call. Raises InstanceAgentNotEnabled / InstancePasswordSetFailed (409)."""
        t = states.get("changePassword")
        event = f"compute_{t.event}"
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
            try:
                self.driver.set_admin_password(spec_of(instance), password)
            except Exception as err:
                if isinstance(err, virt_driver.GuestAgentNotEnabled):
                    user_error: exception.NovaLiteException = \
                        exception.InstanceAgentNotEnabled(instance_uuid=instance.uuid)
                else:
                    LOG.exception("setting the password of %s failed", instance.uuid)
                    user_error = exception.InstancePasswordSetFailed(
                        instance_uuid=instance.uuid, reason=str(err) or type(err).__name__)
                self._password_done(ctx, instance.uuid, event, "Error", user_error)
                raise user_error from None
            self._password_done(ctx, instance.uuid, event, "Success")
            LOG.info("instance %s: administrator password set", instance.uuid)

    def _password_done(self, ctx: Any, uuid: str, event: str, result: str,
                       err: Any = None) -> None:
        try:
            self.conductor.instance_update(
                ctx, uuid, {"task_state": None}, expected_task_state=states.UPDATING_PASSWORD,
                event={"event": event, "phase": "finish", "host": self.host,
                       "result": result, "traceback": err and err.format_message()})
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed while its password was set", uuid)

    def get_diagnostics(self, ctx: Any, instance: Any) -> dict:
        """RPC call: the driver's diagnostics in Nova's 2.48 shape (plain dict)."""
        try:
            return self.driver.get_diagnostics(spec_of(instance))
        except virt_driver.DriverError as err:
            raise exception.InstanceNotReady(instance_id=instance.uuid,
                                             reason=str(err)) from err
