"""Values as the reports show them: redacted where the plan marks them sensitive, placeholders
for unknown and absent values, and HCL literals for pins."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
ABSENT = "(none)"
PLACEHOLDERS = (SENSITIVE, UNKNOWN, ABSENT)


def get_path(value: Any, path: list[str | int] | tuple) -> Any:
    """Walk a decoded value by an attribute path; None when it does not exist."""
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def is_marked(tree: Any, path: list[str | int] | tuple) -> bool:
    """True when a sensitive/unknown marker tree marks `path` or any of its parents or children."""
    node = tree
    for step in path:
        if node is True:
            return True
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return False
    stack = [node]
    while stack:  # iterative: a tree may nest as deep as the decoder allows
        node = stack.pop()
        if node is True:
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def path_text(path: Sequence[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def top_attr(path: list[str | int] | tuple) -> str | None:
    return next((p for p in path if isinstance(p, str)), None)


def show_value(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# Attributes the provider keeps in state as a digest of what the code says, not the text itself.
# Their old value can never be written back into the code.
HASHED_ATTRS: dict[str, frozenset[str]] = {
    "aws_instance": frozenset({"user_data"}),
    "aws_spot_instance_request": frozenset({"user_data"}),
    "aws_launch_configuration": frozenset({"user_data"}),
}
_HEX_DIGEST = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")


def is_hashed(rtype: str, path: list[str | int] | tuple, value: Any) -> bool:
    """True when the plan holds this attribute only as a digest (SHA-1 of `user_data`, ...)."""
    attr = top_attr(path)
    if attr is not None and attr in HASHED_ATTRS.get(rtype, frozenset()):
        return True
    return isinstance(value, str) and bool(_HEX_DIGEST.match(value)) and "user_data" in (attr or "")


def hcl_string(text: str) -> str:
    """A quoted HCL string: JSON escapes, and template sequences (`${`, `%{`) doubled."""
    return json.dumps(text, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")


def hcl_literal(value: Any) -> str | None:
    """The value as an HCL expression, or None for values HCL cannot write literally."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list):
        items = [hcl_literal(v) for v in value]
        if any(i is None for i in items):
            return None
        return "[" + ", ".join(i for i in items if i is not None) + "]"
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            lit = hcl_literal(v)
            if lit is None or not isinstance(k, str):
                return None
            parts.append(f"{hcl_string(k)} = {lit}")
        return "{ " + ", ".join(parts) + " }" if parts else "{}"
    return None
