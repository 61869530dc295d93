"""TFG004: an object Terraform did not find on refresh (recorded as deleted outside Terraform) that the
plan creates again; names the region or account it was in and the one used now."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..analysis import Analysis
from ..findings import Finding, Fix, Severity, action_words
from ..model import ResourceChange, iter_state_resources, raw_value
from ..values import is_marked
from .base import Claimed, Rule

_ARN = re.compile(r"^arn:(aws[\w-]*):([\w-]*):([a-z0-9-]*):(\d*):")
_REGION = re.compile(r"^([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+)")
# Attributes that name a region, an availability zone or a list of zones, in values.
_AZ_KEYS = ("availability_zone",)
_AZ_LIST_KEYS = ("names", "availability_zones")


def arn_place(value: Any) -> tuple[str | None, str | None]:
    """(region, account) from an ARN; empty parts give None."""
    if not isinstance(value, str):
        return None, None
    m = _ARN.match(value)
    if m is None:
        return None, None
    return (m.group(3) or None), (m.group(4) or None)


def zone_region(zone: Any) -> str | None:
    """`us-east-1a` (or a local zone `us-west-2-lax-1a`) -> `us-east-1`."""
    if not isinstance(zone, str):
        return None
    m = _REGION.match(zone)
    return m.group(1) if m else None


def place_of(values: Any, accounts: bool = True) -> dict[str, tuple[str, str]]:
    """Where an object's values say it lives: {"region": (value, evidence), "account": (value, evidence)}.

    `accounts=False` for data sources: what they read may belong to another account (a public
    image, a shared resource), so only the region they were read in counts.
    """
    out: dict[str, tuple[str, str]] = {}
    if not isinstance(values, dict):
        return out
    for key in ("arn", "id"):  # some resources keep their ARN as the id
        region, account = arn_place(values.get(key))
        if region and "region" not in out:
            out["region"] = (region, f"its ARN {values[key]}")
        if account and accounts and "account" not in out:
            out["account"] = (account, f"its ARN {values[key]}")
    if "region" not in out and isinstance(values.get("region"), str) and zone_region(values["region"]):
        out["region"] = (values["region"], "its region attribute")
    for key in _AZ_KEYS:
        if "region" not in out and (zone := zone_region(values.get(key))):
            out["region"] = (zone, f"its {key} {values[key]}")
    owner = values.get("owner_id")
    if accounts and "account" not in out and isinstance(owner, str) and re.fullmatch(r"\d{12}", owner):
        out["account"] = (owner, "its owner_id")
    return out


class VanishedResource(Rule):
    id = "TFG004"
    name = "vanished-resource"
    severity = Severity.error
    summary = ("a resource that vanished on refresh (`resource_drift` delete) and that the plan creates again; "
               "names the region or account it was in and the one used now, when the plan shows them")
    why = (
        "When Terraform cannot find an object during refresh it records it as deleted outside Terraform and plans "
        "to create it again. Most often nothing was deleted: the same code was planned against another region or "
        "account (`AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_PROFILE` or the provider's `region` differs from the "
        "last run). Applying then builds a second copy, and the first keeps running, unmanaged and unseen, where "
        "it was."
    )
    example = (
        'provider "aws" {}   # region from AWS_REGION\n\n'
        'resource "aws_instance" "app" {\n'
        '  ami           = "ami-0123456789abcdef0"\n'
        '  instance_type = "t3.micro"\n'
        "}\n\n"
        "$ AWS_REGION=us-east-1 terraform apply   # instance created in us-east-1\n"
        "$ AWS_REGION=us-west-2 terraform plan    # \"has been deleted\" ... 1 to add"
    )
    fix = (
        "Don't apply. Check `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_PROFILE` and the provider's `region` (and the "
        "backend/workspace) against the last run, and plan again with the right ones. If the object really was "
        "deleted, apply on purpose and allow this finding."
    )

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        vanished = [rc for rc in an.index.drift.values() if "delete" in rc.actions and "create" not in rc.actions]
        if not vanished:
            return
        now = _Now(an, {rc.full_address for rc in vanished})
        for drift in vanished:
            change = an.index.changes.get(drift.full_address)
            if change is None or "create" not in change.actions or "delete" in change.actions:
                continue
            yield self._finding(an, drift, change, now)

    def _finding(self, an: Analysis, drift: ResourceChange, change: ResourceChange, now: _Now) -> Finding:
        address = drift.full_address
        before = raw_value(drift.change.before)
        was = place_of(before)
        current = now.place(change)
        holds_data = an.is_stateful(change.type)
        facts: dict[str, str] = {}
        marks = raw_value(drift.change.before_sensitive)
        if isinstance(before, dict) and isinstance(before.get("id"), str) and not is_marked(marks, ["id"]):
            facts["old_id"] = before["id"]
        for kind in ("region", "account"):
            if kind in was:
                facts[f"old_{kind}"] = f"{was[kind][0]} ({was[kind][1]})"
            if kind in current:
                facts[f"{kind}_now"] = f"{current[kind][0]} ({current[kind][1]})"
        switched = [k for k in ("region", "account") if k in was and k in current and was[k][0] != current[k][0]]
        same = [k for k in ("region", "account") if k in was and k in current and was[k][0] == current[k][0]]
        actions = list(change.actions)
        head = (f"{address} was not found when Terraform refreshed it: Terraform recorded it as deleted outside "
                f"Terraform, and this plan creates it again ({action_words(actions)}).")
        if switched:
            kind = switched[0]
            story = (f" It was in {kind} {was[kind][0]}, and this plan uses {current[kind][0]}: the {kind} changed "
                     f"since the last apply, so the object is most likely still there, in {was[kind][0]}, unmanaged. "
                     "Applying creates a second one.")
            title = f"{address} vanished because the {kind} changed ({was[kind][0]} -> {current[kind][0]})"
        elif same:
            places = " and ".join(f"{k} {was[k][0]}" for k in same)
            other = " or ".join([k for k in ("region", "account") if k not in same] + ["workspace"])
            story = (f" It was in {places}, and this plan uses the same: unless the {other} changed, it was "
                     "deleted outside Terraform, and applying creates it again"
                     + (", empty." if holds_data else "."))
            title = f"{address} vanished (deleted outside Terraform?) and will be created again"
        else:
            known_was = ", ".join(f"{k} {v[0]}" for k, v in was.items())
            known_now = ", ".join(f"{k} {v[0]}" for k, v in current.items())
            story = ((f" It was in {known_was}." if known_was else "")
                     + (f" This plan uses {known_now}." if known_now else "")
                     + " The plan does not show both where the object was and where Terraform looks now; if "
                       "AWS_REGION, AWS_DEFAULT_REGION or AWS_PROFILE differ from the last run, the old object is "
                       "still running where it was.")
            title = f"{address} vanished on refresh and will be created again"
        if switched:
            kind = switched[0]
            group, root = f"{self.id}|{kind}|{was[kind][0]}|{current[kind][0]}", \
                f"the {kind} changed ({was[kind][0]} -> {current[kind][0]})"
        else:
            group, root = f"{self.id}|vanished", "objects not found on refresh, created again"
        return self.finding(an, change, title=title, message=head + story, facts=facts,
                            fixes=self._fixes(an, change, was, current, now),
                            location=an.block_location(change), group=group, root=root)

    def _fixes(self, an: Analysis, change, was, current, now: _Now) -> list[Fix]:
        fixes = []
        region_src = now.region_source(change)
        where = was.get("region", (None,))[0]
        fixes.append(Fix(
            title="Don't apply: check the region and account",
            detail="Compare AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE and the provider's region with the last "
                   "successful run" + (f" (the object was in {where})" if where else "")
                   + (f"; this plan takes the region from {region_src}" if region_src else "")
                   + ", then plan again.",
            snippet="env | grep -E '^AWS_(REGION|DEFAULT_REGION|PROFILE)='"))
        if where:
            fixes.append(Fix(
                title="Pin the region in the code",
                detail="Set the provider's region explicitly so the environment cannot move the stack.",
                snippet=f'provider "aws" {{\n  region = "{where}"\n}}'))
        fixes.append(Fix(
            title="If it really was deleted",
            detail="Apply on purpose to create it again, and allow this finding for this run "
                   f"(`--allow '{change.full_address}:{self.id}'`)."))
        return fixes



class _Now:
    """Which region and account this plan uses: the provider configuration, root variables, and the
    ARNs/zones of objects read in this run (prior_state)."""

    def __init__(self, an: Analysis, vanished: set[str]):
        self.an = an
        self.vanished = vanished
        conf = an.plan.configuration
        pc = raw_value(conf.provider_config) if conf is not None else None
        self.providers: dict[str, Any] = pc if isinstance(pc, dict) else {}
        self._observed: dict[str, tuple[str, str]] | None = None

    def _provider(self, change) -> tuple[str, dict[str, Any]] | None:
        addr = self.an.address(change)
        key = None
        if addr is not None:
            cfg = self.an.graph.resource(addr.module_names, addr.local)
            key = cfg.provider_config_key if cfg is not None else None
        for k in (key, key.split(":")[-1] if key else None, "aws"):
            if not k:
                continue
            entry = self.providers.get(k)
            if isinstance(entry, dict):
                return k, entry
        return None

    def region_from_config(self, change) -> tuple[str, str] | None:
        found = self._provider(change)
        if found is None:
            return None
        key, entry = found
        expr = (entry.get("expressions") or {}).get("region")
        if not isinstance(expr, dict):
            return None
        if isinstance(expr.get("constant_value"), str):
            return expr["constant_value"], f'provider "{key}" region = "{expr["constant_value"]}"'
        for ref in expr.get("references") or []:
            if isinstance(ref, str) and ref.startswith("var.") and not entry.get("module_address"):
                var = (self.an.plan.variables or {}).get(ref.split(".")[1])
                value = raw_value(var.value) if var is not None else None
                if isinstance(value, str):
                    return value, f'provider "{key}" region = {ref} ("{value}")'
        return None

    def region_source(self, change) -> str | None:
        from_config = self.region_from_config(change)
        if from_config:
            return from_config[1]
        found = self._provider(change)
        if found is not None and "region" not in (found[1].get("expressions") or {}):
            return ("the environment (AWS_REGION / AWS_DEFAULT_REGION / the profile's region): "
                    "the provider block sets none")
        return None

    def observed(self) -> dict[str, tuple[str, str]]:
        """Region/account shown by what this run read: data sources first, then refreshed objects."""
        if self._observed is None:
            found: dict[str, tuple[str, str]] = {}
            ps = self.an.plan.prior_state
            root = ps.values.root_module if ps is not None and ps.values is not None else None
            resources = sorted(iter_state_resources(root), key=lambda r: (r.mode != "data", r.address))
            for res in resources:
                if len(found) == 2:
                    break
                values = raw_value(res.values) if res.address not in self.vanished else None
                if not isinstance(values, dict):
                    continue
                label = res.address or f"{res.type}.{res.name}"
                if res.type == "aws_region":
                    for key in ("region", "name"):  # provider 6 names it `region`, 5 `name`
                        if isinstance(values.get(key), str) and values[key]:
                            found.setdefault("region", (values[key], f"{label}.{key}"))
                if (res.type == "aws_caller_identity" and isinstance(values.get("account_id"), str)
                        and values["account_id"]):
                    found.setdefault("account", (values["account_id"], f"{label}.account_id"))
                for key in _AZ_LIST_KEYS:
                    zones = values.get(key)
                    if isinstance(zones, list) and zones and (zone := zone_region(zones[0])):
                        found.setdefault("region", (zone, f"{label}.{key}"))
                for kind, (value, evidence) in place_of(values, accounts=res.mode != "data").items():
                    found.setdefault(kind, (value, f"{label}: {evidence.replace('its ', '')}"))
            self._observed = found
        return self._observed

    def place(self, change) -> dict[str, tuple[str, str]]:
        out = dict(self.observed())
        from_config = self.region_from_config(change)
        if from_config:
            out["region"] = from_config
        return out
