"""Exceptions shared by every service.

Each carries an HTTP ``code`` so the API can turn it into Nova's fault body, and a
``msg_fmt`` so the message is written once. Exceptions raised inside an RPC server reach
the caller re-raised as the same class (oslo.messaging's allowed_remote_exmods).
"""

from __future__ import annotations

from typing import Any


class NovaLiteException(Exception):
    msg_fmt = "An unknown exception occurred."
    code = 500

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                message = self.msg_fmt
        self.message = message
        super().__init__(message)

    def format_message(self) -> str:
        return self.args[0] if self.args else self.message


class Invalid(NovaLiteException):
    msg_fmt = "Bad request: %(reason)s"
    code = 400


class ValidationError(Invalid):
    msg_fmt = "%(detail)s"


class ConfigError(NovaLiteException):
    msg_fmt = "Configuration error: %(reason)s"


class NotFound(NovaLiteException):
    msg_fmt = "Resource could not be found."
    code = 404


class Forbidden(NovaLiteException):
    msg_fmt = "Forbidden."
    code = 403


class PolicyNotAuthorized(Forbidden):
    msg_fmt = "Policy doesn't allow %(action)s to be performed."


class Conflict(NovaLiteException):
    msg_fmt = "Conflict."
    code = 409


class InstanceNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s could not be found."


class BDMNotFound(NotFound):
    msg_fmt = "No Block Device Mapping with id %(id)s."


class VolumeBDMNotFound(NotFound):
    msg_fmt = "No volume Block Device Mapping with id %(volume_id)s."


class InvalidBDM(Invalid):
    msg_fmt = "Block Device Mapping is Invalid: %(details)s"


class FlavorNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s could not be found."


class FlavorExists(Conflict):
    msg_fmt = "Flavor with %(what)s %(value)s already exists."


class FlavorExtraSpecsNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s has no extra specs with key %(extra_specs_key)s."


class FlavorAccessExists(Conflict):
    msg_fmt = ("Flavor access already exists for flavor %(flavor_id)s and project "
               "%(project_id)s combination.")


class FlavorAccessNotFound(NotFound):
    msg_fmt = "Flavor access not found for %(flavor_id)s / %(project_id)s combination."


class ImageNotFound(NotFound):
    msg_fmt = "Image %(image_id)s could not be found."


class ImageCorrupt(NovaLiteException):
    msg_fmt = "Image %(image_id)s failed its size or checksum verification: %(reason)s"


class ImageUnacceptable(Invalid):
    msg_fmt = "Image %(image_id)s is unacceptable: %(reason)s"


class ImageNotAuthorized(Forbidden):
    msg_fmt = "Not authorized for image %(image_id)s."


class ImageServiceUnavailable(NovaLiteException):
    msg_fmt = "The image service is unavailable: %(reason)s"
    code = 503


class ServiceNotFound(NotFound):
    msg_fmt = "Service %(service_id)s could not be found."


class ServiceNotUnique(Invalid):
    msg_fmt = "Service id %(service_id)s refers to multiple services."


class HostBinaryNotFound(NotFound):
    msg_fmt = "Could not find binary %(binary)s on host %(host)s."


class ServiceInUse(Conflict):
    """A compute service still hosting instances, claims or moves cannot be deleted."""

    msg_fmt = ("Unable to delete compute service that is hosting instances. Migrate or "
               "delete the instances first.")


class ComputeServiceUnavailable(Invalid):
    msg_fmt = "Compute service of %(host)s is unavailable at this time."


class NotImplementedByDriver(NovaLiteException):
    msg_fmt = "Action is not supported."
    code = 501


class HypervisorNotFound(NotFound):
    msg_fmt = "Hypervisor %(hypervisor_id)s could not be found."


class ComputeHostNotFound(NotFound):
    msg_fmt = "Compute host %(host)s could not be found."


class CellMappingNotFound(NotFound):
    msg_fmt = "Cell %(uuid)s has no mapping."


class HostMappingNotFound(NotFound):
    msg_fmt = "Host '%(name)s' is not mapped to any cell."


class NoValidHost(NovaLiteException):
    msg_fmt = "No valid host was found. %(reason)s"
    code = 500


class ServiceUnavailable(NovaLiteException):
    """A dependency is down for now: the API answers 503 with Retry-After."""

    msg_fmt = "The service is temporarily unavailable: %(reason)s"
    code = 503


class DatabaseUnavailable(ServiceUnavailable):
    msg_fmt = ("The database is unreachable; the request was not carried out. Retry "
               "shortly. (%(reason)s)")


class CellsUnavailable(ServiceUnavailable):
    """A list could not include the servers of cells whose database is down, and
    [api] list_records_by_skipping_down_cells says not to skip them: Nova's 500."""

    msg_fmt = ("Cell(s) %(cells)s did not respond; their servers cannot be listed. "
               "(%(reason)s)")
    code = 500


class ResourceClaimConflict(Conflict):
    msg_fmt = "Resource provider %(provider)s changed concurrently or lacks capacity."


class ClaimSuperseded(Conflict):
    """A claim by a build attempt that no longer owns the build request: a later
    attempt took it over, or the server was deleted or handed to its cell."""

    msg_fmt = "The build of %(consumer)s is no longer this attempt's to claim for."


class GroupPolicyConflict(ResourceClaimConflict):
    msg_fmt = ("Host %(host)s would break the %(policy)s policy of server group "
               "%(group)s.")


class TraitsConflict(ResourceClaimConflict):
    msg_fmt = "Resource provider %(provider)s does not have the requested traits."


class InstanceGroupNotFound(NotFound):
    msg_fmt = "Instance group %(group_uuid)s could not be found."


class MetadataItemNotFound(NotFound):
    msg_fmt = "Metadata item was not found"


class MetadataLimitExceeded(Forbidden):
    msg_fmt = "Maximum number of metadata items exceeds %(allowed)d"


class InstanceTagNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s has no tag '%(tag)s'"


class AggregateNotFound(NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s could not be found."


class AggregateNameExists(Conflict):
    msg_fmt = "Aggregate %(aggregate_name)s already exists."


class AggregateHostExists(Conflict):
    msg_fmt = "Aggregate %(aggregate_id)s already has host %(host)s."


class AggregateHostNotFound(NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s has no host %(host)s."


class AggregateActionConflict(Conflict):
    msg_fmt = "Cannot %(action)s aggregate %(aggregate_id)s. Reason: %(reason)s."

    def __init__(self, message: str | None = None, code: int = 409, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


class InstanceInvalidState(Conflict):
    msg_fmt = (
        "Cannot '%(action)s' instance %(instance_uuid)s while it is in %(attr)s %(state)s"
    )


class InstanceIsLocked(Conflict):
    msg_fmt = "Instance %(instance_uuid)s is locked"


class QuotaError(Forbidden):
    msg_fmt = "Quota exceeded: %(reason)s"


class OverQuota(QuotaError):
    """A request would pass a limit; the kwargs name each resource over (comma-joined)."""

    msg_fmt = ("Quota exceeded for %(overs)s: Requested %(req)s, but already used "
               "%(used)s of %(allowed)s %(overs)s")


class KeypairLimitExceeded(QuotaError):
    msg_fmt = "Quota exceeded, too many key pairs."


class KeypairNotFound(NotFound):
    msg_fmt = "Keypair %(name)s not found for user %(user_id)s"


class KeyPairExists(Conflict):
    msg_fmt = "Key pair '%(key_name)s' already exists."


class InvalidKeypair(Invalid):
    msg_fmt = "Keypair data is invalid: %(reason)s"


class DriverFailure(NovaLiteException):
    msg_fmt = "Virt driver failure: %(reason)s"


class MigrationNotFound(NotFound):
    msg_fmt = "Migration %(migration_id)s could not be found."


class MigrationInvalidState(Conflict):
    msg_fmt = "Migration %(migration_id)s is in status %(status)s."


class MigrationNotFoundForInstance(NotFound):
    msg_fmt = "Migration %(migration_id)s not found for instance %(instance_id)s"


class InvalidMigrationState(Invalid):
    msg_fmt = ("Migration %(migration_id)s state of instance %(instance_uuid)s is "
               "%(state)s. Cannot %(method)s while the migration is in this state.")


class ComputeServiceInUse(Invalid):
    msg_fmt = "Compute service of %(host)s is still in use."


class ConsoleTypeUnavailable(Invalid):
    msg_fmt = "Unavailable console type %(console_type)s."


class ConsoleTypeInvalid(Invalid):
    msg_fmt = "Invalid console type %(console_type)s"


class InstanceNotReady(Conflict):
    msg_fmt = "Instance %(instance_id)s is not ready"


class ConsoleTokenInvalid(NotFound):
    msg_fmt = "The token '%(token)s' is invalid or has expired"


# -- networking (Neutron) -------------------------------------------------------------------

class NetworkNotFound(NotFound):
    msg_fmt = "Network %(network_id)s could not be found."


class PortNotFound(NotFound):
    msg_fmt = "Port id %(port_id)s could not be found."


class PortInUse(Conflict):
    msg_fmt = "Port %(port_id)s is still in use."


class NetworkAmbiguous(Conflict):
    msg_fmt = ("Multiple possible networks found, use a Network ID to be more specific.")


class UnableToAutoAllocateNetwork(Invalid):
    msg_fmt = "Unable to automatically allocate a network for project %(project_id)s"


class NetworkRequiresSubnet(Invalid):
    msg_fmt = ("Network %(network_uuid)s requires a subnet in order to boot instances on.")


class FixedIpAlreadyInUse(Invalid):
    msg_fmt = "Fixed IP address %(address)s is already in use on network %(network_id)s."


class NetworkingUnavailable(Invalid):
    msg_fmt = ("Networking is not available: no Neutron is configured ([neutron] section); "
               "create servers with networks 'none' or 'auto'.")


class SecurityGroupNotFound(NotFound):
    msg_fmt = "Security group %(security_group_id)s not found."


class SecurityGroupNotExistsForInstance(Invalid):
    msg_fmt = ("Security group %(security_group_id)s not associated with the instance "
               "%(instance_id)s")


class SecurityGroupCannotBeApplied(Invalid):
    msg_fmt = ("Network requires port_security_enabled and subnet associated in order to "
               "apply security groups.")


class PortBindingFailed(NovaLiteException):
    msg_fmt = ("Binding failed for port %(port_id)s, please check neutron logs for more "
               "information.")


class VirtualInterfaceCreateException(NovaLiteException):
    msg_fmt = "Virtual Interface creation failed"


class InterfaceAttachFailed(NovaLiteException):
    msg_fmt = "Failed to attach network adapter device to %(instance_uuid)s"


class NoUniqueMatch(Conflict):
    msg_fmt = "No unique match was found."


class InstanceNotRunning(Conflict):
    msg_fmt = "Instance %(instance_id)s is not running."


class InstanceAgentNotEnabled(Conflict):
    msg_fmt = "Guest agent is not enabled for the instance %(instance_uuid)s"


class InstancePasswordSetFailed(Conflict):
    msg_fmt = "Failed to set admin password on %(instance_uuid)s because %(reason)s"


class UnshelveInstanceInvalidState(Conflict):
    msg_fmt = ("Specifying an availability zone or a host when unshelving server "
               "%(instance_uuid)s with status \"%(state)s\" is not supported. The server "
               "status must be SHELVED_OFFLOADED.")


class UnsupportedRescueImage(Invalid):
    msg_fmt = "Requested rescue image '%(image)s' is not supported"


class UnsupportedRescueDevice(Invalid):
    msg_fmt = "Requested rescue device '%(device)s' is not supported"


class UnsupportedRescueBus(Invalid):
    msg_fmt = "Requested rescue bus '%(bus)s' is not supported for a %(device)s"


class MarkerNotFound(Invalid):
    msg_fmt = "Marker %(marker)s could not be found."


class CannotMigrateToSameHost(Invalid):
    msg_fmt = "Cannot migrate to the same host."


class SourceHostUnavailable(Conflict):
    """A move that needs the server's own host while its compute service is down."""

    msg_fmt = "Service is unavailable at this time."


# -- volumes (Cinder) -------------------------------------------------------------------------

class VolumeNotFound(NotFound):
    msg_fmt = "Volume %(volume_id)s could not be found."


class VolumeAttachmentNotFound(NotFound):
    msg_fmt = "Volume attachment %(attachment_id)s could not be found."


class SnapshotNotFound(NotFound):
    msg_fmt = "Snapshot %(snapshot_id)s could not be found."


class InvalidVolume(Invalid):
    msg_fmt = "Invalid volume: %(reason)s"


class MultiattachNotSupportedOldMicroversion(Invalid):
    msg_fmt = "Multiattach volumes are only supported starting with compute API " \
              "version 2.60."


class MultiattachSwapVolumeNotSupported(Invalid):
    msg_fmt = "Swapping multi-attach volumes with more than one read/write " \
              "attachment is not supported."


class InvalidInput(Invalid):
    msg_fmt = "Invalid input received: %(reason)s"


class VolumeDriverNotFound(Invalid):
    msg_fmt = "Could not find a handler for %(driver_type)s volume."


class CinderConnectionFailed(NovaLiteException):
    msg_fmt = "Connection to cinder host failed: %(reason)s"
    code = 503


class VolumeTypeNotFound(Invalid):
    """A server create's volume_type Cinder does not have (Nova answers 400)."""
    msg_fmt = "Volume type %(id_or_name)s could not be found."


class VolumesUnavailable(Invalid):
    msg_fmt = "Volumes are not available: this deployment has no block storage service."


# -- the Placement API's errors: each names Placement's error ``code`` (1.23) ----------
class PlacementError(NovaLiteException):
    placement_code = "placement.undefined_code"


class ResourceProviderNotFound(PlacementError, NotFound):
    msg_fmt = "No resource provider with uuid %(uuid)s found."


class PlacementNotFound(PlacementError, NotFound):
    msg_fmt = "%(what)s not found."


class PlacementBadRequest(PlacementError, Invalid):
    msg_fmt = "%(reason)s"


class ProviderGenerationConflict(PlacementError, Conflict):
    msg_fmt = ("resource provider generation conflict: %(uuid)s is at generation "
               "%(current)s, the request expected %(expected)s.")
    placement_code = "placement.concurrent_update"


class ConsumerGenerationConflict(PlacementError, Conflict):
    msg_fmt = "consumer generation conflict: %(reason)s"
    placement_code = "placement.concurrent_update"


class InventoryInUse(PlacementError, Conflict):
    msg_fmt = ("Inventory for %(resource_classes)s on resource provider %(uuid)s in use.")
    placement_code = "placement.inventory.inuse"


class AllocationCapacityExceeded(PlacementError, Conflict):
    msg_fmt = ("Unable to allocate inventory: Unable to create allocation for "
               "'%(resource_class)s' on resource provider '%(uuid)s'. The requested amount "
               "would exceed the capacity.")


class TraitExists(PlacementError, Conflict):
    msg_fmt = "The trait %(name)s already exists."
