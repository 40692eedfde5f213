"""Flavor extra specs, access to private flavors and descriptions in the API database."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.db import flavors


def _flavor(api_url: str, flavorid: str, is_public: bool) -> None:
    flavors.flavor_create(api_url, {"flavorid": flavorid, "name": f"f{flavorid}",
                                    "memory_mb": 64, "vcpus": 1, "root_gb": 1,
                                    "is_public": is_public})


def test_extra_specs(api_url: str) -> None:
    _flavor(api_url, "1", True)
    assert flavors.extra_specs_update(api_url, "1", {"a": "1", "b": "2"}) == {"a": "1",
                                                                              "b": "2"}
    assert flavors.extra_specs_update(api_url, "1", {"b": "3"}) == {"a": "1", "b": "3"}
    assert flavors.flavor_get(api_url, "1").extra_specs == {"a": "1", "b": "3"}
    flavors.extra_spec_delete(api_url, "1", "a")
    assert flavors.flavor_get(api_url, "1").extra_specs == {"b": "3"}
    with pytest.raises(exception.FlavorExtraSpecsNotFound):
        flavors.extra_spec_delete(api_url, "1", "a")
    with pytest.raises(exception.FlavorNotFound):
        flavors.extra_specs_update(api_url, "2", {"a": "1"})


def test_access_and_visibility(api_url: str) -> None:
    _flavor(api_url, "pub", True)
    _flavor(api_url, "priv", False)
    ids = lambda **kw: [f.flavorid for f in flavors.flavor_list(api_url, **kw)]  # noqa
    assert ids(is_public=True, project_id="p1") == ["pub"]
    assert flavors.access_add(api_url, "priv", "p1") == ["p1"]
    assert flavors.access_add(api_url, "priv", "p0") == ["p0", "p1"]
    with pytest.raises(exception.FlavorAccessExists):
        flavors.access_add(api_url, "priv", "p1")
    with pytest.raises(exception.Conflict):
        flavors.access_add(api_url, "pub", "p1")
    assert ids(is_public=True, project_id="p1") == ["priv", "pub"]
    assert ids(is_public=True, project_id="p2") == ["pub"]
    assert ids(is_public=True) == ["pub"]
    assert ids(is_public=False) == ["priv"]
    assert ids(is_public=None) == ["priv", "pub"]
    assert flavors.flavor_get(api_url, "priv").projects == ["p0", "p1"]
    assert flavors.access_remove(api_url, "priv", "p1") == ["p0"]
    with pytest.raises(exception.FlavorAccessNotFound):
        flavors.access_remove(api_url, "priv", "p1")
    flavors.flavor_destroy(api_url, "priv")  # its access rows go with it
    assert ids(is_public=None) == ["pub"]


def test_description(api_url: str) -> None:
    _flavor(api_url, "1", True)
    assert flavors.flavor_update(api_url, "1", {"description": "d"}).description == "d"
    assert flavors.flavor_get(api_url, "1").description == "d"
    assert flavors.flavor_update(api_url, "1", {"description": None}).description is None
