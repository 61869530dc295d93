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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .address import format_key
from .config_graph import module_label, strip_keys
from .engine import Cause, Hop
from .findings import Edit, Fix, Location
from .hcl import scan_expression
from .model import ResourceChange
from .values import get_path, hcl_literal, is_hashed, path_text, top_attr

if TYPE_CHECKING:
    from .analysis import Analysis

# How a fix says that no pin could be written (`replace-guard fix` repeats that reason).
NO_PIN = "No pin can be written automatically"
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
        self._affected: dict[tuple, set[str]] = {}
        self._keyed_memo: dict[tuple, PinResult | None] = {}

    # -- pin ------------------------------------------------------------------------------------
    def pin(self, rc: ResourceChange, cause: Cause, what: str = "value", title: str | None = None,
            also: Iterable[str] = ()) -> PinResult:
        """The pin for a drift finding: at the hop nearest the data source that can hold it; for a
        change that comes through another resource (a trigger, an upstream replacement), the pin of
        that resource's own change. `also`: updates the rule knows change for the same cause, which
        the pinned line may serve besides the replacements (`drift_changed`)."""
        if cause.through:
            inner = cause
            while inner.inner is not None:
                inner = inner.inner
            up = inner.change
            found = self._pin(up, inner, self._affected_set((up.full_address, *also)), what,
                              title or f"Pin the {what} that reaches it through {cause.through[0]}")
            if found.fix is not None:
                found.fix.detail = (f"{rc.full_address} changes only because {cause.through[0]} does. "
                                    + found.fix.detail)
            return found
        return self._pin(rc, cause, self._affected_set(tuple(also)), what, title)

    def _affected_set(self, extra: tuple[str, ...]) -> set[str]:
        """What a pin may serve: the replacements this plan makes for causes outside the code, and
        `extra`. One object per distinct `extra`, so verdicts about it are remembered (`_verdict`)."""
        key = tuple(sorted(set(extra)))
        found = self._affected.get(key)
        if found is None:
            found = self._affected[key] = self.an.drift_changed | set(key) if key else self.an.drift_changed
        return found

    def _pin(self, rc: ResourceChange, cause: Cause, affected: set[str], what: str, title: str | None) -> PinResult:
        an = self.an
        path = cause.path
        if not path:
            return PinResult(None, "the plan names no attribute to pin")
        if an.index.marked(rc, "before_sensitive", path):
            return PinResult(None, "the plan marks the value sensitive: it is never written into the code")
        old = an.index.at(rc, "before", path)
        if old is None:
            return PinResult(None, "the plan does not show the value it runs today")
        if is_hashed(rc.type, path, old):
            return PinResult(None, f"the plan holds `{path_text(path)}` only as a hash of the text, "
                                   "not the text itself")
        literal = hcl_literal(old)
        if literal is None:
            return PinResult(None, "the value it runs today cannot be written as an HCL literal")
        root = cause.root
        if root is None or root.kind != "data_source" or not self._identity(rc, cause):
            return PinResult(None, "the value is computed from the data source, not passed through: the value to "
                                   "pin is not known")
        hops = cause.chain
        reasons: list[str] = []
        keyed: PinResult | None = None
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
            served = self._served_once(hop)
            verdict = "others" if served is None else self._verdict(served, affected, tuple(path))
            if verdict == "others":
                reasons.append(f"`{hop.expression or hop.ref}` also serves resources this plan does not replace "
                               "for this cause")
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
            if verdict == "values":
                reasons.append(f"`{hop.expression or hop.ref}` serves instances that run different values today")
                if keyed is None and served is not None:
                    memo = (id(served), hop.site, tuple(path), found)
                    if memo not in self._keyed_memo:
                        self._keyed_memo[memo] = self._keyed(hop, found, served, path, loc, attribute, what)
                    keyed = self._keyed_memo[memo]
                continue
            new_expr = (hop.expression or "").replace(found, literal, 1) if hop.expression else literal
            return PinResult(Fix(
                title=title or f"Pin the {what} it runs today",
                detail=f"At {loc.file}:{loc.line}, put the {what} the resource runs today in place of `{found}`; "
                       "move to a newer one on purpose, in a reviewed change.",
                location=loc, snippet=_assignment(attribute, new_expr), strategy="pin",
                edits=[Edit(file=loc.file, line=loc.line, action="replace_reference", attribute=attribute,
                          find=found, text=literal)]))
        reason = reasons[0] if reasons else "no line of the chain can hold the pin"
        if keyed is not None and keyed.fix is not None:
            keyed.reason = reason
            return keyed
        return PinResult(None, reason)

    def _keyed(self, hop: Hop, found: str, served: frozenset[str], path: tuple, loc: Location, attribute: str | None,
               what: str) -> PinResult | None:
        """For a line shared by for_each/count instances that run different values today: a pin per
        key, `lookup({key = value, ...}, each.key, <the reference>)`, so keys added later still follow
        the data source. Only for one resource's instances in one module instance."""
        if hop.site is None or hop.site[0] != "resource":
            return None
        pairs: dict[str, str] = {}
        modules: set[str] = set()
        counted = False
        for rc in self._changes(served):
            addr = self.an.index.address(rc.full_address)
            if addr is None or addr.key is None:
                return None
            modules.add(addr.module_address)
            counted = isinstance(addr.key, int)
            if self.an.index.marked(rc, "before_sensitive", path):
                return None
            old = self.an.index.at(rc, "before", path)
            literal = hcl_literal(old)
            if old is None or literal is None or is_hashed(rc.type, path, old):
                return None
            pairs[str(addr.key)] = literal
        if len(modules) != 1 or not pairs:
            return None
        key_expr = "tostring(count.index)" if counted else "each.key"
        table = "{ " + ", ".join(f"{hcl_literal(k)} = {v}" for k, v in sorted(pairs.items())) + " }"
        text = f"lookup({table}, {key_expr}, {found})"
        new_expr = (hop.expression or "").replace(found, text, 1)
        return PinResult(Fix(
            title=f"Pin the {what} each instance runs today",
            detail=f"At {loc.file}:{loc.line}, look the {what} up by instance key: each instance keeps the {what} it "
                   "runs today, and keys added later still follow the data source (`replace-guard fix --strategy "
                   "pin` writes this).",
            location=loc, snippet=_assignment(attribute, new_expr), strategy="pin-keys",
            edits=[Edit(file=loc.file, line=loc.line, action="replace_reference", attribute=attribute, find=found,
                      text=text)]))

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

    def _changes(self, addresses: Iterable[str]) -> list[ResourceChange]:
        return [self.an.index.changes[a] for a in sorted(addresses) if a in self.an.index.changes]

    # -- fixes on the call of a module the user does not own ----------------------------------
    def call_site(self, rc: ResourceChange, cause: Cause, attr: str) -> list[Fix]:
        """For a resource inside a module from outside the repository (registry, git, archive):
        what the caller can do in its own files. The pin on the call's argument comes from `pin()`
        (it is the hop nearest the root the user owns); here: an input the call does not set yet
        that reaches the attribute, and the module's own switch to a variant of the resource that
        ignores the attribute, with the `moved` block that keeps the running object."""
        an = self.an
        addr = an.address(rc)
        if addr is None:
            return []
        names = addr.module_names
        depth = next((k for k in range(1, len(names) + 1) if not an.graph.owned(names[:k])), None)
        if depth is None:
            return []
        call_names, parent, call = names[:depth], names[: depth - 1], names[depth - 1]
        where = an.graph.where(parent, "module", call)
        call_loc = an.graph.loc(where)
        if call_loc is None or len(names) != depth:
            return []
        out = []
        found = self._input_pin(rc, cause, attr, call_names, call, call_loc)
        if found is not None:
            out.append(found)
        switch = self._switch(rc, addr, attr, call_names, call, call_loc, where)
        if switch is not None:
            out.append(switch)
        return out

    def _input_pin(self, rc: ResourceChange, cause: Cause, attr: str, call_names: tuple[str, ...], call: str,
                   call_loc: Location) -> Fix | None:
        """`ami = "<the image it runs today>"` on the call, when the module has an input the call does
        not set and the attribute takes it as given (directly, or as the first choice of `coalesce`/`try`)."""
        an = self.an
        path = cause.path
        if not path or cause.through or an.index.marked(rc, "before_sensitive", path):
            return None
        old = an.index.at(rc, "before", path)
        literal = hcl_literal(old) if old is not None and not is_hashed(rc.type, path, old) else None
        if literal is None:
            return None
        for chain in an.engine.chains(rc, tuple(path)):
            root = chain.root
            if chain.dead or root.names != call_names or not root.ref.startswith("var.") or \
                    "not set by the call" not in (root.note or ""):
                continue
            name = root.ref[4:]
            if not all(_passes(h.expression or "", root.ref) for h in chain.hops[1:-1]):
                continue
            return Fix(
                title=f"Pin the {attr} on the call of module.{call}",
                detail=f"module.{call} takes `{name}` and uses it for `{attr}` when it is set; the call at "
                       f"{call_loc.file}:{call_loc.line} does not set it. Setting it to the value the resource runs "
                       "today keeps the running object; change it later on purpose, in a reviewed change.",
                location=call_loc, snippet=f"{name} = {literal}", strategy="call-site",
                edits=[Edit(file=call_loc.file, line=call_loc.line, action="set_argument", attribute=name,
                            text=literal)])
        return None

    def _switch(self, rc: ResourceChange, addr, attr: str, call_names: tuple[str, ...], call: str,
                call_loc: Location, where) -> Fix | None:
        """The module's own switch to a variant of the resource whose lifecycle ignores `attr`."""
        an = self.an
        mod = an.graph.module(call_names)
        if mod is None:
            return None
        variables = mod.variables if isinstance(mod.variables, dict) else {}
        call_cfg = an.graph.call(call_names)
        set_args = an.graph.exprs(call_cfg) if call_cfg is not None else {}
        found = []
        for res in mod.resources:
            if res.mode != "managed" or res.type != addr.type or res.name == addr.name:
                continue
            block = an.graph.block(call_names, "resource", res.type, res.name)
            if block is None or not _ignores(block[1], attr):
                continue
            from .model import raw_value

            refs = ([r for r in (raw_value(res.count_expression) or {}).get("references", []) or []
                     if isinstance(r, str) and r.startswith("var.")]
                    if isinstance(raw_value(res.count_expression), dict) else [])
            for ref in dict.fromkeys(refs):
                name = ref.split(".")[1]
                decl = variables.get(name)
                if decl is None or name in set_args:
                    continue
                default = raw_value(decl.default)
                words = f"{name} {decl.description or ''}".lower()
                if default in (False, None) and "ignore" in words:
                    found.append((res.name, name))
        if len(found) != 1:
            return None
        variant, switch = found[0]
        prefix = ".".join(f"module.{m.name}" + (f"[{format_key(m.key)}]" if m.key is not None else "")
                          for m in addr.modules)
        key = f"[{format_key(addr.key)}]" if addr.key is not None else ""
        moved = f"moved {{\n  from = {prefix}.{addr.local}{key}\n  to   = {prefix}.{addr.type}.{variant}{key}\n}}"
        return Fix(
            title=f"Use module.{call}'s own switch `{switch} = true`, and move the instance",
            detail=f"The module has a variant of {addr.type} that ignores `{attr}` ({addr.type}.{variant}), chosen by "
                   f"`{switch}`. Set it on the call at {call_loc.file}:{call_loc.line} and add the moved block beside "
                   "the call, so that Terraform moves the running object to the variant instead of destroying it.",
            location=call_loc, snippet=f"{switch} = true\n\n{moved}", strategy="call-site",
            edits=[Edit(file=call_loc.file, line=call_loc.line, action="set_argument", attribute=switch, text="true"),
                   Edit(file=call_loc.file, line=0, action="append_block", text=moved)])

    def keep(self, rc: ResourceChange, cause: Cause, attr: str, why: str, title: str) -> list[Fix]:
        """`ignore_changes` in the resource block; for a resource in a module the user does not own,
        the call-site fixes instead, and `title` saying why the block itself cannot be changed."""
        ignored = self.ignore(rc, [attr], why)
        if ignored.fix is not None:
            return [ignored.fix]
        calls = self.call_site(rc, cause, attr)
        return [*calls, Fix(title=title, detail=ignored.reason + (". Use the call-site fixes above." if calls else
                                                                   ", and the module offers no switch for it."))]

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
                             location=loc, snippet=snippet, strategy="ignore" if edit else None,
                             edits=[edit] if edit else []))


def _passes(expression: str, ref: str) -> bool:
    """Whether an expression hands `ref` on as it is: the reference alone, or the first choice of
    `coalesce(...)` / `try(...)` (the style of modules whose inputs override a lookup)."""
    text = expression.split("=", 1)[1].strip() if re.match(r"^[\w-]+\s*=", expression) else expression.strip()
    if text == ref:
        return True
    return bool(re.match(r"^(?:try\(\s*)?coalesce\(\s*" + re.escape(ref) + r"\s*,", text) or
                re.match(r"^try\(\s*" + re.escape(ref) + r"\s*,", text))


def _ignores(block: dict, attr: str) -> bool:
    """Whether a parsed resource block's lifecycle ignores changes of `attr` (or all)."""
    for lifecycle in block.get("lifecycle") or []:
        if not isinstance(lifecycle, dict):
            continue
        items = lifecycle.get("ignore_changes")
        if isinstance(items, str):
            items = [items]
        for item in items or []:
            text = item[2:-1] if isinstance(item, str) and item.startswith("${") else item
            if text in (attr, "all"):
                return True
    return False


def _assignment(attribute: str | None, expression: str) -> str:
    expr = expression.strip()
    if attribute and not expr.startswith(attribute):
        return f"{attribute} = {expr}"
    return expr


