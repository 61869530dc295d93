"""TFG001: replacement forced by an AMI that `data.aws_ami` with `most_recent = true` picked."""

from __future__ import annotations

from collections.abc import Iterable

from ..analysis import Analysis
from ..engine import Cause, CauseKind
from ..findings import Finding, Fix, Severity, action_words
from ..fixes import NO_PIN, Fixer
from ..model import ResourceChange
from ..values import SENSITIVE, UNKNOWN, path_text, top_attr
from .base import Claimed, Rule, group_key

IMAGE_ATTRS = ("ami", "image_id")
# aws_ami attributes that are safe to print (the image is public metadata, not a secret).
IMAGE_FACTS = {"image_id": "new_image_id", "name": "new_image_name", "creation_date": "new_image_created",
               "owner_id": "new_image_owner"}


class AmiDrift(Rule):
    id = "TFG001"
    name = "ami-drift"
    severity = Severity.error
    summary = ("replacement forced by `ami`/`image_id` whose value comes from `data.aws_ami` with "
               "`most_recent = true` (directly, through modules, locals, `for_each`, or a `replace_triggered_by` "
               "fed by the image)")
    why = (
        "Nobody changed the code. A newer image that matches the data source's filters was published, "
        "`most_recent = true` picked it at plan time, and `ami` forces replacement: the next apply destroys "
        "the instance and builds a new one. Whatever lived only on its disks (files, installed tools, "
        "history) is gone. `most_recent` counts when the code sets it to true, directly or through a variable "
        "or local whose value the plan and the sources show."
    )
    example = (
        'data "aws_ami" "al2" {\n'
        "  most_recent = true\n"
        '  owners      = ["amazon"]\n'
        '  filter {\n    name   = "name"\n    values = ["amzn2-ami-hvm-*"]\n  }\n'
        "}\n\n"
        'resource "aws_instance" "app" {\n'
        "  ami           = data.aws_ami.al2.id   # replaced whenever a newer image appears\n"
        '  instance_type = "t3.micro"\n'
        "}"
    )
    fix = (
        "Pin the AMI the instance runs now (`ami = \"ami-...\"`) where the chain leaves the data source, or keep "
        "the instance when the image changes with `lifecycle { ignore_changes = [ami] }`, or accept replacement "
        "and make the instance disposable: everything it needs goes into `user_data` (or an image you build), "
        "and data onto a separate volume. `replace-guard fix` makes the first two edits."
    )
    kinds = frozenset({CauseKind.image_drift})

    def claims(self, an: Analysis, rc: ResourceChange, cause: Cause) -> bool:
        if cause.kind is not CauseKind.image_drift:
            return False
        if cause.through:  # a trigger or an upstream fed by the image
            return True
        return top_attr(cause.path) in IMAGE_ATTRS

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        fixer = Fixer(an)
        for rc, cause in claimed:
            key = group_key(self.id, an, cause)
            yield self._finding(an, fixer, rc, cause, key)

    def _finding(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause, key: str | None) -> Finding:
        root = cause.root
        assert root is not None
        path = cause.path
        attr = path_text(path) if path else ""
        facts: dict[str, str] = {}
        data = cause.data
        if data is not None:
            for name, fact in IMAGE_FACTS.items():
                value = data.values.get(name)
                if isinstance(value, str) and value:
                    facts[fact] = value
            facts["data_source"] = data.address
        if cause.through:
            facts["through"] = an.through_words(cause)
        values = []
        before = after = ""
        if path:
            before, after = an.value_pair(rc, path)
            if after == UNKNOWN and facts.get("new_image_id"):
                after = facts["new_image_id"]
            if SENSITIVE in (before, after):
                facts.pop("new_image_id", None)
            values.append(self.value_change(path, before, after))
        new_desc = facts.get("new_image_name", "a newer image")
        if facts.get("new_image_created"):
            new_desc += f" (created {facts['new_image_created']})"
        source = data.address if data is not None else root.ref
        if cause.through:
            how = (f"its `replace_triggered_by` names {cause.through[0]}, which changes because {source} has "
                   f"most_recent = true and at plan time it picked {new_desc}")
            lead = f"{rc.full_address} will be replaced ({action_words(rc.actions)}): {how}."
        else:
            lead = (f"{rc.full_address} will be replaced ({action_words(rc.actions)}) because `{attr}` changes from "
                    f"{before} to {after}. Nobody changed the code: {source} has most_recent = true, and at plan "
                    f"time it picked {new_desc}.")
        message = lead + " Everything on the instance's disks will be lost."
        if cause.matched_by_value:
            message += (" The chain stops before the data source (" + (cause.chain[-2].ref if len(cause.chain) > 1
                        else attr) + "); the new value is the one this data source read, so that is the likely "
                        "source: run with -C DIR to follow it.")
        new_id = facts.get("new_image_id")
        group_root = f"{source} picked {new_id if new_id and SENSITIVE not in (before, after) else 'a new image'}" + (
            f" ({facts['new_image_name']})" if facts.get("new_image_name") else "")
        return self.finding(
            an, rc,
            title=f"{rc.full_address} will be replaced because {source} (most_recent = true) picked a new image",
            message=message, chain=an.chain(cause), values=values, paths=[path] if path else [], facts=facts,
            fixes=self._fixes(an, fixer, rc, cause), cause=cause, group=key, root=group_root)

    def _fixes(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause) -> list[Fix]:
        fixes: list[Fix] = []
        attr = top_attr(cause.path) or "ami"
        pinned = fixer.pin(rc, cause, what="image",
                           title=None if cause.through else "Pin the AMI the instance runs now")
        if pinned.fix is not None:
            fixes.append(pinned.fix)
        else:
            fixes.append(Fix(title="Pin the AMI the instance runs now",
                             detail=f"{NO_PIN}: {pinned.reason}."))
        if cause.through:
            inner = cause
            while inner.inner is not None:
                inner = inner.inner
            up, up_attr = inner.change, top_attr(inner.path)
            fixes.append(Fix(
                title="Make the trigger follow a reviewed value, not the newest image",
                detail=f"{rc.full_address} is replaced because {cause.through[0]} changes with every new image. Feed "
                       f"{cause.through[0]} from a pinned image id or a version string you change on purpose; or "
                       "remove the trigger."))
            if up_attr:
                ignored = fixer.ignore(up, [up_attr], f"{rc.full_address} is then no longer replaced when a new image "
                                                      "appears.")
                if ignored.fix is not None:
                    fixes.append(ignored.fix)
        else:
            fixes += fixer.keep(rc, cause, attr, "new instances still get the newest image.",
                                "Keep the running instance when the image changes")
        fixes.append(Fix(
            title="Accept replacement, and make it harmless",
            detail="Put every setup step into `user_data` (or bake it into the image) and keep data on a separate "
                   "EBS volume, so a rebuilt instance comes back the same; then allow this finding in the config."))
        return fixes
