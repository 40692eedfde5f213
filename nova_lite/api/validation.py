"""JSON-schema validation of request bodies, with Nova's 400 message wording.

Validators are compiled once per schema (schemas are module constants) and cached by
id, so a request pays only for the validation itself.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import re
import string
import uuid
from typing import Any, Optional

import jsonschema

from nova_lite.api import wsgi

_checker = jsonschema.FormatChecker(formats=())


@_checker.checks("name")
def _is_name(value: Any) -> bool:
    """Printable, and no leading or trailing whitespace (Nova's 'name' rule)."""
    if not isinstance(value, str):
        return True
    return value.isprintable() and value == value.strip()


@_checker.checks("name_with_spaces")
def _is_printable(value: Any) -> bool:
    return not isinstance(value, str) or value.isprintable()


@_checker.checks("uuid")
def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@_checker.checks("base64")
def _is_base64(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@_checker.checks("ipv4")
def _is_ipv4(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


@_checker.checks("ipv6")
def _is_ipv6(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def normalized_ip(value: Optional[str]) -> Optional[str]:
    """An address as stored: the canonical text of a valid IPv4/IPv6 address, so e.g.
    '0000:0000:0000:0000:0000:babe:220.12.22.2' (41 characters) becomes '::babe:dc0c:1602'
    and always fits the 39-character columns."""
    if value is None:
        return None
    return str(ipaddress.ip_address(value))


_KEYPAIR_CHARS_20 = frozenset("_- " + string.digits + string.ascii_letters)
_KEYPAIR_CHARS_292 = _KEYPAIR_CHARS_20 | frozenset("@.")


@_checker.checks("keypair_name_20")
def _is_keypair_name_20(value: Any) -> bool:
    return not isinstance(value, str) or (_is_name(value) and set(value) <= _KEYPAIR_CHARS_20)


@_checker.checks("keypair_name_292")
def _is_keypair_name_292(value: Any) -> bool:
    return not isinstance(value, str) or (_is_name(value)
                                          and set(value) <= _KEYPAIR_CHARS_292)


_FORMAT_HINTS = {
    "keypair_name_20": "An invalid 'name' value was provided. Only expected characters: "
                       "letters, digits, spaces, '_' and '-', and no leading or trailing "
                       "spaces.",
    "keypair_name_292": "An invalid 'name' value was provided. Only expected characters: "
                        "letters, digits, spaces, '_', '-', '@' and '.', and no leading or "
                        "trailing spaces.",
    "name": "An invalid 'name' value was provided. The name must be printable "
            "characters and can not start or end with whitespace.",
    "uuid": "It is not a valid UUID.",
    "base64": "It is not valid base64 data.",
    "ipv4": "It is not a valid IPv4 address.",
    "ipv6": "It is not a valid IPv6 address.",
}

_validators: dict[int, jsonschema.protocols.Validator] = {}


def _numeric_strings(check: Any) -> Any:
    """minimum/maximum that also bound a string of digits (the schemas take "512" as
    well as 512, as Nova's do): without it "99999999999999999999999" passes a maximum
    and reaches a database column too narrow for it."""
    def bounded(validator: Any, bound: Any, instance: Any, schema: dict) -> Any:
        if isinstance(instance, str):
            try:
                instance = float(instance)  # no digit-count limit, unlike int()
            except ValueError:
                return  # the pattern or type check reports it
        yield from check(validator, bound, instance, schema)
    return bounded


@functools.cache
def _end_anchored(pattern: str) -> re.Pattern:
    """A schema pattern whose final ``$`` means the end of the text: Python's ``$`` also
    matches before a final newline, so "^[0-9]*$" would let "\\n" through to int()."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Any:
    if isinstance(instance, str) and not _end_anchored(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _validator(schema: dict) -> Any:
    v = _validators.get(id(schema))
    if v is None:
        base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
        cls = jsonschema.validators.extend(base, {
            "pattern": _pattern,
            **{key: _numeric_strings(base.VALIDATORS[key]) for key in ("minimum", "maximum")
               if key in base.VALIDATORS}})
        v = cls(schema, format_checker=_checker)
        _validators[id(schema)] = v
    return v


def _message(err: jsonschema.ValidationError) -> str:
    path = "/".join(str(p) for p in err.path)
    if err.validator == "required" or err.validator == "additionalProperties":
        return (f"Invalid input for field/attribute {path}. Value: {_short(err.instance)}. "
                f"{err.message}" if path else err.message)
    if err.validator == "format":
        detail = _FORMAT_HINTS.get(err.validator_value, err.message)
    elif err.validator == "oneOf" or err.validator == "anyOf":
        detail = f"{_short(err.instance)} is not valid under any of the given schemas"
    else:
        detail = err.message
    return f"Invalid input for field/attribute {path}. Value: {_short(err.instance)}. {detail}"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "..."


def validate(schema: dict, body: Any) -> None:
    """Raise a 400 HTTPError naming the first problem if body does not match schema."""
    v = _validator(schema)
    try:
        err: Optional[jsonschema.ValidationError] = jsonschema.exceptions.best_match(
            v.iter_errors(body))
    except RecursionError:  # a body nested deeper than the schema walk can follow
        raise wsgi.bad_request("Malformed request body") from None
    if err is not None:
        raise wsgi.bad_request(_message(err))


def body(req: wsgi.ApiRequest, schema: dict) -> Any:
    """The request's JSON body, validated."""
    data = req.json_body()
    validate(schema, data)
    return data


_BOOL_TRUE = {"1", "t", "true", "on", "y", "yes"}
_BOOL_FALSE = {"0", "f", "false", "off", "n", "no"}


def parse_bool(name: str, value: Any, empty_is: Optional[bool] = None) -> bool:
    """A query or body boolean, accepting Nova's spellings; 400 otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "" and empty_is is not None:
        return empty_is
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    raise wsgi.bad_request(f"Invalid value '{value}' for {name}: must be a boolean.")


_INT = re.compile(r"^-?[0-9]+$")
# Integers a database column can hold (BIGINT; SQLite refuses anything wider).
DB_INT_MAX = 2 ** 63 - 1


def fits_db_int(n: int) -> bool:
    return -DB_INT_MAX - 1 <= n <= DB_INT_MAX


def parse_int(name: str, value: Any, minimum: Optional[int] = None) -> int:
    """A query integer; one too wide for the database is clamped to the widest it
    holds (a filter like minRam=10**20 then simply matches nothing)."""
    text = str(value).strip()
    if not _INT.match(text):
        raise wsgi.bad_request(f"{name} param must be an integer")
    digits = text.lstrip("-").lstrip("0") or "0"
    n = int(digits) if len(digits) <= 19 else DB_INT_MAX + 1  # never int() 5,000 digits
    n = max(-DB_INT_MAX - 1, -n) if text.startswith("-") else min(n, DB_INT_MAX)
    if minimum is not None and n < minimum:
        if minimum == 0:
            raise wsgi.bad_request(f"{name} param must be positive")
        raise wsgi.bad_request(f"{name} param must be >= {minimum}")
    return n


def reject_unknown_query_params(params: Any, allowed: Any) -> None:
    """400 for a query parameter outside ``allowed``, worded as Nova words it."""
    for key in params:
        if key not in allowed:
            raise wsgi.bad_request(f"Invalid input for query parameters {key}. Value: "
                                   f"{params[key]}. Additional properties are not allowed "
                                   f"('{key}' was unexpected)")
