"""JSON Schema pieces of the API and a validator for the subset they use.

The OpenAPI document and the request checks use the same dictionaries, so what the document
promises is what the views enforce.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflow.engine import values

Schema = dict[str, Any]

INT32_MAX = values.ID_MAX
JSON_INT_MAX = 2**53
# The text rules of the web forms (workflow.engine.values): one line refuses every control
# character, NUL included (PostgreSQL cannot store it); long text keeps line breaks and tabs.
SINGLE_LINE = values.SINGLE_LINE_PATTERN
LONG_TEXT = values.LONG_TEXT_PATTERN
TEXT_MAX_LENGTH = 20_000
# A date the forms accept: years FIRST_YEAR..LAST_YEAR (1900-2200), so the document says what
# the check enforces (a year like 2999 is a typing error).
DATE_IN_RANGE = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$"
assert (values.FIRST_YEAR, values.LAST_YEAR) == (1900, 2200), "DATE_IN_RANGE names the years"
PATTERN_ISSUES = {
    DATE_IN_RANGE: (
        f"skal være en dato mellem år {values.FIRST_YEAR} og {values.LAST_YEAR} (ÅÅÅÅ-MM-DD)",
        f"must be a date between {values.FIRST_YEAR} and {values.LAST_YEAR} (YYYY-MM-DD)",
    ),
    SINGLE_LINE: (
        "må ikke indeholde linjeskift eller andre kontroltegn; skriv den på én linje",
        "must not contain line breaks or other control characters; write it on one line",
    ),
    LONG_TEXT: (
        "indeholder kontroltegn; kun linjeskift og tabulatorer er tilladt",
        "contains control characters; only line breaks and tabs are allowed",
    ),
}


@dataclass(frozen=True)
class Issue:
    """One way a value does not match its schema, said in Danish and English."""

    field: str
    message_da: str
    message_en: str


def date_input() -> Schema:
    """A calendar date in the years the forms accept."""
    return {"type": "string", "format": "date", "pattern": DATE_IN_RANGE}


def nullable(schema: Schema) -> Schema:
    """Allow null beside the schema's type."""
    kind = schema["type"]
    kinds = list(kind) if isinstance(kind, list) else [kind]
    return {**schema, "type": [*kinds, "null"]}


def string(max_length: int = TEXT_MAX_LENGTH, min_length: int = 0, **extra: Any) -> Schema:
    """One line of text without control characters, at most `max_length` long."""
    schema: Schema = {"type": "string", "maxLength": max_length, "pattern": SINGLE_LINE, **extra}
    if min_length:
        schema["minLength"] = min_length
    return schema


def text(max_length: int = TEXT_MAX_LENGTH, **extra: Any) -> Schema:
    """Text of several lines (line breaks and tabs, no other control characters)."""
    return {"type": "string", "maxLength": max_length, "pattern": LONG_TEXT, **extra}


def integer(minimum: int = 1, maximum: int = INT32_MAX, **extra: Any) -> Schema:
    """A whole number in the range a database id or count fits in."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def obj(properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    """An object with these properties and no others."""
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return {**schema, **extra}


def array(items: Schema, **extra: Any) -> Schema:
    """A list of items."""
    return {"type": "array", "items": items, **extra}


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def normalise(schema: Schema, value: Any) -> Any:
    """Turn whole floats (3.0) into ints where the schema asks for an integer.

    JSON Schema counts 3.0 as an integer; the engine and the database want an int.
    """
    kinds = schema.get("type")
    allowed = kinds if isinstance(kinds, list) else [kinds]
    if isinstance(value, float) and "integer" in allowed and "number" not in allowed:
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [normalise(schema["items"], item) for item in value]
    if isinstance(value, dict):
        properties: dict[str, Schema] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: normalise(properties.get(key, extra if isinstance(extra, dict) else {}), item)
            for key, item in value.items()
        }
    return value


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


TYPE_WORDS = {
    "string": ("en tekst", "a string"),
    "integer": ("et heltal", "an integer"),
    "number": ("et tal", "a number"),
    "boolean": ("true eller false", "true or false"),
    "object": ("et objekt", "an object"),
    "array": ("en liste", "an array"),
    "null": ("null", "null"),
}


def _matches_type(value: Any, kind: str) -> bool:
    actual = _type_of(value)
    return actual == kind or (kind == "number" and actual == "integer")


def validate(schema: Schema, value: Any, where: str = "") -> list[Issue]:
    """List how `value` breaks `schema` (the subset of JSON Schema this package writes)."""
    name = where or "(forespørgslen)"
    kinds = schema.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_matches_type(value, kind) for kind in allowed):
            da = " eller ".join(TYPE_WORDS[k][0] for k in allowed)
            en = " or ".join(TYPE_WORDS[k][1] for k in allowed)
            return [Issue(name, f"'{name}' skal være {da}.", f"'{name}' must be {en}.")]
    if "enum" in schema and value not in schema["enum"]:
        listed = ", ".join(str(v) for v in schema["enum"])
        return [
            Issue(
                name, f"'{name}' skal være en af: {listed}.", f"'{name}' must be one of: {listed}."
            )
        ]
    if isinstance(value, str):
        return _validate_string(schema, value, name)
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return _validate_number(schema, value, name)
    if isinstance(value, list):
        return _validate_array(schema, value, name, where)
    if isinstance(value, dict):
        return _validate_object(schema, value, where)
    return []


def _validate_string(schema: Schema, value: str, name: str) -> list[Issue]:
    issues: list[Issue] = []
    if len(value) < schema.get("minLength", 0):
        issues.append(Issue(name, f"'{name}' skal udfyldes.", f"'{name}' must not be empty."))
    if len(value) > schema.get("maxLength", math.inf):
        limit = schema["maxLength"]
        issues.append(
            Issue(
                name,
                f"'{name}' er for lang (højst {limit} tegn).",
                f"'{name}' is too long (max {limit}).",
            )
        )
    pattern = schema.get("pattern")
    if pattern is not None and re.search(_python_pattern(pattern), value) is None:
        da, en = PATTERN_ISSUES.get(pattern, ("indeholder ugyldige tegn", "has invalid characters"))
        issues.append(Issue(name, f"'{name}' {da}.", f"'{name}' {en}."))
    if not _valid_utf8(value):
        issues.append(
            Issue(name, f"'{name}' er ikke gyldig tekst.", f"'{name}' is not valid text.")
        )
    fmt = schema.get("format")
    if fmt == "date" and not _parses(values.calendar_date, value, 10):
        issues.append(
            Issue(
                name,
                f"'{name}' skal være en dato (ÅÅÅÅ-MM-DD).",
                f"'{name}' must be a date (YYYY-MM-DD).",
            )
        )
    if fmt == "date-time" and not _is_date_time(value):
        issues.append(
            Issue(
                name,
                f"'{name}' skal være et tidspunkt med tidszone, fx 2020-09-01T10:00:00+02:00.",
                f"'{name}' must be a date-time with offset, e.g. 2020-09-01T10:00:00+02:00.",
            )
        )
    return issues


def _python_pattern(pattern: str) -> str:
    """JSON Schema's `$` ends the text; Python's also matches before a final line break."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\Z"
    return pattern


def _valid_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parses(parse: Any, value: str, length: int) -> bool:
    if len(value) != length:
        return False
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: str) -> bool:
    """RFC 3339 date-time with an offset (or Z)."""
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value
    ):
        return False
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None and values.FIRST_YEAR <= parsed.year <= values.LAST_YEAR


def parse_date_time(value: str) -> datetime:
    """Parse a date-time that `validate` accepted."""
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


def _validate_number(schema: Schema, value: float, name: str) -> list[Issue]:
    if isinstance(value, float) and not math.isfinite(value):
        return [
            Issue(
                name, f"'{name}' skal være et endeligt tal.", f"'{name}' must be a finite number."
            )
        ]
    low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
    if value < low or value > high:
        return [
            Issue(
                name,
                f"'{name}' skal ligge mellem {low} og {high}.",
                f"'{name}' must be between {low} and {high}.",
            )
        ]
    return []


def _validate_array(schema: Schema, value: list[Any], name: str, where: str) -> list[Issue]:
    issues: list[Issue] = []
    if len(value) > schema.get("maxItems", math.inf):
        issues.append(
            Issue(name, f"'{name}' har for mange elementer.", f"'{name}' has too many items.")
        )
    if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
        issues.append(
            Issue(name, f"'{name}' nævner det samme flere gange.", f"'{name}' repeats an item.")
        )
    items = schema.get("items")
    if items is not None:
        for index, item in enumerate(value):
            issues += validate(items, item, f"{where}[{index}]")
    return issues


def _validate_object(schema: Schema, value: dict[str, Any], where: str) -> list[Issue]:
    issues: list[Issue] = []
    properties: dict[str, Schema] = schema.get("properties", {})
    prefix = f"{where}." if where else ""
    for key in schema.get("required", []):
        if key not in value:
            name = prefix + key
            issues.append(Issue(name, f"'{name}' mangler.", f"'{name}' is required."))
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        name = prefix + key
        if not _valid_utf8(key) or "\x00" in key:
            issues.append(
                Issue(name, "Et feltnavn er ikke gyldig tekst.", "A key is not valid text.")
            )
        elif key in properties:
            issues += validate(properties[key], item, name)
        elif extra is False:
            issues.append(Issue(name, f"Feltet '{name}' kendes ikke.", f"Unknown field '{name}'."))
        elif isinstance(extra, dict):
            issues += validate(extra, item, name)
    return issues
