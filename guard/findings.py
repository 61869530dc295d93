"""What the rules produce and every report format reads."""

from __future__ import annotations

import hashlib
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    notice = "notice"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "notice": 1}[self.value]


FAIL_LEVELS = {"error": 3, "warning": 2, "notice": 1, "never": 99}


_FIELD_SETS: dict[frozenset[str], set[str]] = {}


class _Model(BaseModel):
    """A report model whose instances share their set of explicitly set fields.

    pydantic keeps, per instance, the set of fields given at construction (`model_fields_set`):
    728 bytes for five or more fields, four of them for every finding and its fixes, edits and
    values; 80 MB for 20,000 findings. Instances with the same fields now share one set, and an
    instance gets a set of its own again before an assignment could add a field to it."""

    def model_post_init(self, context: Any, /) -> None:
        fields = self.__pydantic_fields_set__
        key = frozenset(fields)
        shared = _FIELD_SETS.get(key)
        if shared is None:
            shared = _FIELD_SETS[key] = set(key)
        object.__setattr__(self, "__pydantic_fields_set__", shared)

    def __setattr__(self, name: str, value: Any) -> None:
        fields = self.__pydantic_fields_set__
        if name not in fields and _FIELD_SETS.get(frozenset(fields)) is fields:
            object.__setattr__(self, "__pydantic_fields_set__", set(fields))
        super().__setattr__(name, value)


class Location(_Model):
    model_config = ConfigDict(frozen=True)
    file: str
    line: int = 1


class ChainLink(_Model):
    """One step from the forcing attribute back to where its value comes from."""

    ref: str = Field(description="what this step names, e.g. `aws_instance.app.ami`, `var.ami_id`, `data.aws_ami.al2`")
    kind: str = Field(description="attribute | local | variable | module_input | output | for_each | each_value | "
                                   "data_source | resource | trigger | literal | function | unset | unresolved | "
                                   "meta: a step of the chain, or (last) its root")
    module: str = Field("", description="module path the step lives in ('' for the root module)")
    expression: str | None = Field(None, description="the expression at this step, as written")
    details: list[str] = Field(default_factory=list, description="decisive arguments, e.g. `most_recent = true`")
    location: Location | None = None
    note: str | None = None

    def label(self) -> str:
        return f"{self.ref} ({self.module})" if self.module else self.ref


class ValueChange(_Model):
    path: str
    before: str | None = None
    after: str | None = None


class Edit(_Model):
    """An edit `replace-guard fix` can make: exact, in a file the user owns."""

    file: str = Field(description="the .tf file, as reports show paths")
    line: int = Field(description="the line of the attribute (pin) or of the resource block (ignore)")
    action: str = Field(description="`replace_reference`: in the expression of `attribute` at `line`, put `text` "
                                    "in place of the reference `find`; `ignore_changes`: add `text` to "
                                    "`lifecycle { ignore_changes }` of the block at `line`; `set_argument`: in the "
                                    "block at `line` (a module call), set `attribute = text`; `append_block`: add "
                                    "the block `text` at the end of `file`")
    attribute: str | None = Field(None, description="the argument (or for_each key) whose expression changes")
    find: str | None = Field(None, description="the reference to replace")
    text: str = Field(description="the new text: an HCL literal, or the attribute to ignore")


class Fix(_Model):
    title: str
    detail: str = ""
    location: Location | None = None
    snippet: str | None = None
    strategy: str | None = Field(None, description="`pin`, `pin-keys`, `ignore` or `call-site` when "
                                                   "`replace-guard fix` can make this fix's edits")
    edits: list[Edit] = Field(default_factory=list, description="the edits that make this fix, applied together")


class Finding(_Model):
    rule: str
    severity: Severity
    title: str
    address: str
    plan: str = ""
    actions: list[str] = Field(default_factory=list)
    action_reason: str | None = None
    replace_paths: list[list[str | int]] = Field(default_factory=list)
    values: list[ValueChange] = Field(default_factory=list)
    chain: list[ChainLink] = Field(default_factory=list)
    facts: dict[str, str] = Field(default_factory=dict)
    message: str = ""
    fixes: list[Fix] = Field(default_factory=list)
    location: Location | None = None
    allowed_by: str | None = None
    cause: str = Field("", description="the kind of the root cause, e.g. `image_drift`, `world_drift`, "
                                       "`code_change`, `volatile`, `not_proven`, `out_of_band_change` (a change made "
                                       "outside Terraform, TFG005) (see `replace-guard rules`)")
    group: str | None = Field(None, description="findings that share one root cause (the same data source "
                                                "instance and new value, the same function, the same drift) "
                                                "share this key")
    root: str | None = Field(None, description="the shared root cause in words, e.g. "
                                               "`data.aws_ami.al2 picked ami-0abc`")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fingerprint(self) -> str:
        """Stable across runs: rule, address and forcing paths, not values or lines."""
        key = "\x1f".join([self.rule, self.address, repr(self.replace_paths)])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]

    def sort_key(self) -> tuple[Any, ...]:
        return (-self.severity.rank, self.plan, self.address, self.rule)


def action_words(actions: list[str] | tuple[str, ...]) -> str:
    acts = [a.lower() for a in actions]
    if acts == ["delete", "create"]:
        return "destroy, then create a replacement"
    if acts == ["create", "delete"]:
        return "create a replacement, then destroy (create_before_destroy)"
    if acts == ["delete"]:
        return "destroy"
    if "forget" in acts:
        return ("forget (remove from state; the object is not destroyed)" if acts == ["forget"]
                else "create a new object and forget the old one")
    return ", ".join(acts) or "no-op"
