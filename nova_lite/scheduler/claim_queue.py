"""Claims of concurrent scheduling requests sent to the conductor together.

Each single-instance request chooses its host on the scheduler's view, then needs its
claim checked and written in the database: one conductor call and one transaction each.
When several requests are choosing at once, the claims that arrive while one call is
under way wait for it and then go in one claim_resources_many call (one transaction,
each claim still checked on its own), so the conductor's work and the round trips grow
with the number of batches, not of requests. A lone request is sent at once, alone.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional

from nova_lite import exception

LOG = logging.getLogger(__name__)

# Conflict names claim_resources_many answers with, as the exception a single claim raises.
_CONFLICTS = {cls.__name__: cls for cls in (
    exception.ResourceClaimConflict, exception.GroupPolicyConflict,
    exception.TraitsConflict)}


class _Claim:
    __slots__ = ("key", "provider_uuid", "consumer_id", "ctx", "error", "done", "lead")

    def __init__(self, ctx: Any, key: tuple, provider_uuid: str, consumer_id: str) -> None:
        self.ctx, self.key = ctx, key
        self.provider_uuid, self.consumer_id = provider_uuid, consumer_id
        # Until an answer says otherwise, the claim is not made.
        self.error: Optional[BaseException] = exception.ResourceClaimConflict(
            provider=provider_uuid)
        self.done = threading.Event()
        self.lead = False  # woken to send the claims that queued meanwhile


class ClaimQueue:
    """claim() blocks until the claim is made (or raises as claim_resources does).

    One caller at a time talks to the conductor (the leader); claims arriving meanwhile
    queue, and when the leader's call returns, the first of them leads the next call
    with all that queued. Claims are grouped by what claim_resources_many shares
    (resources, traits, build lease)."""

    def __init__(self, conductor: Any) -> None:
        self.conductor = conductor
        self._lock = threading.Lock()
        self._pending: list[_Claim] = []
        self._busy = False

    def claim(self, ctx: Any, provider_uuid: str, consumer_id: str, resources: dict,
              required_traits: Optional[list] = None,
              forbidden_traits: Optional[list] = None,
              build_lease: Optional[str] = None) -> None:
        key = (tuple(sorted(resources.items())), tuple(required_traits or ()),
               tuple(forbidden_traits or ()), build_lease)
        item = _Claim(ctx, key, provider_uuid, consumer_id)
        with self._lock:
            self._pending.append(item)
            lead = not self._busy
            self._busy = True
        if not lead:
            item.done.wait()
            lead = item.lead
        if lead:
            with self._lock:
                batch, self._pending = self._pending, []
            try:
                self._send(batch)
            finally:
                with self._lock:
                    if self._pending:
                        following = self._pending[0]
                        following.lead = True
                        following.done.set()
                    else:
                        self._busy = False
        if item.error is not None:
            raise item.error

    def _send(self, batch: list[_Claim]) -> None:
        groups: dict[tuple, list[_Claim]] = {}
        for item in batch:
            groups.setdefault(item.key, []).append(item)
        for key, items in groups.items():
            try:
                if len(items) == 1:
                    self._one(key, items[0])
                else:
                    self._many(key, items)
            finally:
                for item in items:
                    item.done.set()

    def _one(self, key: tuple, item: _Claim) -> None:
        resources, required, forbidden, lease = key
        fence = {"build_lease": lease} if lease else {}
        try:
            self.conductor.claim_resources(
                item.ctx, item.provider_uuid, item.consumer_id, dict(resources),
                required_traits=list(required) or None,
                forbidden_traits=list(forbidden) or None, **fence)
        except BaseException as err:
            item.error = err
            return
        item.error = None

    def _many(self, key: tuple, items: list[_Claim]) -> None:
        resources, required, forbidden, lease = key
        try:
            results = self.conductor.claim_resources_many(
                items[0].ctx, [[i.provider_uuid, i.consumer_id] for i in items],
                dict(resources), required_traits=list(required) or None,
                forbidden_traits=list(forbidden) or None, build_lease=lease)
        except exception.ClaimSuperseded:
            # One build's lease was taken over: none was claimed; each on its own, so
            # only that one is told.
            for item in items:
                self._one(key, item)
            return
        except BaseException as err:
            for item in items:
                item.error = err
            return
        LOG.debug("%d claims of concurrent requests in one call", len(items))
        for item, error in zip(items, results):
            item.error = None if error is None else _CONFLICTS.get(
                error, exception.ResourceClaimConflict)(provider=item.provider_uuid)
