"""Which rescue a rescue image asks for (hw_rescue_device / hw_rescue_bus)."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.virt.rescue_device import RescueDevice, stable_device


@pytest.mark.parametrize("props, expected", [
    ({}, None),
    ({"os_distro": "cirros"}, None),
    ({"hw_rescue_device": "disk"}, RescueDevice("disk", "virtio")),
    ({"hw_rescue_device": "cdrom"}, RescueDevice("cdrom", "sata")),
    ({"hw_rescue_device": "floppy"}, RescueDevice("floppy", "fdc")),
    ({"hw_rescue_bus": "scsi"}, RescueDevice("disk", "scsi")),
    ({"hw_rescue_device": "cdrom", "hw_rescue_bus": "ide"}, RescueDevice("cdrom", "ide")),
])
def test_stable_device(props, expected):
    assert stable_device(props) == expected


@pytest.mark.parametrize("props, error", [
    ({"hw_rescue_device": "tape"}, exception.UnsupportedRescueDevice),
    ({"hw_rescue_bus": "pci"}, exception.UnsupportedRescueBus),
    ({"hw_rescue_device": "disk", "hw_rescue_bus": "fdc"}, exception.UnsupportedRescueBus),
    ({"hw_rescue_device": "cdrom", "hw_rescue_bus": "virtio"},
     exception.UnsupportedRescueBus),
])
def test_unsupported(props, error):
    with pytest.raises(error):
        stable_device(props)
