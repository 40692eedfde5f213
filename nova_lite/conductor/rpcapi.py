"""Client side of the conductor RPC API: how every other service reads and writes data.

API version history:
  1.0 - initial version
  1.1 - flavor_list(project_id); flavor_update, flavor_extra_specs_update,
        flavor_extra_spec_delete, flavor_access_add, flavor_access_remove
  1.2 - instance_metadata, instance_password_set
  1.3 - server_console, console_token_validate
  1.4 - build_requests_create takes min_count and checks quota; quota_get,
        quota_defaults, quota_update, quota_delete, quota_class_get, quota_class_update
  1.5 - external_instance_event, server_attach_interface, server_detach_interface
  1.6 - server_unshelve, server_set_password, server_diagnostics
  1.7 - keypair_create, keypair_get, keypair_list, keypair_delete, instances_in_window;
        server_get and instance_actions take read_deleted
  1.8 - server_action returns the server; migration_get, migration_list, migration_step
  1.9 - claim_resources(required_traits, forbidden_traits); server_group_create,
        server_group_get, server_group_list, server_group_delete, server_groups_of;
        server_metadata_update, server_metadata_delete, server_tags_update;
        aggregate_create, aggregate_get, aggregate_list, aggregate_update,
        aggregate_delete, aggregate_add_host, aggregate_remove_host,
        host_availability_zones
  1.10 - migration_search
  1.11 - service_get, service_update, service_update_by_host, service_delete,
         host_uptime
  1.12 - claim_resources(build_lease)
  1.13 - live_migration_force_complete, live_migration_abort
  1.14 - compute_nodes_update
  1.15 - bdm_create, bdm_list_by_instance, bdm_list_by_instances, bdm_get_by_volume,
         bdm_update, bdm_destroy
  1.16 - server_attach_volume, server_detach_volume, server_update_volume
  1.17 - server_list(sort, down_cells); server_get(down_cell_minimal)
  1.18 - claim_resources_many, provider_summaries_changed
  1.19 - server_swap_volume
  1.20 - service_list(down_cell_minimal)
  1.21 - server_list returns each server with its volumes_attached (Instance 1.4)
  1.22 - server_list_rows
  1.23 - compute_node_rows
  1.24 - instance_update(reply)
  1.25 - server_list_rows(packed)
  1.26 - server_get(with_groups, with_host_status) (Instance 1.5)
  1.27 - instance_destroy(event, host)
"""

from __future__ import annotations

import json
from typing import Any, Optional

from nova_lite import exception, rpc
from nova_lite.conductor import server_rows
from nova_lite.conf import CONF
from nova_lite.context import RequestContext

TOPIC = "conductor"
VERSION = "1.27"


class ConductorAPI:
    def __init__(self, send_retries: Optional[int] = None) -> None:
        """``send_retries``: reconnections to the message bus a message waits for before
        MessageDeliveryFailure (None: as long as it takes, as services want; the API
        answers 503 at once instead of holding its threads through an outage)."""
        self.client = rpc.get_client(TOPIC, VERSION, version_cap=VERSION,
                                     timeout=CONF.rpc_response_timeout)
        self._retry = send_retries

    def _call(self, ctx: RequestContext, method: str, **kwargs: Any) -> Any:
        return self.client.prepare(retry=self._retry).call(ctx, method, **kwargs)

    def ping(self, ctx: RequestContext, timeout: float) -> str:
        """One round trip to a conductor that fails at once when the message bus is
        unreachable (MessageDeliveryFailure) instead of waiting for it (health checks)."""
        return self.client.prepare(timeout=timeout, retry=0).call(ctx, "ping")

    def wait_until_ready(self, ctx: RequestContext, timeout: float = 120) -> None:
        """Block until a conductor answers (a message sent before it has declared its
        queue is lost, so a starting service must not just fire its first call)."""
        import logging
        import time

        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client.prepare(timeout=1).call(ctx, "ping")
                return
            except rpc.MessagingTimeout:
                if time.monotonic() > deadline:
                    raise
                if attempt % 10 == 2:
                    logging.getLogger(__name__).warning(
                        "waiting for nova-lite-conductor to answer (attempt %d)", attempt)

    # -- flavors ------------------------------------------------------------------------
    def flavor_list(self, ctx: RequestContext, is_public: Optional[bool] = True,
                    min_memory_mb: int = 0, min_root_gb: int = 0,
                    project_id: Optional[str] = None) -> list:
        """Flavors by visibility; with is_public True, also the private flavors shared
        with project_id."""
        return self._call(ctx, "flavor_list", is_public=is_public,
                          min_memory_mb=min_memory_mb, min_root_gb=min_root_gb,
                          project_id=project_id)

    def flavor_get(self, ctx: RequestContext, flavorid: str) -> Any:
        return self._call(ctx, "flavor_get", flavorid=flavorid)

    def flavor_create(self, ctx: RequestContext, values: dict) -> Any:
        return self._call(ctx, "flavor_create", values=values)

    def flavor_destroy(self, ctx: RequestContext, flavorid: str) -> None:
        return self._call(ctx, "flavor_destroy", flavorid=flavorid)

    def flavor_update(self, ctx: RequestContext, flavorid: str, values: dict) -> Any:
        return self._call(ctx, "flavor_update", flavorid=flavorid, values=values)

    def flavor_extra_specs_update(self, ctx: RequestContext, flavorid: str, specs: dict
                                  ) -> dict:
        """Create or overwrite extra specs; the flavor's whole set after."""
        return self._call(ctx, "flavor_extra_specs_update", flavorid=flavorid, specs=specs)

    def flavor_extra_spec_delete(self, ctx: RequestContext, flavorid: str, key: str) -> None:
        return self._call(ctx, "flavor_extra_spec_delete", flavorid=flavorid, key=key)

    def flavor_access_add(self, ctx: RequestContext, flavorid: str, project_id: str) -> list:
        """Share a private flavor with a project; the projects sharing it after."""
        return self._call(ctx, "flavor_access_add", flavorid=flavorid,
                          project_id=project_id)

    def flavor_access_remove(self, ctx: RequestContext, flavorid: str, project_id: str
                             ) -> list:
        return self._call(ctx, "flavor_access_remove", flavorid=flavorid,
                          project_id=project_id)

    # -- servers, as the API sees them ---------------------------------------------------
    def server_create(self, ctx: RequestContext, instances: list, request_spec: Any,
                      min_count: Optional[int] = None) -> int:
        """Record build requests (durably, before answering) within the project's quota,
        then schedule them in the conductor's background. With ``min_count`` below
        len(instances), as many as fit (at least min_count, else OverQuota); returns how
        many were accepted (the first ones)."""
        try:
            return self._call(ctx, "build_requests_create", instances=instances,
                              request_spec=request_spec, schedule=True, min_count=min_count)
        except rpc.MessagingTimeout:
            # Often the reply, not the request, was lost (the message bus went away while
            # the conductor answered): the recorded build requests tell.
            recorded = self._recorded(ctx, [i.uuid for i in instances])
            if recorded:
                return recorded
            raise

    def _recorded(self, ctx: RequestContext, uuids: list[str]) -> int:
        """How many of the servers (the first ones) exist, looking for up to
        rpc_response_timeout: a request still queued for a busy conductor counts too."""
        import time

        from nova_lite import exception

        deadline = time.monotonic() + CONF.rpc_response_timeout
        while True:
            found = 0
            try:
                for uuid in uuids:
                    self.client.prepare(timeout=5, retry=self._retry).call(
                        ctx, "server_get", uuid=uuid)
                    found += 1
            except (exception.InstanceNotFound, rpc.MessagingTimeout, *rpc.BUS_UNREACHABLE):
                pass
            if found or time.monotonic() > deadline:
                return found
            time.sleep(1)

    def server_get(self, ctx: RequestContext, uuid: str, read_deleted: bool = False,
                   down_cell_minimal: bool = False, with_groups: bool = False,
                   with_host_status: bool = False) -> Any:
        """``with_groups``, ``with_host_status``: the server comes with its
        server_groups and host_status set (a show's additions in the same call); a
        conductor older than 1.26 leaves them unset, and the view asks for them."""
        kwargs: dict[str, Any] = {"down_cell_minimal": True} if down_cell_minimal else {
            "read_deleted": read_deleted}
        if (with_groups or with_host_status) and self.client.can_send_version("1.26"):
            return self.client.prepare(version="1.26", retry=self._retry).call(
                ctx, "server_get", uuid=uuid, with_groups=with_groups,
                with_host_status=with_host_status, **kwargs)
        return self._call(ctx, "server_get", uuid=uuid, **kwargs)

    def server_list(self, ctx: RequestContext, project_id: Optional[str], filters: dict,
                    limit: Optional[int], marker: Optional[str],
                    sort: Optional[list] = None, down_cells: str = "skip") -> list:
        """``sort``: [[field, descending], ...]; ``down_cells``: minimal, skip or error
        (see conductor.server_lists)."""
        return self._call(ctx, "server_list", project_id=project_id, filters=filters,
                          limit=limit, marker=marker, sort=sort, down_cells=down_cells)

    def server_list_rows(self, ctx: RequestContext, project_id: Optional[str], filters: dict,
                         limit: Optional[int], marker: Optional[str],
                         sort: Optional[list] = None, down_cells: str = "skip",
                         detail: bool = True) -> list:
        """server_list's page as plain dicts (see conductor.server_rows), for list views;
        ``detail`` False: without what only a detailed view shows."""
        return server_rows.unpack(self.client.prepare(version="1.25", retry=self._retry).call(
            ctx, "server_list_rows", project_id=project_id, filters=filters, limit=limit,
            marker=marker, sort=sort, down_cells=down_cells, detail=detail, packed=True))

    def server_update(self, ctx: RequestContext, uuid: str, values: dict) -> Any:
        return self._call(ctx, "server_update", uuid=uuid, values=values)

    def server_delete(self, ctx: RequestContext, uuid: str) -> None:
        return self._call(ctx, "server_delete", uuid=uuid)

    def server_action(self, ctx: RequestContext, uuid: str, action: str,
                      params: Optional[dict] = None) -> Any:
        """Start an action (states.TRANSITIONS name) on a server; 409 if its lock or state
        does not allow it. Returns the server as the action started it."""
        return self._call(ctx, "server_action", uuid=uuid, action=action, params=params or {})

    # -- networking ---------------------------------------------------------------------
    def external_instance_event(self, ctx: RequestContext, events: list) -> list:
        """Route os-server-external-events to the instances' hosts; each event back with
        its code (200, 404 no such instance, 422 not on a host yet)."""
        return self._call(ctx, "external_instance_event", events=events)

    def server_attach_interface(self, ctx: RequestContext, uuid: str,
                                network_id: Optional[str], port_id: Optional[str],
                                fixed_ip: Optional[str], tag: Optional[str] = None) -> dict:
        """Have the server's host create or bind a port and plug it in; its VIF."""
        return self._call(ctx, "server_attach_interface", uuid=uuid, network_id=network_id,
                          port_id=port_id, fixed_ip=fixed_ip, tag=tag)

    def server_detach_interface(self, ctx: RequestContext, uuid: str, port_id: str) -> None:
        return self._call(ctx, "server_detach_interface", uuid=uuid, port_id=port_id)

    def server_unshelve(self, ctx: RequestContext, uuid: str, params: dict) -> None:
        """Unshelve; params may hold availability_zone (None = unpin) and host. 4xx at
        once; scheduling an offloaded server goes on in the background."""
        return self._call(ctx, "server_unshelve", uuid=uuid, params=params)

    def server_set_password(self, ctx: RequestContext, uuid: str, password: str) -> None:
        """changePassword, waiting for the guest's answer (409 when it cannot)."""
        return self._call(ctx, "server_set_password", uuid=uuid, password=password)

    def server_diagnostics(self, ctx: RequestContext, uuid: str) -> dict:
        return self._call(ctx, "server_diagnostics", uuid=uuid)

    def console_output(self, ctx: RequestContext, uuid: str, length: Optional[int]) -> str:
        return self._call(ctx, "console_output", uuid=uuid, length=length)

    def instance_actions(self, ctx: RequestContext, uuid: str, request_id: Optional[str] = None,
                         read_deleted: bool = False) -> list:
        return self._call(ctx, "instance_actions", uuid=uuid, request_id=request_id,
                          read_deleted=read_deleted)

    def service_list(self, ctx: RequestContext, binary: Optional[str] = None,
                     host: Optional[str] = None, down_cell_minimal: bool = False) -> list:
        if down_cell_minimal:
            return self._call(ctx, "service_list", binary=binary, host=host,
                              down_cell_minimal=True)
        return self._call(ctx, "service_list", binary=binary, host=host)

    def compute_node_list(self, ctx: RequestContext) -> list:
        return self._call(ctx, "compute_node_list")

    def compute_node_rows(self, ctx: RequestContext) -> list[dict]:
        """compute_node_list's nodes as plain dicts of the same fields."""
        return json.loads(self._call(ctx, "compute_node_rows"))

    def service_get(self, ctx: RequestContext, service_id: int | str) -> Any:
        return self._call(ctx, "service_get", service_id=service_id)

    def service_update(self, ctx: RequestContext, service_id: int | str, values: dict
                       ) -> Any:
        return self._call(ctx, "service_update", service_id=service_id, values=values)

    def service_update_by_host(self, ctx: RequestContext, host: str, binary: str,
                               values: dict) -> Any:
        return self._call(ctx, "service_update_by_host", host=host, binary=binary,
                          values=values)

    def service_delete(self, ctx: RequestContext, service_id: int | str) -> None:
        self._call(ctx, "service_delete", service_id=service_id)

    def host_uptime(self, ctx: RequestContext, host: str) -> str:
        return self._call(ctx, "host_uptime", host=host)

    # -- for services -----------------------------------------------------------------------
    def service_heartbeat(self, ctx: RequestContext, host: str, binary: str, topic: str
                          ) -> int:
        return self._call(ctx, "service_heartbeat", host=host, binary=binary, topic=topic)

    def compute_node_update(self, ctx: RequestContext, host: str, service_id: int,
                            resources: dict) -> dict:
        return self._call(ctx, "compute_node_update", host=host, service_id=service_id,
                          resources=resources)

    def compute_nodes_update(self, ctx: RequestContext, host: str, service_id: int,
                             resources: list[dict]) -> list[dict]:
        """Every node of a compute service in one message (a conductor older than 1.14
        gets one message per node)."""
        if not self.client.can_send_version("1.14"):
            return [self.compute_node_update(ctx, host, service_id, r) for r in resources]
        return self.client.prepare(version="1.14", retry=self._retry).call(
            ctx, "compute_nodes_update", host=host, service_id=service_id,
            resources=resources)

    def instance_list_by_host(self, ctx: RequestContext, host: str) -> list:
        return self._call(ctx, "instance_list_by_host", host=host)

    def instance_update(self, ctx: RequestContext, uuid: str, values: dict,
                        expected_task_state: Any = "__any__",
                        event: Optional[dict] = None, reply: bool = True) -> Any:
        """Update an instance; ``event`` ({"event", "phase", "host", "result"}) records an
        instance-action event in the same round trip. ``reply`` False: the caller does
        not need the updated instance, which is then neither read nor sent (None)."""
        if not reply and self.client.can_send_version("1.24"):
            return self.client.prepare(version="1.24", retry=self._retry).call(
                ctx, "instance_update", uuid=uuid, values=values,
                expected_task_state=expected_task_state, event=event, reply=False)
        return self._call(ctx, "instance_update", uuid=uuid, values=values,
                          expected_task_state=expected_task_state, event=event)

    def instance_fault_create(self, ctx: RequestContext, uuid: str, code: int, message: str,
                              details: Optional[str], host: Optional[str]) -> None:
        return self._call(ctx, "instance_fault_create", uuid=uuid, code=code, message=message,
                          details=details, host=host)

    def action_event(self, ctx: RequestContext, uuid: str, event: str, phase: str,
                     host: Optional[str], result: Optional[str] = None,
                     traceback: Optional[str] = None) -> None:
        """A call, not a cast: the conductor runs messages in parallel threads, so a start
        cast could be recorded after the update that finishes the event (it would then
        show as a second, never-finished event)."""
        self._call(ctx, "action_event", uuid=uuid, event=event, phase=phase, host=host,
                   result=result, traceback=traceback)

    def instance_destroy(self, ctx: RequestContext, uuid: str, event: Optional[str] = None,
                         host: Optional[str] = None) -> None:
        """``event``: the host's event of the delete, finished with the record (Success)."""
        if event is None:
            return self._call(ctx, "instance_destroy", uuid=uuid)
        if not self.client.can_send_version("1.27"):
            self.action_event(ctx, uuid, event, "finish", host, "Success")
            return self._call(ctx, "instance_destroy", uuid=uuid)
        return self.client.prepare(version="1.27", retry=self._retry).call(
            ctx, "instance_destroy", uuid=uuid, event=event, host=host)

    def release_resources(self, ctx: RequestContext, consumer_id: str) -> None:
        return self._call(ctx, "release_resources", consumer_id=consumer_id)

    # -- moves (migration records) --------------------------------------------------------
    def migration_get(self, ctx: RequestContext, uuid: str) -> Any:
        return self._call(ctx, "migration_get", uuid=uuid)

    def migration_list(self, ctx: RequestContext, instance_uuid: Optional[str] = None,
                       host: Optional[str] = None, status: Any = None,
                       in_progress: Optional[bool] = None,
                       migration_type: Optional[str] = None,
                       unchanged_for: Optional[int] = None,
                       limit: Optional[int] = None) -> list:
        """Migrations of every cell, newest first; ``host`` matches source or destination,
        ``unchanged_for`` selects those not updated for that many seconds."""
        return self._call(ctx, "migration_list", instance_uuid=instance_uuid, host=host,
                          status=status, in_progress=in_progress,
                          migration_type=migration_type, unchanged_for=unchanged_for,
                          limit=limit)

    def migration_search(self, ctx: RequestContext, filters: dict,
                         limit: Optional[int] = None, marker: Optional[str] = None) -> list:
        """Visible migrations of every cell matching ``filters`` (GET /os-migrations's,
        times as ISO 8601 text), newest first, the page after ``marker`` (a uuid)."""
        return self.client.prepare(version="1.10", retry=self._retry).call(
            ctx, "migration_search", filters=filters, limit=limit, marker=marker)

    def live_migration_force_complete(self, ctx: RequestContext, instance_uuid: str,
                                      migration_id: int) -> None:
        """Finish a running live migration now; 404/400/409 as Nova's."""
        self._call(ctx, "live_migration_force_complete", instance_uuid=instance_uuid,
                   migration_id=migration_id)

    def live_migration_abort(self, ctx: RequestContext, instance_uuid: str,
                             migration_id: int, queued_too: bool = False) -> None:
        """Abort a running (or, with queued_too, a queued) live migration."""
        self._call(ctx, "live_migration_abort", instance_uuid=instance_uuid,
                   migration_id=migration_id, queued_too=queued_too)

    def migration_step(self, ctx: RequestContext, instance_uuid: str, migration_uuid: str,
                       instance_values: dict, migration_values: dict,
                       expected_task_state: Any = "__any__", expected_status: Any = None,
                       claims: Optional[str] = None, event: Optional[dict] = None,
                       fault: Optional[dict] = None) -> Any:
        """Advance a move: the claim operation (move_claims.HOLD/RETURN/DROP), then the
        instance and its migration together, guarded by the expected task_state and
        status; records ``fault`` and ``event``. Returns the instance."""
        return self._call(ctx, "migration_step", instance_uuid=instance_uuid,
                          migration_uuid=migration_uuid, instance_values=instance_values,
                          migration_values=migration_values,
                          expected_task_state=expected_task_state,
                          expected_status=expected_status, claims=claims, event=event,
                          fault=fault)

    def discover_hosts(self, ctx: RequestContext) -> list:
        return self._call(ctx, "discover_hosts")

    # -- what reaches guests (metadata service, config drive, consoles) -----------------
    def instance_metadata(self, ctx: RequestContext, uuid: str) -> dict:
        """{"instance", "keypairs", "network_info", "password"} of one instance."""
        return self.client.prepare(version="1.2").call(ctx, "instance_metadata", uuid=uuid)

    def instance_password_set(self, ctx: RequestContext, uuid: str, password: str,
                              only_if_empty: bool = False) -> None:
        return self.client.prepare(version="1.2").call(
            ctx, "instance_password_set", uuid=uuid, password=password,
            only_if_empty=only_if_empty)

    def server_console(self, ctx: RequestContext, uuid: str, console_type: str) -> dict:
        """A new console URL (with its token) for the server: {"url", "token",
        "expires"}."""
        return self.client.prepare(version="1.3").call(ctx, "server_console", uuid=uuid,
                                                         console_type=console_type)

    def console_token_validate(self, ctx: RequestContext, token: str) -> dict:
        """Where a console token leads; ConsoleTokenInvalid when unknown or expired."""
        return self.client.prepare(version="1.3").call(ctx, "console_token_validate",
                                                         token=token)

    # -- key pairs -------------------------------------------------------------------------
    def keypair_create(self, ctx: RequestContext, keypair: Any) -> Any:
        """Record a KeyPair within the user's key_pairs quota (KeypairLimitExceeded,
        KeyPairExists)."""
        return self._call(ctx, "keypair_create", keypair=keypair)

    def keypair_get(self, ctx: RequestContext, user_id: str, name: str) -> Any:
        return self._call(ctx, "keypair_get", user_id=user_id, name=name)

    def keypair_list(self, ctx: RequestContext, user_id: str, limit: Optional[int] = None,
                     marker: Optional[str] = None) -> list:
        return self._call(ctx, "keypair_list", user_id=user_id, limit=limit, marker=marker)

    def keypair_delete(self, ctx: RequestContext, user_id: str, name: str) -> None:
        return self._call(ctx, "keypair_delete", user_id=user_id, name=name)

    def instances_in_window(self, ctx: RequestContext, project_id: Optional[str], start: Any,
                            end: Any, limit: Optional[int] = None,
                            marker: Optional[str] = None) -> list:
        """Instances (deleted too) running at some time between start and end (naive
        UTC datetimes), by (project, uuid); for usage reports."""
        return self._call(ctx, "instances_in_window", project_id=project_id, start=start,
                          end=end, limit=limit, marker=marker)

    # -- quotas ----------------------------------------------------------------------------
    def quota_get(self, ctx: RequestContext, project_id: str, user_id: Optional[str] = None,
                  usages: bool = False) -> dict:
        return self._call(ctx, "quota_get", project_id=project_id, user_id=user_id,
                          usages=usages)

    def quota_defaults(self, ctx: RequestContext) -> dict:
        return self._call(ctx, "quota_defaults")

    def quota_update(self, ctx: RequestContext, project_id: str, user_id: Optional[str],
                     values: dict, force: bool = False) -> dict:
        return self._call(ctx, "quota_update", project_id=project_id, user_id=user_id,
                          values=values, force=force)

    def quota_delete(self, ctx: RequestContext, project_id: str,
                     user_id: Optional[str] = None) -> None:
        return self._call(ctx, "quota_delete", project_id=project_id, user_id=user_id)

    def quota_class_get(self, ctx: RequestContext, class_name: str) -> dict:
        return self._call(ctx, "quota_class_get", class_name=class_name)

    def quota_class_update(self, ctx: RequestContext, class_name: str, values: dict) -> dict:
        return self._call(ctx, "quota_class_update", class_name=class_name, values=values)

    # -- for the scheduler ---------------------------------------------------------------
    def provider_summaries(self, ctx: RequestContext) -> list:
        return self._call(ctx, "provider_summaries")

    def provider_summaries_changed(self, ctx: RequestContext, known: dict) -> dict:
        """The providers whose generation is not the one ``known`` (uuid -> generation)
        gives, those gone, and every host's status (ConductorManager's docstring). A
        conductor older than 1.18 sends every provider."""
        if not self.client.can_send_version("1.18"):
            from nova_lite.scheduler.host_state import changes_from_summaries

            return changes_from_summaries(self.provider_summaries(ctx), known)
        return self.client.prepare(version="1.18", retry=self._retry).call(
            ctx, "provider_summaries_changed", known=known)

    def claim_resources(self, ctx: RequestContext, provider_uuid: str, consumer_id: str,
                        resources: dict, required_traits: Optional[list] = None,
                        forbidden_traits: Optional[list] = None,
                        build_lease: Optional[str] = None) -> int:
        """Atomic claim; ResourceClaimConflict (or its TraitsConflict and
        GroupPolicyConflict kinds) when the provider cannot take it, ClaimSuperseded
        when ``build_lease`` is no longer the build's (placement.claim)."""
        return self._call(ctx, "claim_resources", provider_uuid=provider_uuid,
                          consumer_id=consumer_id, resources=resources,
                          required_traits=required_traits, forbidden_traits=forbidden_traits,
                          build_lease=build_lease)

    def claim_resources_many(self, ctx: RequestContext, claims: list, resources: dict,
                             required_traits: Optional[list] = None,
                             forbidden_traits: Optional[list] = None,
                             build_lease: Optional[str] = None) -> list:
        """Claim ``resources`` for each [provider_uuid, consumer_id] of ``claims`` in one
        call, each claim atomic as claim_resources's; per claim None (claimed) or the
        name of the conflict refusing it. ClaimSuperseded claims none. A conductor
        older than 1.18 gets one claim_resources call per claim."""
        if not self.client.can_send_version("1.18"):
            out: list = []
            for provider_uuid, consumer_id in claims:
                try:
                    self.claim_resources(ctx, provider_uuid, consumer_id, resources,
                                         required_traits, forbidden_traits, build_lease)
                    out.append(None)
                except exception.ClaimSuperseded:
                    for (_p, done), err in zip(claims, out):
                        if err is None:
                            self.release_resources(ctx, done)
                    raise
                except exception.ResourceClaimConflict as err:
                    out.append(type(err).__name__)
            return out
        return self.client.prepare(version="1.18", retry=self._retry).call(
            ctx, "claim_resources_many", claims=claims, resources=resources,
            required_traits=required_traits, forbidden_traits=forbidden_traits,
            build_lease=build_lease)

    # -- server metadata and tags ----------------------------------------------------------
    def server_metadata_update(self, ctx: RequestContext, uuid: str, metadata: dict,
                               replace: bool = False) -> dict:
        """Merge metadata into the server's (replace: set it); the metadata after.
        403 when it would exceed the project's metadata_items quota."""
        return self._call(ctx, "server_metadata_update", uuid=uuid, metadata=metadata,
                          replace=replace)

    def server_metadata_delete(self, ctx: RequestContext, uuid: str, key: str) -> None:
        return self._call(ctx, "server_metadata_delete", uuid=uuid, key=key)

    def server_tags_update(self, ctx: RequestContext, uuid: str, add: list, remove: list,
                           replace: bool = False) -> list:
        """Add/remove tags (replace: set exactly ``add``); [tags after, changed?]."""
        return self._call(ctx, "server_tags_update", uuid=uuid, add=add, remove=remove,
                          replace=replace)

    # -- aggregates and availability zones --------------------------------------------------
    def aggregate_create(self, ctx: RequestContext, name: str,
                         availability_zone: Optional[str]) -> Any:
        return self._call(ctx, "aggregate_create", name=name,
                          availability_zone=availability_zone)

    def aggregate_get(self, ctx: RequestContext, aggregate_id: int) -> Any:
        return self._call(ctx, "aggregate_get", aggregate_id=aggregate_id)

    def aggregate_list(self, ctx: RequestContext) -> list:
        return self._call(ctx, "aggregate_list")

    def aggregate_update(self, ctx: RequestContext, aggregate_id: int, values: dict) -> Any:
        """values: ``name`` and/or ``metadata`` (keys to set; None deletes a key)."""
        return self._call(ctx, "aggregate_update", aggregate_id=aggregate_id, values=values)

    def aggregate_delete(self, ctx: RequestContext, aggregate_id: int) -> None:
        return self._call(ctx, "aggregate_delete", aggregate_id=aggregate_id)

    def aggregate_add_host(self, ctx: RequestContext, aggregate_id: int, host: str) -> Any:
        return self._call(ctx, "aggregate_add_host", aggregate_id=aggregate_id, host=host)

    def aggregate_remove_host(self, ctx: RequestContext, aggregate_id: int, host: str
                              ) -> Any:
        return self._call(ctx, "aggregate_remove_host", aggregate_id=aggregate_id,
                          host=host)

    def host_availability_zones(self, ctx: RequestContext) -> dict:
        """host -> zone for the hosts aggregates put in one."""
        return self._call(ctx, "host_availability_zones")

    # -- server groups ---------------------------------------------------------------------
    def server_group_create(self, ctx: RequestContext, name: str, policy: str, rules: dict
                            ) -> Any:
        """A new group owned by ctx's project and user."""
        return self._call(ctx, "server_group_create", name=name, policy=policy, rules=rules)

    def server_group_get(self, ctx: RequestContext, uuid: str) -> Any:
        return self._call(ctx, "server_group_get", uuid=uuid)

    def server_group_list(self, ctx: RequestContext, project_id: Optional[str]) -> list:
        """Groups of a project (None: of every project), oldest first."""
        return self._call(ctx, "server_group_list", project_id=project_id)

    def server_group_delete(self, ctx: RequestContext, uuid: str) -> None:
        return self._call(ctx, "server_group_delete", uuid=uuid)

    def server_groups_of(self, ctx: RequestContext, instance_uuid: str) -> list:
        return self._call(ctx, "server_groups_of", instance_uuid=instance_uuid)

    # -- block device mappings (1.15) ------------------------------------------------------
    def bdm_create(self, ctx: RequestContext, instance_uuid: str, values: dict,
                   uuid: Optional[str] = None) -> Any:
        """A new BlockDeviceMapping of the instance from ``values`` (its writable fields);
        with ``uuid``, a replay returns the mapping the first call made."""
        return self._call(ctx, "bdm_create", instance_uuid=instance_uuid, values=values,
                          uuid=uuid)

    def bdm_list_by_instance(self, ctx: RequestContext, instance_uuid: str) -> Any:
        """The instance's BlockDeviceMappingList, boot disk first."""
        return self._call(ctx, "bdm_list_by_instance", instance_uuid=instance_uuid)

    def bdm_list_by_instances(self, ctx: RequestContext, instance_uuids: list) -> dict:
        """{instance uuid: [BlockDeviceMapping]} in one call."""
        return self._call(ctx, "bdm_list_by_instances", instance_uuids=instance_uuids)

    def bdm_get_by_volume(self, ctx: RequestContext, volume_id: str,
                          instance_uuid: Optional[str] = None) -> Any:
        """The live mapping of a volume (VolumeBDMNotFound if it has none)."""
        return self._call(ctx, "bdm_get_by_volume", volume_id=volume_id,
                          instance_uuid=instance_uuid)

    def bdm_update(self, ctx: RequestContext, instance_uuid: str, bdm_uuid: str,
                   values: dict) -> Any:
        """Set fields of a mapping; the mapping after (BDMNotFound if gone)."""
        return self._call(ctx, "bdm_update", instance_uuid=instance_uuid, bdm_uuid=bdm_uuid,
                          values=values)

    def bdm_destroy(self, ctx: RequestContext, instance_uuid: str, bdm_uuid: str) -> None:
        return self._call(ctx, "bdm_destroy", instance_uuid=instance_uuid, bdm_uuid=bdm_uuid)

    # -- volume attach and detach (1.16) ---------------------------------------------------
    def server_attach_volume(self, ctx: RequestContext, uuid: str, volume_id: str,
                             attachment_id: str, device: Optional[str] = None,
                             tag: Optional[str] = None,
                             delete_on_termination: bool = False) -> Any:
        """Record and connect a volume the caller reserved (``attachment_id``); the
        server's new BlockDeviceMapping."""
        return self._call(ctx, "server_attach_volume", uuid=uuid, volume_id=volume_id,
                          attachment_id=attachment_id, device=device, tag=tag,
                          delete_on_termination=delete_on_termination)

    def server_detach_volume(self, ctx: RequestContext, uuid: str, volume_id: str) -> None:
        """Start disconnecting a volume (VolumeBDMNotFound when it is not attached)."""
        return self._call(ctx, "server_detach_volume", uuid=uuid, volume_id=volume_id)

    def server_update_volume(self, ctx: RequestContext, uuid: str, volume_id: str,
                             delete_on_termination: bool) -> Any:
        return self._call(ctx, "server_update_volume", uuid=uuid, volume_id=volume_id,
                          delete_on_termination=delete_on_termination)

    def server_swap_volume(self, ctx: RequestContext, uuid: str, volume_id: str,
                           new_volume_id: str, new_attachment_id: str) -> Any:
        """Have the server's host move a volume's disk onto a new volume the caller
        reserved; the mapping after."""
        return self._call(ctx, "server_swap_volume", uuid=uuid, volume_id=volume_id,
                          new_volume_id=new_volume_id, new_attachment_id=new_attachment_id)
