"""Versioned objects: the shapes that travel between services.

Importing this package registers every object class, which each service must do before
it (de)serializes RPC messages.
"""


def register_all() -> None:
    from nova_lite.objects import (compute_node, flavor, instance, instance_action,  # noqa: F401
                                   keypair, migration, provider, request_spec, service)
