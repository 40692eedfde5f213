"""Client of the conductor's ``placement`` RPC namespace (the Placement API's only way
to the data). Version history: 1.0 - initial version."""

from __future__ import annotations

from typing import Any, Optional

import oslo_messaging as messaging

from nova_lite import rpc
from nova_lite.conf import CONF
from nova_lite.context import RequestContext

TOPIC = "conductor"
NAMESPACE = "placement"
VERSION = "1.0"


class PlacementConductorAPI:
    def __init__(self, send_retries: Optional[int] = None) -> None:
        """``send_retries`` as ConductorAPI's: the API answers 503 within seconds of a
        message bus outage rather than holding its threads."""
        target = messaging.Target(topic=TOPIC, namespace=NAMESPACE, version=VERSION)
        self.client = messaging.get_rpc_client(
            rpc.get_transport(), target, version_cap=VERSION,
            timeout=CONF.rpc_response_timeout, serializer=rpc.RequestContextSerializer())
        self._retry = send_retries

    def _call(self, ctx: RequestContext, method: str, **kwargs: Any) -> Any:
        return self.client.prepare(retry=self._retry).call(ctx, method, **kwargs)

    def provider_list(self, ctx: RequestContext, filters: dict) -> list:
        """[{"uuid", "name", "generation", "host"}] passing ``filters`` (name, uuid,
        member_of, resources, required, forbidden)."""
        return self._call(ctx, "provider_list", filters=filters)

    def provider_get(self, ctx: RequestContext, uuid: str) -> dict:
        return self._call(ctx, "provider_get", uuid=uuid)

    def provider_detail(self, ctx: RequestContext, uuid: str, what: str) -> dict:
        return self._call(ctx, "provider_detail", uuid=uuid, what=what)

    def inventories_set(self, ctx: RequestContext, uuid: str, generation: int,
                        inventories: dict, replace: bool = True) -> int:
        return self._call(ctx, "inventories_set", uuid=uuid, generation=generation,
                          inventories=inventories, replace=replace)

    def inventory_delete(self, ctx: RequestContext, uuid: str, resource_class: str) -> int:
        return self._call(ctx, "inventory_delete", uuid=uuid, resource_class=resource_class)

    def provider_traits_set(self, ctx: RequestContext, uuid: str, generation: int,
                            traits: list) -> int:
        return self._call(ctx, "provider_traits_set", uuid=uuid, generation=generation,
                          traits=traits)

    def provider_aggregates_set(self, ctx: RequestContext, uuid: str,
                                generation: Optional[int], aggregates: list) -> int:
        return self._call(ctx, "provider_aggregates_set", uuid=uuid, generation=generation,
                          aggregates=aggregates)

    def trait_list(self, ctx: RequestContext, names_in: Optional[list] = None,
                   startswith: Optional[str] = None, associated: Optional[bool] = None
                   ) -> list:
        return self._call(ctx, "trait_list", names_in=names_in, startswith=startswith,
                          associated=associated)

    def trait_create(self, ctx: RequestContext, name: str) -> bool:
        return self._call(ctx, "trait_create", name=name)

    def trait_delete(self, ctx: RequestContext, name: str) -> None:
        return self._call(ctx, "trait_delete", name=name)

    def resource_class_list(self, ctx: RequestContext) -> list:
        return self._call(ctx, "resource_class_list")

    def consumer_get(self, ctx: RequestContext, consumer_id: str) -> dict:
        return self._call(ctx, "consumer_get", consumer_id=consumer_id)

    def consumer_allocations_set(self, ctx: RequestContext, consumer_id: str,
                                 allocations: dict,
                                 consumer_generation: Any = "__unchecked__") -> None:
        return self._call(ctx, "consumer_allocations_set", consumer_id=consumer_id,
                          allocations=allocations, consumer_generation=consumer_generation)

    def consumer_allocations_delete(self, ctx: RequestContext, consumer_id: str) -> None:
        return self._call(ctx, "consumer_allocations_delete", consumer_id=consumer_id)

    def usages_for(self, ctx: RequestContext, project_id: str,
                   user_id: Optional[str] = None) -> dict:
        return self._call(ctx, "usages_for", project_id=project_id, user_id=user_id)

    def allocation_candidates(self, ctx: RequestContext, filters: dict,
                              limit: Optional[int] = None) -> list:
        return self._call(ctx, "allocation_candidates", filters=filters, limit=limit)
