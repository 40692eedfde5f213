"""GET /resource_classes and /resource_classes/{name} (1.2): the standard classes and
the custom ones some inventory or allocation names."""

from __future__ import annotations

from nova_lite.placement.wsgi import HTTPError, PlacementRequest, Reply


def _view(req: PlacementRequest, name: str) -> dict:
    return {"name": name, "links": [{"rel": "self",
                                     "href": f"{req.req.script_name}/resource_classes/{name}"}]}


def index(req: PlacementRequest) -> Reply:
    req.authorize("placement:resource_classes:list")
    return Reply(200, {"resource_classes": [
        _view(req, n) for n in req.conductor.resource_class_list(req.ctx)]})


def show(req: PlacementRequest, name: str) -> Reply:
    req.authorize("placement:resource_classes:show")
    if name not in req.conductor.resource_class_list(req.ctx):
        raise HTTPError(404, f"No such resource class {name}.")
    return Reply(200, _view(req, name))
