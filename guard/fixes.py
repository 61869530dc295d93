"""Fixes computed from the cause engine's chains, valid HCL at the location they name.

- **pin**: write the value the resource runs today where the chain first leaves the data source
  (the hop nearest the root), provided that line is in a file the user owns, serves only the
  instances this plan replaces for this cause, and they all run the same value today. A module
  output never qualifies (its caller's argument does), nor does a value the plan holds only as a
  hash or marks sensitive.
- **ignore**: `lifecycle { ignore_changes = [attr] }` in the resource block, merged by
  `replace-guard fix` into an existing `lifecycle` block and list; only in files the user owns.

Both carry an `Edit` that `replace-guard fix` applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config_graph import module_label, strip_keys
from .engine import Cause, Hop
from .findings import Edit, Fix
from .hcl import scan_expression
from .model import ResourceChange
from .values import get_path, hcl_literal, is_hashed, path_text, top_attr

if TYPE_CHECKING:
    from .analysis import Analysis

PINNABLE = frozenset({"attribute", "module_input", "local", "for_each"})


@dataclass
class PinResult:
    fix: Fix | None
    reason: str = ""


class Fixer:
    def __init__(self, an: Analysis):
        self.an = an
        self._checked: dict[tuple, tuple[frozenset[str], set[str], str | None]] = {}
        self._served: dict[tuple | None, frozenset[str] | None] = {}
        self._instance_sets: dict[tuple, frozenset[str]] = {}
        self._by_key: dict[tuple, dict] = {}
        self._user_sets: dict[tuple, frozenset[str] | None] = {}
        self._references: dict[tuple, str | None] = {}

    # -- pin ------------------------------------------------------------------------------------
    def pin(self, rc: ResourceChange, cause: Cause, affected: set[str], what: str = "value",
            title: str | None = None) -> PinResult:
        an = self.an
        path = cause.path
        if not path:
            return PinResult(None, "the plan names no attribute to pin")
        if cause.through:
            return PinResult(None, f"the value reaches it through {cause.through[0]}: stop that change first")
        if an.index.marked(rc, "before_sensitive", path):
            return PinResult(None, "the plan marks the value sensitive: it is never written into the code")
        old = an.index.at(rc, "before", path)
        if old is None:
            return PinResult(None, "the plan does not show the value it runs today")
        if is_hashed(rc.type, path, old):
            return PinResult(None, f"the plan holds `{path_text(path)}` only as a hash of the text, not the text itself")
        literal = hcl_literal(old)
        if literal is None:
            return PinResult(None, "the value it runs today cannot be written as an HCL literal")
        root = cause.root
        if root is None or root.kind != "data_source" or not self._identity(rc, cause):
            return PinResult(None, "the value is computed from the data source, not passed through: the value to "
                                   "pin is not known")
        hops = cause.chain
        reasons: list[str] = []
        for i in range(len(hops) - 2, -1, -1):
            hop, nxt = hops[i], hops[i + 1]
            if hop.kind not in PINNABLE or hop.site is None:
                if hop.kind == "output":
                    reasons.append(f"{hop.ref} is a module output: the pin goes where the caller uses it")
                continue
            site_names = hop.site[1]
            if not self.an.graph.owned(site_names):
                reasons.append(f"{hop.ref} is in {module_label(site_names)}, a module from outside the repository")
                continue
            if site_names and self.an.graph.callers(site_names) > 1:
                reasons.append(f"{hop.ref} is in {module_label(site_names)}, a local module with several callers")
                continue
            refused = self._serves_only(hop, affected, path)
            if refused is not None:
                reasons.append(refused)
                continue
            ref_key = (hop.kind, hop.expression, nxt.kind, nxt.ref)
            if ref_key not in self._references:  # the same lines for every finding of a group
                self._references[ref_key] = self._reference(hop, nxt)
            found = self._references[ref_key]
            if found is None:
                reasons.append(f"the reference to {nxt.ref} was not found in `{hop.expression}`")
                continue
            loc = an.graph.loc(hop.where, hop.line)
            if loc is None:
                reasons.append("run with -C DIR (the root module's folder) to locate the line")
                break
            attribute = self._attribute(hop)
            new_expr = (hop.expression or "").replace(found, literal, 1) if hop.expression else literal
            return PinResult(Fix(
                title=title or f"Pin the {what} it runs today",
                detail=f"At {loc.file}:{loc.line}, put the {what} the resource runs today in place of `{found}`; "
                       "move to a newer one on purpose, in a reviewed change.",
                location=loc, snippet=_assignment(attribute, new_expr), strategy="pin",
                edit=Edit(file=loc.file, line=loc.line, action="replace_reference", attribute=attribute,
                          find=found, text=literal)))
        return PinResult(None, reasons[0] if reasons else "no line of the chain can hold the pin")

    def _serves_only(self, hop: Hop, affected: set[str], path: tuple) -> str | None:
        """Why the line at `hop` cannot hold a pin for `affected` (None when it can): it also serves
        other resources, or the ones it serves run different values today.

        Every finding of a group asks this about lines that serve the same instances, with the
        same `affected` set: the served sets are shared objects (see `served`), and the verdict
        is worked out once per served set, affected set and path (both sets are held, so their ids
        stay their own). That keeps 20,000 findings of one cause linear, not 20,000 x 20,000."""
        served = self._served_once(hop)
        verdict = "others" if served is None else self._verdict(served, affected, tuple(path))
        if verdict == "others":
            return f"`{hop.expression or hop.ref}` also serves resources this plan does not replace for this cause"
        if verdict == "values":
            return f"`{hop.expression or hop.ref}` serves instances that run different values today"
        return None

    def _verdict(self, served: frozenset[str], affected: set[str], path: tuple) -> str | None:
        key = (id(served), id(affected), path)
        found = self._checked.get(key)
        if found is None:
            verdict = None
            if not served <= affected:
                verdict = "others"
            else:
                at = self.an.index.at
                if len({repr(at(c, "before", path)) for c in self._changes(served)}) > 1:
                    verdict = "values"
            found = self._checked[key] = (served, affected, verdict)
        return found[2]

    def _served_once(self, hop: Hop) -> frozenset[str] | None:
        key = hop.site
        if key not in self._served:
            self._served[key] = self.served(hop)
        return self._served[key]

    def _identity(self, rc: ResourceChange, cause: Cause) -> bool:
        """Whether the data source's value reaches the attribute unchanged (so the value the
        resource runs today is what the data source gave last time)."""
        if cause.data is None or cause.matched_by_value:
            return cause.matched_by_value
        root = cause.root
        new, known = self.an.engine.new_value(rc, cause.path)
        value = get_path(cause.data.values, root.attr) if root is not None and root.attr else None
        return known and value is not None and value == new

    @staticmethod
    def _attribute(hop: Hop) -> str | None:
        site = hop.site or ()
        if site and site[0] == "resource":
            return top_attr(site[3])
        if site and site[0] == "call":
            return site[3]
        if site and site[0] == "local":
            return site[2]
        if site and site[0] == "for_each":
            return str(site[4])
        return None

    @staticmethod
    def _reference(hop: Hop, nxt: Hop) -> str | None:
        """The text of the reference in `hop`'s expression that leads to `nxt`."""
        text = hop.expression or ""
        if "=" in text and hop.kind in ("attribute", "module_input"):
            text = text.split("=", 1)[1]
        want = strip_keys(nxt.ref).split(".")
        if nxt.kind == "each_value":
            want = ["each", "value"]
        if nxt.kind in ("data_source",):
            want = want[:3]
        for ref in scan_expression(text).refs:
            if list(ref.steps[: len(want)]) == want:
                return ref.text
        return None

    def served(self, hop: Hop, depth: int = 0) -> frozenset[str] | None:
        """Resource instances whose values the expression at `hop` feeds; None when something
        else (an output, a module the plan does not show) uses it too.

        The sets are shared: the same object for every line that serves the same instances
        through one user (every local of a chain that ends in one resource), so callers can
        remember what they worked out about a set by its identity."""
        site = hop.site
        if site is None or depth > 12:
            return None
        kind = site[0]
        if kind == "resource":
            return self._instances(site[1], site[2])
        if kind == "for_each":
            names, block_kind, labels, key = site[1], site[2], site[3], site[4]
            if block_kind != "resource":
                return None
            local = ".".join(labels) if labels and labels[0] != "data" else ""
            return self._instances_by_key(names, local).get(key, frozenset())
        if kind == "local":
            return self._users(site[1], f"local.{site[2]}", depth)
        if kind == "call":
            parent, call, arg = site[1], site[2], site[3]
            return self._users(parent + (call,), f"var.{arg}", depth)
        return None

    def _instances(self, names: tuple[str, ...], local: str) -> frozenset[str]:
        key = (names, local)
        found = self._instance_sets.get(key)
        if found is None:
            found = self._instance_sets[key] = frozenset(c.full_address for c in self.an.index.instances(names, local))
        return found

    def _instances_by_key(self, names: tuple[str, ...], local: str) -> dict:
        """The instances of one resource by their for_each key (every key looked up once, not every
        instance tested once per key)."""
        key = (names, local)
        found = self._by_key.get(key)
        if found is None:
            groups: dict = {}
            for c in self.an.index.instances(names, local):
                addr = self.an.index.address(c.full_address)
                if addr is not None:
                    groups.setdefault(addr.key, set()).add(c.full_address)
            found = self._by_key[key] = {k: frozenset(v) for k, v in groups.items()}
        return found

    def _users(self, names: tuple[str, ...], ref: str, depth: int) -> frozenset[str] | None:
        key = (names, ref)
        if key in self._user_sets:
            return self._user_sets[key]
        if depth > 64:  # locals that refer to each other in a ring: nothing to pin
            return None
        found = self._user_sets[key] = self._find_users(names, ref, depth)
        return found

    def _find_users(self, names: tuple[str, ...], ref: str, depth: int) -> frozenset[str] | None:
        users = self.an.graph.users(names, ref)
        if not users:
            return None
        subs = []
        for user in users:
            head = user.split(".")[0]
            if head == "local":
                sub = self._users(names, user, depth + 1)
            elif head == "module":
                sub = None  # an argument of another module call: followed no further
            elif head == "output":
                sub = None
            else:
                sub = self._instances(names, user)
            if sub is None:
                return None
            subs.append(sub)
        return subs[0] if len(subs) == 1 else frozenset().union(*subs)

    def _changes(self, addresses: set[str]) -> list[ResourceChange]:
        return [self.an.index.changes[a] for a in sorted(addresses) if a in self.an.index.changes]

    # -- ignore_changes -------------------------------------------------------------------------
    def ignore(self, rc: ResourceChange, attrs: list[str], why: str) -> PinResult:
        an = self.an
        addr = an.address(rc)
        if addr is None:
            return PinResult(None, "not a resource address")
        names = addr.module_names
        if not an.graph.owned(names):
            call = an.graph.call(names)
            source = f" ({call.source})" if call is not None and call.source else ""
            return PinResult(None, f"{rc.full_address} is inside {module_label(names)}{source}, a module from outside "
                                   "the repository: `ignore_changes` cannot be set from outside a module")
        loc = an.block_location(addr)
        snippet = "lifecycle {\n  ignore_changes = [" + ", ".join(attrs) + "]\n}"
        shared = names and an.graph.callers(names) > 1
        detail = ("Add to the resource block" + (f" at {loc.file}:{loc.line}" if loc else f" of {addr.local}")
                  + f"; {why}" + (" The module has several callers: every one of them keeps its resources." if shared
                                  else ""))
        edit = Edit(file=loc.file, line=loc.line, action="ignore_changes", attribute=None, text=attrs[0]) \
            if loc is not None and len(attrs) == 1 else None
        return PinResult(Fix(title=f"Keep the running resource when `{', '.join(attrs)}` changes", detail=detail,
                             location=loc, snippet=snippet, strategy="ignore" if edit else None, edit=edit))


def _assignment(attribute: str | None, expression: str) -> str:
    expr = expression.strip()
    if attribute and not expr.startswith(attribute):
        return f"{attribute} = {expr}"
    return expr


def value_of(an: Analysis, rc: ResourceChange, path: tuple) -> Any:
    return an.index.at(rc, "before", path)
