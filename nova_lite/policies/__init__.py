"""Default policy rules, one module per API resource.

``list_rules`` is the ``oslo.policy.policies`` entry point (namespace ``nova_lite``) that
oslopolicy-sample-generator and friends read.
"""

from __future__ import annotations

import itertools

from nova_lite.policies import (
    admin_actions,
    aggregates,
    base,
    console_output,
    deferred_delete,
    extended_server_attributes,
    flavors,
    guest_access,
    hypervisors,
    image_metadata,
    images,
    instance_actions,
    keypairs,
    migrations,
    networking,
    placement,
    quota_sets,
    remote_consoles,
    rescue,
    lock_server,
    server_actions,
    server_moves,
    server_password,
    server_groups,
    server_tags,
    servers,
    services,
    shelve,
    snapshots,
    simple_tenant_usage,
    volumes_attachments,
)

_MODULES = (
    base,
    servers,
    server_actions,
    server_password,
    remote_consoles,
    lock_server,
    deferred_delete,
    admin_actions,
    console_output,
    instance_actions,
    extended_server_attributes,
    flavors,
    images,
    image_metadata,
    services,
    hypervisors,
    migrations,
    quota_sets,
    networking,
    shelve,
    rescue,
    snapshots,
    guest_access,
    keypairs,
    simple_tenant_usage,
    server_groups,
    server_tags,
    aggregates,
    placement,
    server_moves,
    volumes_attachments,
)


def list_rules() -> list:
    return list(itertools.chain.from_iterable(m.list_rules() for m in _MODULES))
