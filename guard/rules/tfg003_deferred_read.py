"""TFG003: replacement forced by a value that is unknown until apply because a data source is read
during apply (`depends_on` on something with pending changes, or arguments known only after apply)."""

from __future__ import annotations

from collections.abc import Iterable

from ..address import format_key
from ..analysis import Analysis
from ..config_graph import all_references, most_specific, strip_keys
from ..engine import Cause, CauseKind, Hop
from ..findings import Finding, Fix, Location, Severity, action_words
from ..fixes import Fixer
from ..hcl import scan_expression
from ..model import ResourceChange
from ..plan_index import is_replace
from ..values import path_text, top_attr
from .base import Claimed, Rule

_REASONS = {
    "read_because_dependency_pending": (
        "dependency pending",
        "it depends on something with changes pending in this plan, so Terraform waits until that change is "
        "applied before reading it"),
    "read_because_config_unknown": (
        "arguments unknown until apply",
        "some of its arguments are known only after apply, so Terraform cannot read it before"),
}


class DeferredRead(Rule):
    id = "TFG003"
    name = "deferred-data-read"
    severity = Severity.error
    summary = ("replacement forced by a value unknown until apply because a data source is read during apply "
               "(`depends_on`, or arguments known only after apply)")
    why = (
        "A data source is normally read at plan time. When it `depends_on` something that has changes in the plan "
        "(directly or through its module call's `depends_on`), or when its arguments use values known only after "
        "apply, Terraform reads it during apply instead. Everything it feeds is then `(known after apply)`, and an "
        "unknown value in an attribute that forces replacement means replacement, even if the value turns out the "
        "same. A harmless change elsewhere (a tag on the depended-on resource) ends up destroying an instance."
    )
    example = (
        'data "aws_ami" "app" {\n'
        '  owners     = ["self"]\n'
        '  filter {\n    name   = "name"\n    values = ["app-1.2.3"]\n  }\n'
        "  depends_on = [aws_security_group.app]   # any change to the group defers this read\n"
        "}\n\n"
        'resource "aws_instance" "app" {\n'
        "  ami           = data.aws_ami.app.id   # (known after apply) -> replacement\n"
        '  instance_type = "t3.micro"\n'
        "}"
    )
    fix = (
        "Remove the `depends_on` from the data source (or from the module call that contains it): a data source "
        "already waits for everything its arguments reference. If it must wait, make it depend only on things "
        "whose values are known at plan time, or keep the resource with `lifecycle { ignore_changes = [...] }`."
    )

    kinds = frozenset({CauseKind.deferred_read})

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        for rc, cause in claimed:
            yield self._finding(an, rc, cause)

    def _finding(self, an: Analysis, rc: ResourceChange, cause: Cause) -> Finding:
        root = cause.root
        assert root is not None and cause.data is not None and cause.data.read is not None
        read = cause.data.read
        path = cause.path
        attr = path_text(path) if path else "(trigger)"
        before, after = an.shown_pair(rc, path, cause) if path else ("", "")
        names = root.names
        cfg = an.graph.resource(names, root.target or "")
        reason = read.action_reason
        short, words = _REASONS.get(reason or "", ("read during apply", "Terraform reads it during apply"))
        deferred_by = self._deferred_by(an, read, cfg, names, reason)
        facts = {"data_source": read.full_address, "read_reason": f"{reason or 'not given by this Terraform version'}"
                 f" ({short})"}
        if deferred_by:
            facts["deferred_by"] = "; ".join(text for text, _ in deferred_by)
        if cause.through:
            facts["through"] = an.through_words(cause)
        because = ""
        if deferred_by:
            because = " Deferred by: " + "; ".join(text for text, _ in deferred_by) + "."
        message = (
            f"{rc.full_address} will be replaced ({action_words(rc.actions)}) because `{attr}` changes from {before} "
            f"to {after}: its value comes from {read.full_address}, which Terraform will read only during apply: "
            f"{words}.{because} An attribute that forces replacement and is unknown at plan time means "
            "replacement, even if the value read later turns out to be the same."
        )
        chain = an.chain(cause, {-1: f"read during apply: {short}"})
        return self.finding(
            an, rc, title=f"{rc.full_address} will be replaced because {read.full_address} is read only during apply",
            message=message, chain=chain, values=[self.value_change(path, before, after)] if path else [],
            paths=[path] if path else [], facts=facts, fixes=self._fixes(an, rc, path, root, deferred_by, reason),
            cause=cause, group=f"{self.id}|{read.full_address}", root=f"{read.full_address} is read only during apply")

    def _deferred_by(self, an: Analysis, read: ResourceChange, cfg, names: tuple[str, ...],
                     reason: str | None) -> list[tuple[str, Location | None]]:
        """What makes Terraform wait: the data source's own depends_on, its module calls' depends_on,
        and (for unknown arguments) the references its arguments make to things that change."""
        out: list[tuple[str, Location | None]] = []
        data_addr = an.index.address(read.full_address)
        own_prefix = _prefix(data_addr, len(names))
        data_where = an.graph.where(names, "data", data_addr.type, data_addr.name) if data_addr else None
        depends = [d for d in (cfg.depends_on or []) if isinstance(d, str)] if cfg is not None else []
        if depends:
            line = an.graph.sources.attr_line(data_where, ["depends_on"]) if data_where else None
            loc = an.graph.loc(data_where, line) if data_where else None
            out.append((f"depends_on = [{', '.join(depends)}] on {read.full_address}"
                        + _pending(an, own_prefix, depends), loc))
        for depth in range(1, len(names) + 1):
            call = an.graph.call(names[:depth])
            deps = [d for d in (call.depends_on or []) if isinstance(d, str)] if call is not None else []
            if not deps:
                continue
            parent = names[: depth - 1]
            where = an.graph.where(parent, "module", names[depth - 1])
            line = an.graph.sources.attr_line(where, ["depends_on"]) if where else None
            label = ".".join(f"module.{n}" for n in names[:depth])
            out.append((f"depends_on = [{', '.join(deps)}] on the call of {label}"
                        + _pending(an, _prefix(data_addr, len(parent)), deps),
                        an.graph.loc(where, line) if where else None))
        if reason == "read_because_config_unknown" or (not out and cfg is not None):
            refs: list[str] = []
            for value in (an.graph.exprs(cfg).values() if cfg is not None else []):
                refs.extend(all_references(value))
            changing = [(r, _changes(an, own_prefix, r)) for r in most_specific(refs)]
            changing = [(r, c) for r, c in changing if c]
            if changing:
                out.append(("its arguments reference " + ", ".join(f"{r} ({c})" for r, c in changing), None))
        return out

    def _fixes(self, an: Analysis, rc: ResourceChange, path, root: Hop, deferred_by, reason) -> list[Fix]:
        fixes = []
        for text, loc in deferred_by:
            if text.startswith("depends_on"):
                on = text.split(" on ", 1)[1].split(",", 1)[0] if " on " in text else root.ref
                fixes.append(Fix(
                    title=f"Remove depends_on from {on}",
                    detail="A data source already waits for what its arguments reference; an explicit depends_on "
                           "on something with pending changes moves the read to apply time"
                           + (f" ({loc.file}:{loc.line})" if loc else "") + ".",
                    location=loc))
        if reason == "read_because_config_unknown" or not fixes:
            fixes.append(Fix(
                title="Give the data source arguments known at plan time",
                detail=f"Let {root.ref} use values that exist before apply (constants, variables, attributes of "
                       "resources that are not being created or replaced), so Terraform can read it during plan."))
        top = top_attr(path)
        if top:
            ignored = Fixer(an).ignore(rc, [top], "this also hides real changes of the value, so prefer removing "
                                                  "the dependency.")
            if ignored.fix is not None:
                ignored.fix.title = "Keep the resource when the value is unknown"
                fixes.append(ignored.fix)
        return fixes


def _changing(rc: ResourceChange) -> bool:
    return any(a in ("create", "update", "delete", "read") for a in rc.actions)


def _prefix(addr, depth: int) -> str:
    """Module instance path of the first `depth` modules of an address (keys kept)."""
    if addr is None:
        return ""
    return ".".join(f"module.{m.name}" + (f"[{format_key(m.key)}]" if m.key is not None else "")
                    for m in addr.modules[:depth])


def _pending(an: Analysis, prefix: str, deps: list[str]) -> str:
    pending = [f"{d} ({c})" for d in deps if (c := _changes(an, prefix, d))]
    return f", which has changes pending: {', '.join(pending)}" if pending else ""


def _changes(an: Analysis, prefix: str, ref: str) -> str:
    """How the plan changes what `ref` names (relative to module instance `prefix`); '' when it does not."""
    if ref.startswith("module."):
        bits = strip_keys(ref).split(".")
        target = (prefix + "." if prefix else "") + f"module.{bits[1]}"
        inside = [rc for rc in an.index.active_with_prefix(target) if _changing(rc) and (
            rc.full_address.startswith(target + ".") or rc.full_address.startswith(target + "["))]
        return f"{len(inside)} change(s) inside" if inside else ""
    scan = scan_expression(ref).refs
    named = scan[0].target() if scan else None
    if named is None:
        return ""
    local, key = named
    base = f"{prefix}.{local}" if prefix else local
    if key is not None:
        base += f"[{format_key(key)}]"
    acts = {action_words(rc.actions) if is_replace(rc.actions) else ", ".join(rc.actions)
            for rc in an.index.active_with_prefix(base) if _changing(rc) and (
                rc.full_address == base or (key is None and rc.full_address.startswith(base + "[")))}
    return "; ".join(sorted(acts))
