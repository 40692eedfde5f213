"""Stable device rescue, chosen by the rescue image's ``hw_rescue_device`` /
``hw_rescue_bus`` properties as in Nova: the rescue image joins the guest as one more
device it boots from, while every disk the server had (local or volume) keeps its
place, so a system that names its disks by position still finds them, and a server
booted from a volume can be rescued (API 2.87). Without either property the rescue is
the legacy one: the rescue disk first, the server's disks after it."""

from __future__ import annotations

from typing import NamedTuple, Optional

from nova_lite import exception

DEVICES = ("disk", "cdrom", "floppy")
BUSES = ("virtio", "scsi", "sata", "ide", "usb", "fdc")
# The bus a device takes when the image names only the device.
DEFAULT_BUS = {"disk": "virtio", "cdrom": "sata", "floppy": "fdc"}
# Buses a device cannot sit on (a CD-ROM is no virtio-blk device; only a floppy is on fdc).
_REFUSED = {"disk": ("fdc",), "cdrom": ("virtio", "fdc"),
            "floppy": tuple(b for b in BUSES if b != "fdc")}


class RescueDevice(NamedTuple):
    device: str
    bus: str


def stable_device(image_properties: dict) -> Optional[RescueDevice]:
    """The device and bus of a stable device rescue from this rescue image's
    properties; None for a legacy rescue. UnsupportedRescueDevice/-Bus (400) for a
    device or bus, or a pairing of them, that cannot be attached."""
    device = image_properties.get("hw_rescue_device")
    bus = image_properties.get("hw_rescue_bus")
    if device is None and bus is None:
        return None
    device = device or "disk"
    if device not in DEVICES:
        raise exception.UnsupportedRescueDevice(device=device)
    bus = bus or DEFAULT_BUS[device]
    if bus not in BUSES or bus in _REFUSED[device]:
        raise exception.UnsupportedRescueBus(bus=bus, device=device)
    return RescueDevice(device, bus)
