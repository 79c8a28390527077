"""A small JSON Schema (draft 2020-12) validator for the keywords report.schema.json uses.

Keeps jsonschema out of the dependencies; ``KEYWORDS`` lists what it understands, and a test checks the
published schema uses nothing else, so no rule is silently skipped.
"""

from __future__ import annotations

ANNOTATIONS = {"$schema", "$id", "title", "description"}
KEYWORDS = {
    "$ref", "$defs", "type", "properties", "required", "additionalProperties", "items", "enum", "const",
    "minimum", "maximum", "minItems", "maxItems", "anyOf",
} | ANNOTATIONS

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def keywords_used(schema, found=None) -> set[str]:
    """Every keyword appearing in a schema (property names under "properties"/"$defs" excluded)."""
    found = set() if found is None else found
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    keywords_used(sub, found)
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                keywords_used(value, found)
            elif key == "anyOf":
                for sub in value:
                    keywords_used(sub, found)
    return found


def errors(instance, schema, root=None, path="$") -> list[str]:
    """Every violation as "path: why"; empty when the instance is valid."""
    root = schema if root is None else root
    out: list[str] = []
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        out += errors(instance, root["$defs"][ref.split("/")[-1]], root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](instance) for t in types):
            return out + [f"{path}: {instance!r:.60} is not of type {types}"]
    if "const" in schema and instance != schema["const"]:
        out.append(f"{path}: {instance!r} != {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        out.append(f"{path}: {instance!r} not in {schema['enum']}")
    if "minimum" in schema and _TYPES["number"](instance) and instance < schema["minimum"]:
        out.append(f"{path}: {instance} < {schema['minimum']}")
    if "maximum" in schema and _TYPES["number"](instance) and instance > schema["maximum"]:
        out.append(f"{path}: {instance} > {schema['maximum']}")
    if "anyOf" in schema:
        if all(errors(instance, sub, root, path) for sub in schema["anyOf"]):
            out.append(f"{path}: matches none of anyOf")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in instance:
                out.append(f"{path}: missing required {key!r}")
        for key, value in instance.items():
            if key in props:
                out += errors(value, props[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}: unexpected key {key!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(value, schema["additionalProperties"], root, f"{path}.{key}")
    if isinstance(instance, list):
        if "minItems" in schema and len(instance) < schema["minItems"]:
            out.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            out.append(f"{path}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(instance):
                out += errors(item, schema["items"], root, f"{path}[{i}]")
    return out
