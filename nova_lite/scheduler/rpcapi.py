"""Client side of the scheduler RPC API.

API version history:
  1.0 - initial version
"""

from __future__ import annotations

from typing import Any

from nova_lite import rpc
from nova_lite.conf import CONF
from nova_lite.context import RequestContext

TOPIC = "scheduler"
VERSION = "1.0"


class SchedulerAPI:
    def __init__(self) -> None:
        self.client = rpc.get_client(TOPIC, VERSION, version_cap=VERSION,
                                     timeout=CONF.rpc_response_timeout)

    def select_destinations(self, ctx: RequestContext, request_spec: Any,
                            instance_uuids: list[str]) -> list:
        """Pick and claim a host for each instance; raises NoValidHost saying why not.

        Returns one Selection per instance, in order; all-or-nothing.
        """
        return self.client.prepare().call(ctx, "select_destinations",
                                          request_spec=request_spec,
                                          instance_uuids=instance_uuids)
