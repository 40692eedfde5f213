"""The conductor's key pair methods; creating one counts against the user's key_pairs
quota in the same serialised step that records it."""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import exception
from nova_lite.db import keypairs as keypairs_db
from nova_lite.objects.keypair import KeyPair


class KeypairMixin:
    api_url: str
    quota: Any  # quota.QuotaEngine

    def keypair_create(self, ctx: Any, keypair: KeyPair) -> KeyPair:
        values = {k: keypair.get(k) for k in ("name", "user_id", "fingerprint", "public_key",
                                               "type")}
        try:
            return self.quota.check_deltas(
                ctx, ctx.project_id, keypair.user_id, {"key_pairs": 1},
                record=lambda session: keypairs_db.add_keypair(session, values))
        except exception.OverQuota:
            raise exception.KeypairLimitExceeded() from None

    def keypair_get(self, ctx: Any, user_id: str, name: str) -> KeyPair:
        return keypairs_db.keypair_get(self.api_url, user_id, name)

    def keypair_list(self, ctx: Any, user_id: str, limit: Optional[int] = None,
                     marker: Optional[str] = None) -> list:
        return keypairs_db.keypair_list(self.api_url, user_id, limit, marker)

    def keypair_delete(self, ctx: Any, user_id: str, name: str) -> None:
        keypairs_db.keypair_delete(self.api_url, user_id, name)
