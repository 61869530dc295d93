"""TFG001: replacement forced by an AMI that `data.aws_ami` with `most_recent = true` picked."""

from __future__ import annotations

from typing import Iterable

from ..context import ABSENT, SENSITIVE, UNKNOWN, Context, path_text, resource_address
from ..findings import ChainLink, Finding, Fix, Severity, action_words
from ..graph import data_source_is_most_recent, module_label, module_names
from .base import Rule

IMAGE_ATTRS = ("ami", "image_id")
# aws_ami attributes that are safe to print (the image is public metadata, not a secret).
IMAGE_FACTS = {"image_id": "new_image_id", "name": "new_image_name", "creation_date": "new_image_created",
               "owner_id": "new_image_owner"}


class AmiDrift(Rule):
    id = "TFG001"
    name = "ami-drift"
    severity = Severity.error
    summary = "replacement forced by `ami`/`image_id` whose value comes from `data.aws_ami` with `most_recent = true`"
    why = (
        "Nobody changed the code. A newer image that matches the data source's filters was published, "
        "`most_recent = true` picked it at plan time, and `ami` forces replacement: the next apply destroys "
        "the instance and builds a new one. Whatever lived only on its disks (files, installed tools, "
        "history) is gone."
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
        "Pin the AMI the instance runs now (`ami = \"ami-...\"`), or keep the instance when the image "
        "changes with `lifecycle { ignore_changes = [ami] }`, or accept replacement and make the instance "
        "disposable: everything it needs goes into `user_data` (or an image you build), and data onto "
        "a separate volume."
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for rc in ctx.replacements():
            address = rc.full_address
            addr = resource_address(rc)
            if addr is None:
                continue
            for path in ctx.replace_paths(rc, IMAGE_ATTRS):
                if not path or path[0] not in IMAGE_ATTRS:
                    continue
                chain = self._drift_chain(ctx, rc, addr, path)
                if chain is not None:
                    yield self._finding(ctx, rc, addr, path, chain)
                    ctx.claim(address)
                    break

    def _drift_chain(self, ctx: Context, rc, addr, path) -> list[ChainLink] | None:
        chains = ctx.graph.trace(rc.full_address, path)
        for chain in chains:
            root = chain[-1]
            if root.kind == "data_source" and root.ref.startswith("data.aws_ami.") and \
                    data_source_is_most_recent(ctx.graph.config_resource(module_names(root.module), root.ref)):
                # Read during apply, not at plan time: that is TFG003's case.
                if any(ctx.data_read_change(a) for a in ctx.data_instances(addr, root.module, root.ref)):
                    continue
                return chain
        # A local value cannot be followed without the .tf sources. The new AMI may still be
        # recognisable: it equals the id a most_recent aws_ami data source read in this run.
        for chain in chains:
            if chain[-1].kind != "local" or chain[-1].location is not None:
                continue
            _, after = ctx.value_pair(rc, path)
            match = self._data_source_with_id(ctx, addr, after)
            if match is not None:
                match.note = f"matched by value: the new {path_text(path)} is the id this data source read"
                return [*chain, match]
        return None

    def _data_source_with_id(self, ctx: Context, addr, image_id: str) -> ChainLink | None:
        names = addr.module_names
        for depth in range(len(names), -1, -1):
            mod = ctx.graph.config_module(names[:depth])
            for res in mod.resources if mod else []:
                if res.mode != "data" or res.type != "aws_ami" or not data_source_is_most_recent(res):
                    continue
                local = f"data.aws_ami.{res.name}"
                for full in ctx.data_instances(addr, module_label(names[:depth]), local):
                    state = ctx.data_state(full)
                    if state is not None and image_id in (state[0].get("id"), state[0].get("image_id")):
                        return ctx.graph.data_link(names[:depth], "aws_ami", res.name)
        return None

    def _finding(self, ctx: Context, rc, addr, path, chain: list[ChainLink]) -> Finding:
        root = chain[-1]
        attr = path_text(path)
        before, after = ctx.value_pair(rc, path)
        facts: dict[str, str] = {}
        candidates = ctx.data_instances(addr, root.module, root.ref)
        state = ctx.data_state(candidates[0]) if candidates else None
        if state is not None:
            values, _ = state
            for key, fact in IMAGE_FACTS.items():
                if isinstance(values.get(key), str) and values[key]:
                    facts[fact] = values[key]
            facts["data_source"] = candidates[0]
        if after == UNKNOWN and facts.get("new_image_id"):
            after = facts["new_image_id"]
        if SENSITIVE in (before, after):
            facts.pop("new_image_id", None)
        actions = list(rc.actions)
        new_desc = facts.get("new_image_name", "a newer image")
        if facts.get("new_image_created"):
            new_desc += f" (created {facts['new_image_created']})"
        message = (
            f"{rc.full_address} will be replaced ({action_words(actions)}) because `{attr}` changes "
            f"from {before} to {after}. Nobody changed the code: {root.label()} has most_recent = true, "
            f"and at plan time it picked {new_desc}. Everything on the instance's disks will be lost."
        )
        return self.finding(
            ctx, rc, title=f"{rc.full_address} will be replaced because {root.ref} (most_recent = true) picked a new image", message=message, chain=chain,
            values=[self.value_change(path, before, after)], paths=[path], facts=facts,
            fixes=self._fixes(ctx, addr, path, chain, before))

    def _fixes(self, ctx: Context, addr, path, chain: list[ChainLink], before: str) -> list[Fix]:
        attr = path_text(path)
        fixes = []
        # The link whose expression names the data source is where a pin goes.
        pin_at = chain[-2] if len(chain) >= 2 else chain[0]
        if before not in (SENSITIVE, ABSENT):
            line = pin_at.expression or ""
            key = line.split("=", 1)[0].strip() if "=" in line else (attr if pin_at is chain[0] else pin_at.ref.split(".")[-1])
            snippet = f'{key} = "{before}"'
            where = f" at {pin_at.location.file}:{pin_at.location.line}" if pin_at.location else f" in {pin_at.label()}"
            fixes.append(Fix(
                title="Pin the AMI the instance runs now",
                detail=f"Replace `{line or pin_at.ref}`{where} with the image the instance runs today; "
                       "move to a newer image on purpose, in a reviewed change.",
                location=pin_at.location, snippet=snippet))
        res_loc = ctx.graph.block_location(addr)
        where = f"the resource block at {res_loc.file}:{res_loc.line}" if res_loc else f"`{addr.local}`"
        fixes.append(Fix(
            title="Keep the running instance when the image changes",
            detail=f"Add to {where}; new instances still get the newest image.",
            location=res_loc, snippet=f"lifecycle {{\n  ignore_changes = [{path[0]}]\n}}"))
        fixes.append(Fix(
            title="Accept replacement, and make it harmless",
            detail="Put every setup step into `user_data` (or bake it into the image) and keep data on a separate "
                   "EBS volume, so a rebuilt instance comes back the same; then allow this finding in the config."))
        return fixes
