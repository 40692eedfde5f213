"""Client side of the scheduler RPC API.

API version history:
  1.0 - initial version
  1.1 - select_destinations(build_lease)
  1.2 - hosts_changed (fanout cast)
"""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import rpc
from nova_lite.conf import CONF
from nova_lite.context import RequestContext

TOPIC = "scheduler"
VERSION = "1.2"


class SchedulerAPI:
    def __init__(self) -> None:
        self.client = rpc.get_client(TOPIC, VERSION, version_cap=VERSION,
                                     timeout=CONF.rpc_response_timeout)

    def select_destinations(self, ctx: RequestContext, request_spec: Any,
                            instance_uuids: list[str], build_lease: Optional[str] = None
                            ) -> list:
        """Pick and claim a host for each instance; raises NoValidHost saying why not,
        ClaimSuperseded when ``build_lease`` (a build attempt's) is no longer the builds'.

        Returns one Selection per instance, in order; all-or-nothing.
        """
        return self.client.prepare().call(ctx, "select_destinations",
                                          request_spec=request_spec,
                                          instance_uuids=instance_uuids,
                                          build_lease=build_lease)

    def hosts_changed(self, ctx: RequestContext) -> None:
        """Tell every scheduler to re-read its host view before its next choice (an
        operator disabled, forced down or deleted a compute service)."""
        self.client.prepare(fanout=True, version="1.2").cast(ctx, "hosts_changed")
