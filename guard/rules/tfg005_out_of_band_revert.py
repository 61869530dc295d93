"""TFG005: a change made outside Terraform (`resource_drift`) that the plan sets back: an emergency
rule added in the console, a tag the billing system needs, silently undone by the next apply."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..analysis import Analysis
from ..diff import differs, empty, leaf_changes
from ..engine import Cause
from ..findings import ChainLink, Finding, Fix, Severity, ValueChange
from ..fixes import Fixer
from ..model import ResourceChange
from ..values import SENSITIVE, hcl_literal, is_marked, show_value
from .base import Claimed, Rule

# Types where undoing a change made by hand can reopen a hole or lock people out: error.
SECURITY_TYPES: frozenset[str] = frozenset({
    "aws_security_group", "aws_default_security_group", "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
    "aws_network_acl", "aws_default_network_acl", "aws_network_acl_rule",
    "aws_iam_policy", "aws_iam_role", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy",
    "aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment",
    "aws_iam_policy_attachment", "aws_iam_role_policies_exclusive", "aws_iam_role_policy_attachments_exclusive",
    "aws_wafv2_web_acl", "aws_wafv2_ip_set", "aws_wafv2_rule_group", "aws_wafv2_regex_pattern_set",
    "aws_waf_web_acl", "aws_waf_ipset", "aws_waf_rule", "aws_wafregional_web_acl", "aws_wafregional_ipset",
    "aws_wafregional_rule",
    "aws_lb_listener_rule", "aws_alb_listener_rule", "aws_lb_listener", "aws_alb_listener",
    "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block", "aws_kms_key_policy",
    "google_compute_firewall", "google_compute_security_policy", "azurerm_network_security_group",
    "azurerm_network_security_rule",
})
# Attributes that only mirror others (`tags_all` = provider default tags + `tags`) or identify the object.
SKIP = frozenset({"tags_all", "id", "arn", "timeouts"})
MAX_SHOWN = 5  # added or removed elements listed per attribute


class OutOfBandRevert(Rule):
    id = "TFG005"
    name = "out-of-band-revert"
    severity = Severity.error
    severity_text = "error/warning"
    summary = ("a change made outside Terraform (`resource_drift`) that the plan sets back: what "
               "was changed (before -> after) and that apply undoes it; an error for security-relevant types "
               "(security groups and their rules, network ACLs, IAM policies and attachments, WAF, load balancer "
               "listener rules), a warning otherwise")
    why = (
        "During an incident people fix things by hand: a security group rule that lets the on-call engineer in or "
        "keeps an attacker out, a tag the billing or backup system needs, a bigger instance. Terraform sees the "
        "difference when it refreshes, records it in the plan's `resource_drift`, and plans an update that sets "
        "the code's value back. `terraform plan` prints a note about it only when the changed attribute feeds "
        "something else, and in CI nobody reads drift: the next apply silently undoes the fix.\n"
        "Reported when an attribute that changed outside Terraform (compared by value: the empty-versus-null "
        "noise of a refresh does not count) is changed again by the plan. An error for types that guard access, "
        "a warning for the rest."
    )
    example = (
        'resource "aws_security_group" "web" {\n'
        '  name = "web"\n'
        "  ingress {\n"
        "    from_port   = 443\n    to_port     = 443\n    protocol    = \"tcp\"\n"
        '    cidr_blocks = ["0.0.0.0/0"]\n'
        "  }\n"
        "}\n\n"
        "$ aws ec2 authorize-security-group-ingress --group-id sg-... --protocol tcp --port 22 \\\n"
        "      --cidr 203.0.113.0/24     # added by hand; the next apply removes it"
    )
    fix = (
        "If the change is to stay, write it into the code (the finding shows it as HCL, e.g. the `ingress` "
        "block); if something else manages the attribute, `lifecycle { ignore_changes = [ATTRIBUTE] }` (not for "
        "security rules: Terraform would then keep whatever anyone adds); if the revert is intended, allow the "
        "finding with a reason in `.replace-guard.toml`."
    )

    def updates(self, an: Analysis, rc: ResourceChange) -> Sequence[tuple[str | int, ...]]:
        drift = an.index.drift.get(rc.full_address)
        if drift is None or "update" not in drift.actions:
            return ()
        return [(attr,) for attr in reverted(an, drift, rc)]

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        by_change: dict[int, list[tuple[ResourceChange, Cause]]] = {}
        for rc, cause in claimed:
            by_change.setdefault(id(rc), []).append((rc, cause))
        fixer = Fixer(an)
        for items in by_change.values():
            rc = items[0][0]
            drift = an.index.drift[rc.full_address]
            yield self._finding(an, fixer, rc, drift, [c for _, c in items])

    def _finding(self, an: Analysis, fixer: Fixer, rc: ResourceChange, drift: ResourceChange,
                 causes: list[Cause]) -> Finding:
        part = an.index.part
        security = rc.type in SECURITY_TYPES
        changes: list[str] = []
        values: list[ValueChange] = []
        facts: dict[str, str] = {}
        adopt: list[str] = []
        attrs = [str(c.path[0]) for c in causes]
        for attr in attrs:
            secret = any(is_marked(part(x, m), [attr]) for x in (drift, rc)
                         for m in ("before_sensitive", "after_sensitive"))
            applied = _get(part(drift, "before"), attr)
            outside = _get(part(drift, "after"), attr)
            planned = _get(part(rc, "after"), attr)
            unknown = is_marked(part(rc, "after_unknown"), [attr])
            if secret:
                changes.append(f"`{attr}` (sensitive) was changed outside Terraform, and apply sets it again")
                values.append(ValueChange(path=attr, before=SENSITIVE, after=SENSITIVE))
                continue
            changes.append(describe(attr, applied, outside, planned, unknown))
            before, after = an.value_pair(rc, (attr,))
            values.append(ValueChange(path=attr, before=before, after=after))
            if not isinstance(applied, list):
                facts[f"last_applied.{attr}"] = show_value(applied)
            snippet = adopt_snippet(attr, applied, outside)
            if snippet:
                adopt.append(snippet)
        kind = "security-relevant " if security else ""
        message = (f"{rc.full_address} was changed outside Terraform since the last apply, and this plan sets it "
                   f"back: " + "; ".join(changes) + ". Apply undoes the change without anyone deciding to"
                   + (": this is a " + kind + "resource, so an access rule someone added by hand (or removed) is "
                      "undone too" if security else "")
                   + ". The plan shows it as an ordinary update.")
        facts["changed_outside_terraform"] = ", ".join(attrs)
        loc = an.block_location(rc)
        first_loc, first_text = an.attribute_location(rc, (attrs[0],))
        chain = [
            ChainLink(ref=f"{rc.full_address}.{attrs[0]}" if len(attrs) == 1 else rc.full_address, kind="attribute",
                      expression=first_text.strip() if first_text else None, location=first_loc or loc,
                      note="the code's value, which apply writes back"),
            ChainLink(ref="resource_drift", kind="meta",
                      note="changed outside Terraform: " + ", ".join(attrs) + " (the plan's refresh saw it)"),
        ]
        fixes = self._fixes(an, fixer, rc, attrs, adopt, security)
        finding = self.finding(
            an, rc, title=f"{rc.full_address} was changed outside Terraform, and apply undoes it ("
                          + ", ".join(attrs) + ")",
            message=message, chain=chain, values=values, paths=[(a,) for a in attrs], facts=facts, fixes=fixes,
            location=first_loc or loc, severity=Severity.error if security else Severity.warning,
            root=f"{rc.full_address} changed outside Terraform")
        finding.cause = "out_of_band_change"
        return finding

    def _fixes(self, an: Analysis, fixer: Fixer, rc: ResourceChange, attrs: list[str], adopt: list[str],
               security: bool) -> list[Fix]:
        fixes: list[Fix] = []
        addr = an.address(rc)
        loc = an.block_location(rc)
        owned = addr is not None and an.graph.owned(addr.module_names)
        if adopt:
            where = f" at {loc.file}:{loc.line}" if loc else ""
            fixes.append(Fix(
                title="Keep the change: write it into the code",
                detail=(f"Put what was changed by hand into the resource block{where}, so the plan stops undoing it; "
                        "review it like any other change." if owned else
                        f"{rc.full_address} is in a module from outside the repository: pass the value through the "
                        "module's inputs."),
                location=loc, snippet="\n".join(adopt)))
        ignored = fixer.ignore(rc, attrs if len(attrs) > 1 else [attrs[0]],
                               "Terraform then keeps whatever is set outside it.")
        if ignored.fix is not None:
            fix = ignored.fix
            if security:
                fix = fix.model_copy(update={
                    "title": fix.title + " (not advised here)", "strategy": None, "edits": [],
                    "detail": fix.detail + " On a security-relevant resource that keeps every rule anyone adds by "
                                           "hand: `replace-guard fix` does not write it."})
            fixes.append(fix)
        fixes.append(Fix(
            title="Or confirm the revert",
            detail="If the change made by hand is to go, allow this finding with a reason (and an expiry date).",
            snippet=(f'[[allow]]\naddress = "{rc.full_address}"\nrule = "{self.id}"\n'
                     'reason = "revert the change made by hand during the incident"')))
        return fixes


def _get(values: Any, attr: str) -> Any:
    return values.get(attr) if isinstance(values, dict) else None


def reverted(an: Analysis, drift: ResourceChange, rc: ResourceChange) -> list[str]:
    """Top-level attributes changed outside Terraform (by value) that the plan changes again."""
    part = an.index.part
    d_before, d_after = part(drift, "before"), part(drift, "after")
    before, after, unknown = part(rc, "before"), part(rc, "after"), part(rc, "after_unknown")
    if not all(isinstance(v, dict) for v in (d_before, d_after, before)):
        return []
    after = after if isinstance(after, dict) else {}
    marks = unknown if isinstance(unknown, dict) else {}
    out = []
    for attr in sorted(set(d_before) | set(d_after)):
        if attr in SKIP:
            continue
        if not leaf_changes(d_before.get(attr), d_after.get(attr), None):
            continue
        if leaf_changes(before.get(attr), after.get(attr), marks.get(attr)):
            out.append(attr)
    return out


def _norm(value: Any) -> Any:
    """A value with empty parts dropped, for comparing elements of sets (`description: "" / null`)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v)) for k, v in value.items() if not empty(v) and v is not False))
    if isinstance(value, list):
        return tuple(_norm(v) for v in value)
    return value


def _element(value: Any) -> str:
    """One element of a set of blocks, in a line: `from_port = 22, protocol = tcp, cidr_blocks = [...]`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {show_value(v)}" for k, v in sorted(value.items())
                               if not empty(v) and v is not False) + "}"
    return show_value(value)


def describe(attr: str, applied: Any, outside: Any, planned: Any, unknown: bool) -> str:
    """What changed outside Terraform and what apply does about it, in words."""
    if isinstance(applied, list) and isinstance(outside, list) and (
            all(isinstance(v, dict) for v in applied + outside)):
        had = {_norm(v) for v in applied}
        has = {_norm(v) for v in outside}
        added = [v for v in outside if _norm(v) not in had]
        removed = [v for v in applied if _norm(v) not in has]
        parts = []
        if added:
            shown = "; ".join(_element(v) for v in added[:MAX_SHOWN])
            more = f" and {len(added) - MAX_SHOWN} more" if len(added) > MAX_SHOWN else ""
            parts.append(f"{len(added)} added by hand ({shown}{more}), which apply removes")
        if removed:
            shown = "; ".join(_element(v) for v in removed[:MAX_SHOWN])
            parts.append(f"{len(removed)} removed by hand ({shown}), which apply puts back")
        return f"`{attr}`: " + (", ".join(parts) if parts else "changed by hand, and apply rewrites it")
    if isinstance(applied, dict) or isinstance(outside, dict):
        a = applied if isinstance(applied, dict) else {}
        o = outside if isinstance(outside, dict) else {}
        parts = []
        added_keys = [k for k in sorted(o) if k not in a]
        changed = [k for k in sorted(o) if k in a and differs(a[k], o[k])]
        gone = [k for k in sorted(a) if k not in o]
        if added_keys:
            parts.append("added " + ", ".join(f"{k} = {show_value(o[k])}" for k in added_keys))
        if changed:
            parts.append("changed " + ", ".join(f"{k}: {show_value(a[k])} -> {show_value(o[k])}" for k in changed))
        if gone:
            parts.append("removed " + ", ".join(gone))
        back = "apply sets it back" if not unknown and not differs(_norm(planned), _norm(applied)) else \
            "apply overwrites it"
        return f"`{attr}`: " + "; ".join(parts) + f" by hand, and {back}"
    if unknown:
        return f"`{attr}` was changed by hand from {show_value(applied)} to {show_value(outside)}, and apply " \
               "overwrites it (the new value is known after apply)"
    back = "back to " + show_value(planned) if not differs(planned, applied) else "to " + show_value(planned)
    return f"`{attr}` was changed by hand from {show_value(applied)} to {show_value(outside)}, and apply sets it {back}"


def adopt_snippet(attr: str, applied: Any, outside: Any) -> str | None:
    """The HCL that writes the value made by hand into the code: the blocks added by hand (as
    nested blocks), a map in full, or a plain value."""
    if isinstance(outside, list) and outside and all(isinstance(v, dict) for v in outside):
        had = {_norm(v) for v in applied} if isinstance(applied, list) else set()
        added = [v for v in outside if _norm(v) not in had]
        blocks = []
        for item in added[:MAX_SHOWN]:
            lines = []
            keys = [k for k in sorted(item) if not empty(item[k]) and item[k] is not False]
            width = max((len(k) for k in keys), default=0)
            for key in keys:
                literal = hcl_literal(item[key])
                if literal is None:
                    return None
                lines.append(f"  {key.ljust(width)} = {literal}")
            blocks.append(f"{attr} {{\n" + "\n".join(lines) + "\n}")
        return "\n\n".join(blocks) if blocks else None
    literal = hcl_literal(outside)
    if literal is None:
        return None
    if isinstance(outside, dict) and outside:
        width = max(len(k) for k in outside)
        inner = []
        for key in sorted(outside):
            value = hcl_literal(outside[key])
            if value is None:
                return None
            name = key if key.replace("_", "").replace("-", "").isalnum() and not key[0].isdigit() else \
                hcl_literal(key)
            inner.append(f"  {str(name).ljust(width)} = {value}")
        return f"{attr} = {{\n" + "\n".join(inner) + "\n}"
    return f"{attr} = {literal}"
