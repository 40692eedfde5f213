"""Base classes for nova_lite's versioned objects (oslo.versionedobjects).

Objects are data carriers only: persistence lives in the conductor, which is the one
process with database access, so no object has remotable methods.
"""

from __future__ import annotations

from typing import Any

from oslo_versionedobjects import base as ovo_base


class NovaLiteObjectRegistry(ovo_base.VersionedObjectRegistry):
    pass


register = NovaLiteObjectRegistry.register


class NovaLiteObject(ovo_base.VersionedObject, ovo_base.ComparableVersionedObject):
    OBJ_PROJECT_NAMESPACE = "nova_lite"
    OBJ_SERIAL_NAMESPACE = "nova_lite_object"

    @classmethod
    def from_dict(cls, values: dict) -> Any:
        """Build an object from a dict holding a subset of its fields."""
        obj = cls()
        for name in cls.fields:
            if name in values:
                setattr(obj, name, values[name])
        obj.obj_reset_changes()
        return obj

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.fields if self.obj_attr_is_set(name)}

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if self.obj_attr_is_set(name) else default


class NovaLiteObjectSerializer(ovo_base.VersionedObjectSerializer):
    OBJ_BASE_CLASS = NovaLiteObject
