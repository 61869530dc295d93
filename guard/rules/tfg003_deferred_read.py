"""TFG003: replacement forced by a value that is unknown until apply because a data source is read
during apply (`depends_on` on something with pending changes, or arguments known only after apply)."""

from __future__ import annotations


from ..advice import ignore_changes_snippet
from ..address import format_key
from ..context import Cause, Context, is_replace, path_text, resource_address, split_ref
from ..findings import ChainLink, Finding, Fix, Location, Severity, action_words
from ..graph import module_names, most_specific, strip_keys
from ..model import ResourceChange
from .base import ReplacementRule

_REASONS = {
    "read_because_dependency_pending": (
        "dependency pending",
        "it depends on something with changes pending in this plan, so Terraform waits until that change is "
        "applied before reading it"),
    "read_because_config_unknown": (
        "arguments unknown until apply",
        "some of its arguments are known only after apply, so Terraform cannot read it before"),
}


class DeferredRead(ReplacementRule):
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

    def _cause(self, ctx: Context, rc) -> tuple[list, Cause, ResourceChange] | None:
        for path in ctx.replace_paths(rc):
            for cause in ctx.cause_chains(rc, path):
                root = cause.root
                if root.kind != "data_source":
                    continue
                for candidate in ctx.data_instances(cause.owner, root.module, root.ref):
                    read = ctx.data_read_change(candidate)
                    if read is not None and "read" in read.actions:
                        return path, cause, read
        return None

    def _finding(self, ctx: Context, rc, path, cause: Cause, read: ResourceChange) -> Finding:
        root = cause.root
        attr = path_text(path)
        before, after = ctx.shown_pair(rc, path)
        names = module_names(root.module)
        cfg = ctx.graph.config_resource(names, root.ref)
        reason = read.action_reason
        short, words = _REASONS.get(reason or "", ("read during apply", "Terraform reads it during apply"))
        deferred_by = self._deferred_by(ctx, read, cfg, names, reason)
        facts = {"data_source": read.full_address, "read_reason": f"{reason or 'not given by this Terraform version'}"
                 f" ({short})"}
        if deferred_by:
            facts["deferred_by"] = "; ".join(text for text, _ in deferred_by)
        if cause.through:
            facts["through"] = ", ".join(f"{a} (replaced)" for a in cause.through)
        actions = list(rc.actions)
        because = ""
        if deferred_by:
            because = " Deferred by: " + "; ".join(text for text, _ in deferred_by) + "."
        message = (
            f"{rc.full_address} will be replaced ({action_words(actions)}) because `{attr}` changes from {before} "
            f"to {after}: its value comes from {root.label()}, which Terraform will read only during apply: "
            f"{words}.{because} An attribute that forces replacement and is unknown at plan time means "
            "replacement, even if the value read later turns out to be the same."
        )
        chain = list(cause.chain)
        chain[-1] = root.model_copy(update={"note": f"read during apply: {short}"})
        return self.finding(
            ctx, rc, title=f"{rc.full_address} will be replaced because {read.full_address} is read only during apply", message=message, chain=chain,
            values=[self.value_change(path, before, after)], paths=[path], facts=facts,
            fixes=self._fixes(ctx, rc, path, root, deferred_by, reason))

    def _deferred_by(self, ctx: Context, read: ResourceChange, cfg, names: tuple[str, ...],
                     reason: str | None) -> list[tuple[str, Location | None]]:
        """What makes Terraform wait: the data source's own depends_on, its module calls' depends_on,
        and (for unknown arguments) the references its arguments make to things that change."""
        out: list[tuple[str, Location | None]] = []
        data_addr = resource_address(read)
        own_prefix = _prefix(data_addr, len(names))
        data_where = ctx.graph.resource_where(data_addr) if data_addr else None
        if cfg is not None and cfg.depends_on:
            line = ctx.graph.sources.attr_line(data_where, ["depends_on"]) if data_where else None
            loc = ctx.graph.loc(data_where, line) if data_where else None
            out.append((f"depends_on = [{', '.join(cfg.depends_on)}] on {read.full_address}"
                        + _pending(ctx, own_prefix, cfg.depends_on), loc))
        for call, deps in ctx.graph.call_depends_on(names):
            call_names = module_names(call)
            parent = call_names[:-1]
            where = ctx.graph.block_where(parent, "module", call_names[-1])
            line = ctx.graph.sources.attr_line(where, ["depends_on"]) if where else None
            out.append((f"depends_on = [{', '.join(deps)}] on the call of {call}"
                        + _pending(ctx, _prefix(data_addr, len(parent)), deps),
                        ctx.graph.loc(where, line) if where else None))
        if reason == "read_because_config_unknown" or (not out and cfg is not None):
            refs = []
            for value in (cfg.exprs.values() if cfg is not None else []):
                refs.extend(_refs(value))
            changing = [(r, _changes(ctx, own_prefix, r)) for r in most_specific(refs)]
            changing = [(r, c) for r, c in changing if c]
            if changing:
                out.append(("its arguments reference " + ", ".join(f"{r} ({c})" for r, c in changing), None))
        return out

    def _fixes(self, ctx: Context, rc, path, root: ChainLink, deferred_by, reason) -> list[Fix]:
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
        addr = resource_address(rc)
        res_loc = ctx.graph.block_location(addr)
        top = next((p for p in path if isinstance(p, str)), path_text(path))
        fixes.append(Fix(
            title="Keep the resource when the value is unknown",
            detail="Add to the resource" + (f" at {res_loc.file}:{res_loc.line}" if res_loc else "")
                   + "; this also hides real changes of the value, so prefer removing the dependency.",
            location=res_loc, snippet=ignore_changes_snippet([top])))
        return fixes


def _changing(rc: ResourceChange) -> bool:
    return any(a in ("create", "update", "delete", "read") for a in rc.actions)


def _refs(expr) -> list[str]:
    """Every reference inside a configuration expression tree (nested blocks included)."""
    out: list[str] = []
    if isinstance(expr, dict):
        refs = expr.get("references")
        if isinstance(refs, list):
            out.extend(r for r in refs if isinstance(r, str))
        for key, value in expr.items():
            if key != "references":
                out.extend(_refs(value))
    elif isinstance(expr, list):
        for value in expr:
            out.extend(_refs(value))
    return out


def _prefix(addr, depth: int) -> str:
    """Module instance path of the first `depth` modules of an address (keys kept)."""
    if addr is None:
        return ""
    return ".".join(f"module.{m.name}" + (f"[{format_key(m.key)}]" if m.key is not None else "")
                    for m in addr.modules[:depth])


def _pending(ctx: Context, prefix: str, deps: list[str]) -> str:
    pending = [f"{d} ({c})" for d in deps if (c := _changes(ctx, prefix, d))]
    return f", which has changes pending: {', '.join(pending)}" if pending else ""


def _changes(ctx: Context, prefix: str, ref: str) -> str:
    """How the plan changes what `ref` names (relative to module instance `prefix`); '' when it does not."""
    ref = strip_keys(ref) if ref.startswith("module.") else ref
    if ref.startswith("module."):
        bits = ref.split(".")
        target = (prefix + "." if prefix else "") + f"module.{bits[1]}"
        inside = [rc for rc in ctx.active_with_prefix(target) if _changing(rc) and (
            rc.full_address.startswith(target + ".") or rc.full_address.startswith(target + "["))]
        return f"{len(inside)} change(s) inside" if inside else ""
    parts = split_ref(ref)
    if parts is None:
        return ""
    mode, rtype, name, key, _ = parts
    local = f"{rtype}.{name}" if mode == "managed" else f"data.{rtype}.{name}"
    base = f"{prefix}.{local}" if prefix else local
    if key is not None:
        base += f"[{format_key(key)}]"
    acts = {action_words(rc.actions) if is_replace(rc.actions) else ", ".join(rc.actions)
            for rc in ctx.active_with_prefix(base) if _changing(rc) and (
                rc.full_address == base or (key is None and rc.full_address.startswith(base + "[")))}
    return "; ".join(sorted(acts))
