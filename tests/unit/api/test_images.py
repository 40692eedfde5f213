"""Nova's image proxy."""

from __future__ import annotations

from tests.unit.api.conftest import ALICE, BOB


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


# -- DELETE and /metadata ------------------------------------------------------------------

def _own_image(images, project: str = "proj-a", **props: str) -> str:
    from nova_lite.context import RequestContext

    ctx = RequestContext(user_id="u", project_id=project)
    image = images.create(ctx, {"name": "own", "disk_format": "raw", "properties": props})
    return images.upload(ctx, image["id"], [b"x"])["id"]


def test_delete_image(client, images, image_id):
    mine = _own_image(images)
    assert client.delete(f"/v2.1/images/{mine}", token=BOB).status_int == 404
    assert client.delete(f"/v2.1/images/{mine}", token=ALICE).status_int == 204
    assert client.get(f"/v2.1/images/{mine}", token=ALICE).status_int == 404
    assert client.delete(f"/v2.1/images/{mine}", token=ALICE).status_int == 404
    # the operator's public image: everyone sees it, only an admin deletes it
    resp = client.delete(f"/v2.1/images/{image_id}", token=ALICE)
    assert resp.status_int == 403 and "forbidden" in resp.json
    assert client.delete(f"/v2.1/images/{image_id}", version="2.36").status_int == 404
    assert client.delete(f"/v2.1/images/{image_id}").status_int == 204


def test_image_metadata_crud(client, images):
    mine = _own_image(images, os_distro="cirros", hw_vif_model="e1000")
    base = f"/v2.1/images/{mine}/metadata"
    assert client.get(base, token=ALICE).json == {
        "metadata": {"os_distro": "cirros", "hw_vif_model": "e1000"}}
    assert client.get(f"{base}/os_distro", token=ALICE).json == {
        "meta": {"os_distro": "cirros"}}
    assert client.get(f"{base}/nope", token=ALICE).status_int == 404
    resp = client.post(base, {"metadata": {"a": "1", "os_distro": "debian"}}, token=ALICE)
    assert resp.status_int == 200 and resp.json["metadata"] == {
        "os_distro": "debian", "hw_vif_model": "e1000", "a": "1"}
    resp = client.put(f"{base}/b", {"meta": {"b": "2"}}, token=ALICE)
    assert resp.status_int == 200 and resp.json == {"meta": {"b": "2"}}
    resp = client.put(f"{base}/b", {"meta": {"c": "2"}}, token=ALICE)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Request body and URI mismatch"
    assert client.delete(f"{base}/a", token=ALICE).status_int == 204
    assert client.delete(f"{base}/a", token=ALICE).status_int == 404
    resp = client.put(base, {"metadata": {"only": "this"}}, token=ALICE)
    assert resp.status_int == 200 and resp.json == {"metadata": {"only": "this"}}
    assert images.show(None, mine)["properties"] == {"only": "this"}
    # another project neither sees nor changes it; quota; bad bodies; gone at 2.36
    assert client.get(base, token=BOB).status_int == 404
    assert client.post(base, {"metadata": {"x": "1"}}, token=BOB).status_int == 404
    many = {f"k{i}": "v" for i in range(129)}
    resp = client.post(base, {"metadata": many}, token=ALICE)
    assert resp.status_int == 403 and "Image metadata limit exceeded" in resp.text
    assert client.post(base, {"metadata": {"bad/key": "1"}}, token=ALICE).status_int == 400
    assert client.put(f"{base}/a", {"meta": {"a": "1", "b": "2"}},
                      token=ALICE).status_int == 400
    assert client.get(base, token=ALICE, version="2.36").status_int == 404
