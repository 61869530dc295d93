"""Comparing value trees of a plan: which leaves differ, in more than null against empty."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 12  # nesting followed when comparing values; deeper trees compare whole

Path = tuple[str | int, ...]


def empty(value: Any) -> bool:
    return value in (None, "", [], {})


def differs(a: Any, b: Any) -> bool:
    """Values differ in more than empty-versus-null (`tags: null -> {}`, `[] -> null`, `"" -> null`)."""
    if empty(a) and empty(b):
        return False
    return a != b


def leaf_changes(before: Any, after: Any, unknown: Any, prefix: Path = (), depth: int = 0) -> list[Path]:
    """Paths of the leaves that differ between two value trees (more than null against empty), or
    become unknown (`unknown` is the `after_unknown` tree at the same place)."""
    if unknown is True:
        return [prefix]
    if depth > MAX_DEPTH:
        return [prefix] if differs(before, after) else []
    if isinstance(before, dict) and isinstance(after, dict):
        marks = unknown if isinstance(unknown, dict) else {}
        out: list[Path] = []
        for key in sorted(set(before) | set(after) | set(marks)):
            out += leaf_changes(before.get(key), after.get(key), marks.get(key), prefix + (key,), depth + 1)
        return out
    if isinstance(before, list) and isinstance(after, list):
        marks_list = unknown if isinstance(unknown, list) else []
        out = []
        for i in range(max(len(before), len(after))):
            b = before[i] if i < len(before) else None
            a = after[i] if i < len(after) else None
            u = marks_list[i] if i < len(marks_list) else None
            out += leaf_changes(b, a, u, prefix + (i,), depth + 1)
        return out
    return [prefix] if differs(before, after) else []
