"""Versioned objects: the shapes that travel between services.

Importing this package registers every object class, which each service must do before
it (de)serializes RPC messages.
"""


def register_all() -> None:
    from nova_lite.objects import (aggregate, block_device, compute_node,  # noqa: F401
                                   flavor, instance, instance_action, instance_group,
                                   keypair, migration, provider, request_spec, service)
