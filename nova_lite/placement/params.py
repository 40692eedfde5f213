"""Query string parameters of the Placement API, parsed as Placement parses them:
``resources=VCPU:1,MEMORY_MB:512``, ``required=T1,!T2`` (forbidden from 1.22,
``in:T3,T4`` any-of from 1.39), ``member_of=in:A,B`` (repeatable from 1.24, ``!`` from
1.32); unknown parameters are refused."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from nova_lite.placement import names
from nova_lite.placement.microversion import Version
from nova_lite.placement.wsgi import bad_request

BAD_VALUE = "placement.query.bad_value"


def reject_unknown(params: Any, allowed: set[str]) -> None:
    unknown = sorted(set(params.keys()) - allowed)
    if unknown:
        raise bad_request(f"Invalid query string parameters: {', '.join(unknown)}",
                          BAD_VALUE)


def single(params: Any, name: str) -> str | None:
    values = params.getall(name)
    if len(values) > 1:
        raise bad_request(f"Invalid query string parameters: {name} given more than once",
                          BAD_VALUE)
    return values[0] if values else None


def resources(value: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in value.split(","):
        rc, sep, amount = item.partition(":")
        rc = rc.strip()
        try:
            number = int(amount)
        except ValueError:
            number = -1
        if not sep or not rc or number < 0:
            raise bad_request(
                "Badly formed resources parameter. Expected resources query string "
                "parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: "
                f"{value}.", BAD_VALUE)
        if rc in out:
            raise bad_request(f"Resource class {rc} given more than once in resources "
                              "parameter.", BAD_VALUE)
        if number == 0:
            raise bad_request(f"Resource {rc} requested with an amount of 0; amounts "
                              "must be positive integers.", BAD_VALUE)
        if not names.known_resource_class(rc):
            raise bad_request(f"Invalid resource class in resources parameter: No such "
                              f"resource class {rc}.", BAD_VALUE)
        out[rc] = number
    return out


def required(values: list[str], ver: Version) -> tuple[list[list[str]], list[str]]:
    """(groups of which each needs one trait, forbidden traits)."""
    groups: list[list[str]] = []
    forbidden: list[str] = []
    for value in values:
        if value.startswith("in:"):
            if ver < (1, 39):
                raise bad_request(f"Invalid query string parameters: 'required' does not "
                                  f"accept 'in:' before microversion 1.39: {value}",
                                  BAD_VALUE)
            group = [t.strip() for t in value[3:].split(",") if t.strip()]
            _check_traits(group, value)
            groups.append(group)
            continue
        for trait in (t.strip() for t in value.split(",")):
            if trait.startswith("!") and ver >= (1, 22):
                _check_traits([trait[1:]], value)
                forbidden.append(trait[1:])
            else:
                _check_traits([trait], value)
                groups.append([trait])
    if not groups and not forbidden:
        raise bad_request("Invalid query string parameters: Expected 'required' parameter "
                          "value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC.", BAD_VALUE)
    return groups, forbidden


def _check_traits(traits: list[str], value: str) -> None:
    if not traits or any(not names.NAME_RE.match(t) for t in traits):
        raise bad_request(f"Invalid query string parameters: Expected 'required' "
                          f"parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. "
                          f"Got: {value}", BAD_VALUE)


def member_of(values: list[str], ver: Version) -> list[dict]:
    if len(values) > 1 and ver < (1, 24):
        raise bad_request("Multiple member_of parameters are not supported before "
                          "microversion 1.24.", BAD_VALUE)
    out = []
    for value in values:
        negate = value.startswith("!")
        if negate:
            if ver < (1, 32):
                raise bad_request("Forbidden member_of parameters are not supported "
                                  "before microversion 1.32.", BAD_VALUE)
            value = value[1:]
        listed = value[3:] if value.startswith("in:") else value
        aggs = [a.strip() for a in listed.split(",") if a.strip()]
        try:
            for agg in aggs:
                uuidlib.UUID(agg)
        except ValueError:
            aggs = []
        if not aggs:
            raise bad_request("Expected member_of parameter to contain valid UUID(s). "
                              f"Got: {value}", BAD_VALUE)
        out.append({"any": aggs, "not": negate})
    return out


def uuid_value(value: str, name: str) -> str:
    try:
        uuidlib.UUID(value)
    except ValueError:
        raise bad_request(f"Invalid query string parameters: Failed validating 'format' "
                          f"in schema['properties']['{name}']: '{value}' is not a "
                          "'uuid'", BAD_VALUE) from None
    return value


def as_bool(name: str, value: str) -> bool:
    low = value.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise bad_request(f"Invalid query string parameters: {name} must be true or false; "
                      f"got {value}", BAD_VALUE)


def limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise bad_request(f"Invalid query string parameters: limit must be a positive "
                          f"integer; got {value}", BAD_VALUE)
    return number
