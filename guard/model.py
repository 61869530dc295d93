"""Typed mirror of the parts of a `terraform show -json` plan that the rules read.

Decoded with msgspec: unknown fields are skipped without building Python objects, and the
value trees (`before`, `after`, data source `values`, ...) stay as `msgspec.Raw` slices of the
input until a rule asks for one of them.

Large plans are mostly unchanged resources, so two parts are decoded only on demand:
- a resource change's `change` object: its actions are read once per change (`actions`), and
  the whole object (`change`) only for changes that are not no-ops, or when asked for;
- `prior_state` resources stay raw; `iter_state_data` finds the data sources among them and
  `iter_state_resources` decodes every one, one at a time.
The loader (`load.py`) reads every change's actions and decodes every non-no-op change, and
`configuration_problem` walks the configuration's expression trees (small beside the values), so
a plan with a field of the wrong shape is refused at load time, naming the file and the JSON path.
Decoded parts are cached on the structs under JSON names (`replace-guard:...`) that a plan could
hold too: the loader sets every one of them, so none is ever taken from the file.

Structs are `gc=False`: a plan is a tree (no reference cycles), and a 100,000-resource plan
would otherwise make the cyclic garbage collector walk every struct several times while decoding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import msgspec
from msgspec import Raw, Struct

_decode_any = msgspec.json.Decoder()
_EMPTY = Raw()
# Python converts at most this many digits to an int (sys.int_info.default_max_str_digits).
_MAX_INT_DIGITS = 4300


def _big_int(text: str) -> int | str:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else text


def _big_float(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text


def raw_value(raw: Raw | None) -> Any:
    """Decode a Raw slice on demand; absent or empty gives None.

    Terraform numbers have arbitrary precision. A number Python cannot hold (an integer of more
    than 4,300 digits, a float beyond 1e308) is kept as its text, so reading any value never fails.
    """
    if raw is None or len(raw) == 0:
        return None
    try:
        return _decode_any.decode(raw)
    except msgspec.ValidationError:  # "Integer value out of range", "Number out of range"
        try:
            return json.loads(bytes(raw), parse_int=_big_int, parse_float=_big_float)
        except (ValueError, RecursionError):
            return None


class Change(Struct, kw_only=True, gc=False):
    actions: list[str] = []
    before: Raw = _EMPTY
    after: Raw = _EMPTY
    after_unknown: Raw = _EMPTY
    before_sensitive: Raw = _EMPTY
    after_sensitive: Raw = _EMPTY
    replace_paths: list[list[str | int]] | None = None


class _ActionsOnly(Struct, gc=False):
    actions: tuple[str, ...] = ()


_change_decoder = msgspec.json.Decoder(Change)
actions_decoder = msgspec.json.Decoder(_ActionsOnly)
# One shared, normalised tuple per distinct action list: 100,000 no-ops share one object.
shared_actions: dict[tuple[str, ...], tuple[str, ...]] = {}
_ACTION_SPELLING = {"noop": "no-op"}


def normal_actions(actions: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Lower-cased actions, as a shared tuple: pre-release 0.12 plans wrote `Create`, `Delete` and
    `NoOp`, which becomes `no-op`, so that every check of an unchanged resource has one spelling."""
    key = actions if type(actions) is tuple else tuple(actions)
    found = shared_actions.get(key)
    if found is None:
        found = tuple(_ACTION_SPELLING.get(a.lower(), a.lower()) if isinstance(a, str) else a for a in key)
        if len(shared_actions) < 256:
            shared_actions[key] = found
    return found


NOOP: tuple[str, ...] = normal_actions(["no-op"])


def decode_actions(raw: Raw) -> tuple[str, ...]:
    """The normalised actions of a raw change object. A key written twice counts once, the last
    time, as jq, Python and Go read it (msgspec decodes every duplicated key that way)."""
    return normal_actions(actions_decoder.decode(raw).actions) if len(raw) else normal_actions(())

# Fields that only cache decoded parts, under JSON names no plan uses.
_CACHE_CHANGE = "replace-guard:change"
_CACHE_ACTIONS = "replace-guard:actions"


class ResourceChange(Struct, kw_only=True, gc=False):
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
    change_json: Raw = msgspec.field(default=_EMPTY, name="change")
    decoded_change: Change | None = msgspec.field(default=None, name=_CACHE_CHANGE)
    decoded_actions: tuple[str, ...] | None = msgspec.field(default=None, name=_CACHE_ACTIONS)

    @property
    def change(self) -> Change:
        """The `change` object, decoded on first use (raises msgspec errors on a bad shape)."""
        found = self.decoded_change
        if found is None:
            found = _change_decoder.decode(self.change_json) if len(self.change_json) else Change()
            self.decoded_change = found
        return found

    @property
    def actions(self) -> tuple[str, ...]:
        found = self.decoded_actions
        if found is None:
            if self.decoded_change is not None:
                found = normal_actions(self.decoded_change.actions)
            else:
                found = decode_actions(self.change_json)
            self.decoded_actions = found
        return found

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


class StateResource(Struct, kw_only=True, gc=False):
    address: str = ""
    mode: str = "managed"
    type: str = ""
    name: str = ""
    index: int | str | None = None
    provider_name: str | None = None
    values: Raw = _EMPTY
    sensitive_values: Raw = _EMPTY


class _StateMode(Struct, gc=False):
    mode: str = "managed"


_state_resource_decoder = msgspec.json.Decoder(StateResource)
_state_mode_decoder = msgspec.json.Decoder(_StateMode)


class StateModule(Struct, kw_only=True, gc=False):
    address: str | None = None
    # Raw: decoded one at a time by iter_state_resources / iter_state_data.
    resources_json: list[Raw] = msgspec.field(default_factory=list, name="resources")
    child_modules: list[StateModule] = []


class StateValues(Struct, kw_only=True, gc=False):
    root_module: StateModule = msgspec.field(default_factory=StateModule)


class PriorState(Struct, kw_only=True, gc=False):
    values: StateValues | None = None


_CACHE_EXPRS = "replace-guard:exprs"


class ConfigResource(Struct, kw_only=True, gc=False):
    address: str = ""
    mode: str = "managed"
    type: str = ""
    name: str = ""
    provider_config_key: str | None = None
    expressions: Raw = _EMPTY
    count_expression: Raw = _EMPTY
    for_each_expression: Raw = _EMPTY
    depends_on: list[str] | None = None
    decoded_exprs: dict[str, Any] | None = msgspec.field(default=None, name=_CACHE_EXPRS)

    @property
    def exprs(self) -> dict[str, Any]:
        """The `expressions` object, decoded once ({} when absent or not an object)."""
        found = self.decoded_exprs
        if found is None:
            value = raw_value(self.expressions)
            found = self.decoded_exprs = value if isinstance(value, dict) else {}
        return found


class ConfigOutput(Struct, kw_only=True, gc=False):
    expression: Raw = _EMPTY
    sensitive: bool = False


class ConfigVariable(Struct, kw_only=True, gc=False):
    default: Raw = _EMPTY
    description: str | None = None
    sensitive: bool = False


class ModuleCall(Struct, kw_only=True, gc=False):
    source: str | None = None
    expressions: Raw = _EMPTY
    count_expression: Raw = _EMPTY
    for_each_expression: Raw = _EMPTY
    depends_on: list[str] | None = None
    module: ConfigModule = msgspec.field(default_factory=lambda: ConfigModule())
    decoded_exprs: dict[str, Any] | None = msgspec.field(default=None, name=_CACHE_EXPRS)

    @property
    def exprs(self) -> dict[str, Any]:
        """The `expressions` object, decoded once ({} when absent or not an object)."""
        found = self.decoded_exprs
        if found is None:
            value = raw_value(self.expressions)
            found = self.decoded_exprs = value if isinstance(value, dict) else {}
        return found


class ConfigModule(Struct, kw_only=True, gc=False):
    resources: list[ConfigResource] = []
    module_calls: dict[str, ModuleCall] = {}
    outputs: dict[str, ConfigOutput] = {}
    variables: dict[str, ConfigVariable] = {}
    provider_config: Raw = _EMPTY


class Configuration(Struct, kw_only=True, gc=False):
    provider_config: Raw = _EMPTY
    root_module: ConfigModule = msgspec.field(default_factory=ConfigModule)


class Variable(Struct, kw_only=True, gc=False):
    value: Raw = _EMPTY


class Plan(Struct, kw_only=True, gc=False):
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


def _state_modules(module: StateModule | None) -> Iterator[StateModule]:
    stack = [module] if module is not None else []
    while stack:
        mod = stack.pop()
        yield mod
        stack.extend(reversed(mod.child_modules))


def _decode_state_resource(raw: Raw) -> StateResource | None:
    """One prior_state resource; None for an entry that is not a resource object."""
    try:
        return _state_resource_decoder.decode(raw)
    except msgspec.DecodeError:  # ValidationError included: an entry of the wrong shape
        return None


def iter_state_resources(module: StateModule | None) -> Iterator[StateResource]:
    """Every resource of a prior_state module tree, depth first, decoded one at a time.

    A large plan's prior_state holds every managed resource: keep what you need, not the lot.
    """
    for mod in _state_modules(module):
        for raw in mod.resources_json:
            res = _decode_state_resource(raw)
            if res is not None:
                yield res


def iter_state_data(module: StateModule | None) -> Iterator[StateResource]:
    """The data sources of a prior_state module tree (what was read at plan time), depth first.

    Reads only each entry's `mode` first, so the managed resources are never built.
    """
    for mod in _state_modules(module):
        for raw in mod.resources_json:
            try:
                if _state_mode_decoder.decode(raw).mode != "data":
                    continue
            except msgspec.DecodeError:
                continue
            res = _decode_state_resource(raw)
            if res is not None:
                yield res


# -- shape checks of the configuration ---------------------------------------------------------
# msgspec checks the typed fields while decoding; the expression trees stay Raw (decoded once
# here, and cached on the struct for the rules). Terraform writes an `expressions` object whose
# values are expressions (`{"constant_value": ..., "references": ["var.x", ...]}`) or nested
# blocks (an object of expressions, or a list of them); anything else is refused at load time,
# with the JSON path, so that no rule meets a wrong type.
_PROVIDER_TEXT_FIELDS = ("name", "full_name", "alias", "module_address", "version_constraint")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "array"
    return "object"


def json_key(key: str) -> str:
    """One step of a JSON path: `.name`, or `["odd key"]` (ASCII, at most 60 characters)."""
    if key.isidentifier() and key.isascii() and len(key) <= 60:
        return "." + key
    text = json.dumps(key if len(key) <= 60 else key[:57] + "...")
    return f"[{text}]"


def _wrong(want: str, value: Any, path: str) -> str:
    return f"Expected `{want}`, got `{_json_type(value)}` - at `{path}`"


def _expression_problem(node: Any, path: str, top: bool) -> str | None:
    """An `expressions` object (top) or one expression / nested block, walked without recursion."""
    if not isinstance(node, dict):
        return _wrong("object", node, path)
    stack: list[tuple[Any, str]] = [(node, path)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            for i, item in enumerate(node):
                if not isinstance(item, dict):
                    return _wrong("object", item, f"{path}[{i}]")
                stack.append((item, f"{path}[{i}]"))
            continue
        for key, value in node.items():
            if key == "constant_value" and not top:
                continue
            where = path + json_key(key)
            if key == "references" and not top and not isinstance(value, dict):
                if value is None:
                    continue
                if not isinstance(value, list):
                    return _wrong("array", value, where)
                for i, ref in enumerate(value):
                    if not isinstance(ref, str):
                        return _wrong("str", ref, f"{where}[{i}]")
                continue
            if not isinstance(value, (dict, list)):
                return _wrong("object", value, where)
            stack.append((value, where))
        top = False
    return None


def _raw_problem(raw: Raw, path: str, top: bool) -> tuple[str | None, Any]:
    if not len(raw):
        return None, None
    value = raw_value(raw)
    if value is None:  # `null` stands for absent
        return None, None
    return _expression_problem(value, path, top), value


def configuration_problem(plan: Plan) -> str | None:
    """What is wrong with the shape of the plan's `configuration`, with its JSON path, or None.

    Also decodes every `expressions` object once, for the rules (ConfigResource.exprs).
    """
    conf = plan.configuration
    if conf is None:
        return None
    base = "$.configuration"
    providers = raw_value(conf.provider_config) if len(conf.provider_config) else None
    if providers is not None:
        if not isinstance(providers, dict):
            return _wrong("object", providers, f"{base}.provider_config")
        for key, entry in providers.items():
            where = f"{base}.provider_config{json_key(key)}"
            if not isinstance(entry, dict):
                return _wrong("object", entry, where)
            for field in _PROVIDER_TEXT_FIELDS:
                if entry.get(field) is not None and not isinstance(entry[field], str):
                    return _wrong("str", entry[field], f"{where}.{field}")
            if entry.get("expressions") is not None:
                problem = _expression_problem(entry["expressions"], f"{where}.expressions", True)
                if problem:
                    return problem
    stack: list[tuple[ConfigModule, str]] = [(conf.root_module, f"{base}.root_module")]
    while stack:
        mod, path = stack.pop()
        for i, res in enumerate(mod.resources):
            where = f"{path}.resources[{i}]"
            problem, value = _raw_problem(res.expressions, f"{where}.expressions", True)
            if problem:
                return problem
            res.decoded_exprs = value if isinstance(value, dict) else {}
            for field in ("count_expression", "for_each_expression"):
                problem, _ = _raw_problem(getattr(res, field), f"{where}.{field}", False)
                if problem:
                    return problem
        for name, call in mod.module_calls.items():
            where = f"{path}.module_calls{json_key(name)}"
            problem, value = _raw_problem(call.expressions, f"{where}.expressions", True)
            if problem:
                return problem
            call.decoded_exprs = value if isinstance(value, dict) else {}
            for field in ("count_expression", "for_each_expression"):
                problem, _ = _raw_problem(getattr(call, field), f"{where}.{field}", False)
                if problem:
                    return problem
            stack.append((call.module, f"{where}.module"))
        for name, out in mod.outputs.items():
            problem, _ = _raw_problem(out.expression, f"{path}.outputs{json_key(name)}.expression", False)
            if problem:
                return problem
    return None
