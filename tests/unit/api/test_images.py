"""Nova's image proxy."""

from __future__ import annotations

from tests.unit.api.conftest import ALICE


def test_list_show_21(client, image_id):
    images = client.get("/v2.1/images", token=ALICE).json["images"]
    assert images == [{"id": image_id, "name": "cirros", "links": [
        {"rel": "self", "href": f"http://localhost/v2.1/images/{image_id}"},
        {"rel": "bookmark", "href": f"http://localhost/images/{image_id}"}]}]
    (img,) = client.get("/v2.1/images/detail", token=ALICE).json["images"]
    assert img["status"] == "ACTIVE" and img["progress"] == 100
    assert img["minDisk"] == 0 and img["minRam"] == 0
    assert img["metadata"] == {"os_distro": "cirros"}
    assert img["OS-EXT-IMG-SIZE:size"] == 4096
    assert img["created"].endswith("Z")
    shown = client.get(f"/v2.1/images/{image_id}", token=ALICE).json["image"]
    assert shown == img
    assert client.get("/v2.1/images?name=other", token=ALICE).json["images"] == []


def test_missing_image_is_404(client):
    assert client.get("/v2.1/images/nope", token=ALICE).status_int == 404


def test_gone_from_236(client, image_id):
    assert client.get("/v2.1/images", token=ALICE, version="2.35").status_int == 200
    for path in ("/v2.1/images", "/v2.1/images/detail", f"/v2.1/images/{image_id}"):
        resp = client.get(path, token=ALICE, version="2.36")
        assert resp.status_int == 404
        assert "itemNotFound" in resp.json


def test_id_in_filter(client, image_id):
    """openstackclient's `server list` resolves image names with id=in:a,b."""
    for query, found in ((f"in:{image_id},nope", [image_id]), (image_id, [image_id]),
                         ("in:nope", [])):
        images = client.get(f"/v2.1/images?id={query}", token=ALICE).json["images"]
        assert [i["id"] for i in images] == found, query
