"""Typed mirror of the parts of a `terraform show -json` plan that the rules read.

Decoded with msgspec: unknown fields are skipped without building Python objects, and the
value trees (`before`, `after`, data source `values`, ...) stay as `msgspec.Raw` slices of the
input until a rule asks for one of them.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Raw, Struct

_decode_any = msgspec.json.Decoder()
_EMPTY = Raw()


def raw_value(raw: Raw | None) -> Any:
    """Decode a Raw slice on demand; absent or empty gives None."""
    if raw is None or len(raw) == 0:
        return None
    return _decode_any.decode(raw)


class Change(Struct, kw_only=True):
    actions: list[str] = []
    before: Raw = _EMPTY
    after: Raw = _EMPTY
    after_unknown: Raw = _EMPTY
    before_sensitive: Raw = _EMPTY
    after_sensitive: Raw = _EMPTY
    replace_paths: list[list[str | int]] | None = None


class ResourceChange(Struct, kw_only=True):
    address: str = ""
    module_address: str | None = None
    mode: str = "managed"
    type: str = ""
    name: str = ""
    index: int | str | None = None
    deposed: Any = None
    provider_name: str | None = None
    previous_address: str | None = None
    action_reason: str | None = None
    change: Change = msgspec.field(default_factory=Change)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(a.lower() for a in self.change.actions)

    @property
    def full_address(self) -> str:
        """The address; Terraform 1.0.0 drift entries lack it, so rebuild it then."""
        if self.address:
            return self.address
        base = f"{self.type}.{self.name}" if self.mode == "managed" else f"data.{self.type}.{self.name}"
        if self.index is not None:
            base += f"[{_key(self.index)}]"
        return f"{self.module_address}.{base}" if self.module_address else base


def _key(index: int | str) -> str:
    if isinstance(index, int):
        return str(index)
    return '"' + index.replace("\\", "\\\\").replace('"', '\\"') + '"'


class StateResource(Struct, kw_only=True):
    address: str = ""
    mode: str = "managed"
    type: str = ""
    name: str = ""
    index: int | str | None = None
    provider_name: str | None = None
    values: Raw = _EMPTY
    sensitive_values: Raw = _EMPTY


class StateModule(Struct, kw_only=True):
    address: str | None = None
    resources: list[StateResource] = []
    child_modules: list[StateModule] = []


class StateValues(Struct, kw_only=True):
    root_module: StateModule = msgspec.field(default_factory=StateModule)


class PriorState(Struct, kw_only=True):
    values: StateValues | None = None


class ConfigResource(Struct, kw_only=True):
    address: str = ""
    mode: str = "managed"
    type: str = ""
    name: str = ""
    provider_config_key: str | None = None
    expressions: Raw = _EMPTY
    count_expression: Raw = _EMPTY
    for_each_expression: Raw = _EMPTY
    depends_on: list[str] | None = None

    @property
    def exprs(self) -> dict[str, Any]:
        value = raw_value(self.expressions)
        return value if isinstance(value, dict) else {}


class ConfigOutput(Struct, kw_only=True):
    expression: Raw = _EMPTY
    sensitive: bool = False


class ConfigVariable(Struct, kw_only=True):
    default: Raw = _EMPTY
    description: str | None = None
    sensitive: bool = False


class ModuleCall(Struct, kw_only=True):
    source: str | None = None
    expressions: Raw = _EMPTY
    count_expression: Raw = _EMPTY
    for_each_expression: Raw = _EMPTY
    depends_on: list[str] | None = None
    module: ConfigModule = msgspec.field(default_factory=lambda: ConfigModule())

    @property
    def exprs(self) -> dict[str, Any]:
        value = raw_value(self.expressions)
        return value if isinstance(value, dict) else {}


class ConfigModule(Struct, kw_only=True):
    resources: list[ConfigResource] = []
    module_calls: dict[str, ModuleCall] = {}
    outputs: dict[str, ConfigOutput] = {}
    variables: dict[str, ConfigVariable] = {}
    provider_config: Raw = _EMPTY


class Configuration(Struct, kw_only=True):
    provider_config: Raw = _EMPTY
    root_module: ConfigModule = msgspec.field(default_factory=ConfigModule)


class Variable(Struct, kw_only=True):
    value: Raw = _EMPTY


class Plan(Struct, kw_only=True):
    format_version: str = ""
    terraform_version: str | None = None
    variables: dict[str, Variable] | None = None
    resource_changes: list[ResourceChange] | None = None
    resource_drift: list[ResourceChange] | None = None
    prior_state: PriorState | None = None
    configuration: Configuration | None = None
    errored: bool | None = None
    complete: bool | None = None
    planned_values: Raw = _EMPTY
    values: Raw = _EMPTY  # a state (not a plan) has this instead of planned_values

    @property
    def changes(self) -> list[ResourceChange]:
        return self.resource_changes or []

    @property
    def drift(self) -> list[ResourceChange]:
        return self.resource_drift or []


plan_decoder = msgspec.json.Decoder(Plan)


def iter_state_resources(module: StateModule | None):
    """Every resource of a prior_state module tree, depth first."""
    stack = [module] if module is not None else []
    while stack:
        mod = stack.pop()
        yield from mod.resources
        stack.extend(reversed(mod.child_modules))


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
    return _any_true(node)


def _any_true(node: Any) -> bool:
    if node is True:
        return True
    if isinstance(node, dict):
        return any(_any_true(v) for v in node.values())
    if isinstance(node, list):
        return any(_any_true(v) for v in node)
    return False
