"""TFG011: deletion of a stateful resource, with Terraform's reason in words; `forget` is reported
as what it is (the object stays, Terraform lets go of it)."""

from __future__ import annotations

from collections.abc import Iterable

from ..address import Address, format_key, parse_address
from ..analysis import Analysis
from ..findings import Finding, Fix, Severity, action_words
from ..model import ResourceChange
from ..reasons import ACTION_REASONS
from .base import Claimed, Rule

_FORGETS = (("forget",), ("create", "forget"), ("forget", "create"))


class StatefulDeletion(Rule):
    id = "TFG011"
    name = "stateful-deletion"
    severity = Severity.warning
    summary = ("deletion of a stateful resource, with its `action_reason` in words (removed from the code, count "
               "index, for_each key, module gone, ...); a `forget` is reported as a notice")
    why = (
        "Destroying a resource that holds data destroys the data. Terraform says why it deletes an object "
        "(`action_reason`), and most unintended deletions come from renames and refactors: a resource moved into a "
        "module or renamed without a `moved` block, an item taken out of the middle of a `count` list (every later "
        "index shifts), a `for_each` key renamed. The finding spells the reason out and proposes the `moved` block "
        "when the plan creates a resource of the same type with the same settings.\n"
        "`forget` (Terraform 1.7+ `removed` blocks with `lifecycle { destroy = false }`, OpenTofu's "
        "`lifecycle { destroy = false }`) destroys nothing: the object stays in the cloud and leaves Terraform's "
        "management. It is reported at notice level so that it is seen, with the same rule id; a severity set "
        "for TFG011 in the config applies to both.\n"
        "Severity warning: it does not fail CI under the default `--fail-on error`; use `--fail-on warning` to "
        "make it fail."
    )
    example = (
        "# before\n"
        'resource "aws_ebs_volume" "data" { ... }\n\n'
        "# after: renamed without a moved block\n"
        'resource "aws_ebs_volume" "app_data" { ... }   # plan: destroy data, create app_data'
    )
    fix = (
        "For a rename or a move, add a `moved { from = OLD  to = NEW }` block: Terraform then moves the object "
        "instead of destroying it. To stop managing an object without destroying it, use a `removed` block with "
        "`lifecycle { destroy = false }` (Terraform 1.7+). Prefer `for_each` with stable keys over `count` for "
        "lists that change. If the deletion is intended, back the data up and allow the finding."
    )

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        destroy_plan = None
        self._creates: dict[str, list[ResourceChange]] | None = None
        for rc in an.index.managed():
            acts = rc.actions
            if not an.is_stateful(rc.type):
                continue
            if acts == ("delete",):
                if destroy_plan is None:
                    destroy_plan = _is_destroy_plan(an)
                yield self._deletion(an, rc, destroy_plan)
            elif acts in _FORGETS:
                yield self._forget(an, rc)

    def _module_instance_gone(self, an: Analysis, addr: Address) -> tuple[str, str] | None:
        """For `delete_because_no_module`: when the module call still exists and only this instance of
        it went away, (the module instance address, what happened in words)."""
        for depth in range(len(addr.modules), 0, -1):
            step = addr.modules[depth - 1]
            names = addr.module_names[:depth]
            call = an.graph.call(names)
            if call is None or step.key is None:
                continue
            instance = ".".join(f"module.{m.name}" + (f"[{format_key(m.key)}]" if m.key is not None else "")
                                for m in addr.modules[:depth])
            if isinstance(step.key, str):  # for_each keys are strings, count indexes numbers
                return instance, f"the key {format_key(step.key)} is no longer in the for_each of module.{step.name}"
            return instance, f"module.{step.name} has a smaller count now, so index {step.key} is gone"
        return None

    def _deletion(self, an: Analysis, rc: ResourceChange, destroy_plan: bool) -> Finding:
        address = rc.full_address
        reason = rc.action_reason
        words = ACTION_REASONS.get(reason or "")
        addr = an.address(rc)
        gone_instance = None
        if reason == "delete_because_no_module" and addr is not None:
            gone_instance = self._module_instance_gone(an, addr)
            if gone_instance is not None:
                words = f"its module instance {gone_instance[0]} is gone: {gone_instance[1]}"
        if words is None:
            words = ("this is a destroy plan (`terraform plan -destroy`)" if destroy_plan else
                     "the plan gives no reason (Terraform older than 1.1, or a reason this tool does not know"
                     + (f": {reason}" if reason else "") + ")")
        facts = {"stateful_type": rc.type, "reason": f"{reason or 'none'}: {words}"}
        before_id, _ = an.value_pair(rc, ["id"])
        if before_id not in ("(none)", "(sensitive)"):
            facts["id"] = before_id
        target = self._move_target(an, rc)
        if target:
            facts["possible_new_address"] = target
        message = (f"{address} ({rc.type}, which holds data) will be destroyed because {words}. Whatever it holds "
                   "is lost unless it is backed up.")
        if target:
            message += (f" The plan also creates {target}, of the same type: if that is the same thing under a new "
                        "address, a `moved` block keeps the object.")
        short = _short(reason, destroy_plan)
        if gone_instance is not None:
            short = "module instance gone (count or for_each of the module call)"
        return self.finding(an, rc, title=f"{address} will be destroyed: {short}",
                            message=message, facts=facts,
                            fixes=self._fixes(an, rc, reason, target, gone_instance[0] if gone_instance else None),
                            location=an.block_location(rc))

    def _fixes(self, an: Analysis, rc: ResourceChange, reason: str | None, target: str | None,
               gone_instance: str | None = None) -> list[Fix]:
        address = rc.full_address
        fixes = []
        if target:
            fixes.append(Fix(
                title="If it was renamed or moved, add a moved block",
                detail=f"Terraform then moves the object from {address} to {target} instead of destroying it.",
                snippet=f"moved {{\n  from = {_hcl_address(address)}\n  to   = {_hcl_address(target)}\n}}"))
        if reason == "delete_because_count_index":
            fixes.append(Fix(
                title="Use for_each with stable keys instead of count",
                detail="With count, removing an item from the middle of a list shifts every later index, so the "
                       "wrong objects are destroyed and created again."))
        elif reason == "delete_because_each_key" and not target:
            fixes.append(Fix(title="If the key was renamed, move the object to the new key",
                             detail="Add a moved block from the old key to the new one."))
        elif reason == "delete_because_no_module" and gone_instance is not None:
            fixes.append(Fix(
                title="To keep the object, remove it from the state before applying",
                detail=f"The module call still exists, so a `removed` block cannot name {gone_instance} (Terraform "
                       "refuses it); `terraform state rm` lets Terraform forget the object without destroying it. "
                       "Or restore the count / for_each key if it went away by mistake.",
                snippet=f"terraform state rm '{_hcl_address(address)}'"))
        elif reason == "delete_because_no_module":
            fixes.append(Fix(title="If the module call was renamed, move the module",
                             detail="A `moved { from = module.OLD  to = module.NEW }` block moves everything in it."))
        elif reason == "delete_because_no_move_target":
            fixes.append(Fix(title="Fix the moved block",
                             detail="A moved block moves this object to an address that is not in the code: correct "
                                    "its `to`."))
        elif reason == "delete_because_wrong_repetition" and not target:
            fixes.append(Fix(title="Move the object to its new instance key",
                             detail="count/for_each was added or removed: a moved block from the old address to the "
                                    "keyed one (e.g. `x` -> `x[0]`) keeps the object."))
        if reason in (None, "delete_because_no_resource_config") or (
                reason == "delete_because_no_module" and gone_instance is None):
            fixes.append(Fix(
                title="To stop managing it without destroying it, use a removed block (Terraform 1.7+)",
                detail="The object stays in the cloud; Terraform forgets it.",
                snippet=f"removed {{\n  from = {_hcl_address(address, keys=False)}\n  lifecycle {{\n"
                        "    destroy = false\n  }\n}"))
        fixes.append(Fix(
            title="If the deletion is intended, save the data first",
            detail="Take a snapshot or backup, apply, then allow this finding with a reason in .replace-guard.toml."))
        return fixes

    def _move_target(self, an: Analysis, rc: ResourceChange) -> str | None:
        """A resource of the same type that the plan creates with the same settings: the likely new
        address after a rename or a move into a module."""
        if self._creates is None:
            self._creates = {}
            for other in an.index.active:
                if other.mode == "managed" and other.actions == ("create",) and an.is_stateful(other.type):
                    self._creates.setdefault(other.type, []).append(other)
        gone = an.address(rc)
        if gone is None:
            return None
        best = None
        candidates = self._creates.get(rc.type, ())
        if len(candidates) > 200:  # a bulk create: compare with those in the same module only
            candidates = [c for c in candidates if (a := an.address(c)) is not None
                          and a.module_names == gone.module_names][:200]
        for other in candidates:
            new = an.address(other)
            if new is None or other.full_address == rc.full_address:
                continue
            similarity = _similarity(an, rc, other, new)
            # In the same module instance, one object deleted and one of its type created is most likely
            # the same thing under a new address (a count-selected variant, a renamed key), even when
            # some settings differ (the variant ignores the image the old one would have been given).
            same_module = new.module_address == gone.module_address
            if similarity < (0.5 if same_module else 0.8):
                continue
            score = (similarity, new.name == gone.name, new.module_names == gone.module_names)
            if best is None or score > best[0]:
                best = (score, other.full_address)
        return best[1] if best else None

    def _forget(self, an: Analysis, rc: ResourceChange) -> Finding:
        address = rc.full_address
        acts = rc.actions
        reason = rc.action_reason
        words = ACTION_REASONS.get(reason or "")
        if acts == ("forget",):
            what = ("will be forgotten: Terraform removes it from the state and destroys nothing. The object stays "
                    "in the cloud, no longer managed by this code (nobody will update, protect or delete it)")
            title = f"{address} leaves Terraform's management (forget); the object stays"
        else:
            what = (f"will be replaced without destroying the old object ({action_words(list(acts))}): a new one is "
                    "created and the old one is forgotten. The old object keeps running, outside Terraform, and "
                    "keeps costing until someone removes it")
            title = f"{address}: a new object is created and the old one is forgotten, not destroyed"
        message = f"{address} ({rc.type}) {what}." + (f" Reason: {words}." if words else "")
        facts = {"stateful_type": rc.type}
        if reason:
            facts["reason"] = f"{reason}: {words}" if words else reason
        return self.finding(an, rc, title=title, message=message, facts=facts, severity=Severity.notice,
                            fixes=[Fix(title="Make sure someone owns the object now",
                                       detail="Import it into the code that should manage it, or delete it by hand "
                                              "when it is no longer needed.")],
                            location=an.block_location(rc))


def _similarity(an: Analysis, gone: ResourceChange, new: ResourceChange, new_addr) -> float:
    """Share of the arguments the new resource's code sets whose planned value equals the old object's."""
    before = an.index.part(gone, "before")
    after = an.index.part(new, "after")
    unknown = an.index.part(new, "after_unknown")
    cfg = an.graph.resource(new_addr.module_names, new_addr.local)
    if not isinstance(before, dict) or not isinstance(after, dict) or cfg is None:
        return 0.0
    keys = [k for k in an.graph.exprs(cfg) if k in after and not (isinstance(unknown, dict) and unknown.get(k))]
    if not keys:
        return 0.0
    return sum(1 for k in keys if before.get(k) == after[k]) / len(keys)


def _is_destroy_plan(an: Analysis) -> bool:
    changes = [rc for rc in an.index.active if rc.mode == "managed"]
    return bool(changes) and all(rc.actions == ("delete",) and not rc.action_reason for rc in changes)


def _short(reason: str | None, destroy_plan: bool) -> str:
    return {
        "delete_because_no_resource_config": "removed from the code",
        "delete_because_wrong_repetition": "count/for_each added or removed",
        "delete_because_count_index": "count reduced",
        "delete_because_each_key": "for_each key removed",
        "delete_because_no_module": "module removed",
        "delete_because_no_move_target": "moved to an address not in the code",
        "delete_because_enabled_false": "enabled = false",
    }.get(reason or "", "destroy plan" if destroy_plan else "no reason given")


def _hcl_address(address: str, keys: bool = True) -> str:
    """An address as written in a moved/removed block (removed takes no instance keys)."""
    addr = parse_address(address)
    if addr is None:
        return address
    parts = []
    for m in addr.modules:
        parts.append(f"module.{m.name}" + (f"[{format_key(m.key)}]" if keys and m.key is not None else ""))
    parts.append(addr.local + (f"[{format_key(addr.key)}]" if keys and addr.key is not None else ""))
    return ".".join(parts)

