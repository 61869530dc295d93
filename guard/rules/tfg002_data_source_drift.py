"""TFG002: replacement forced by a value that a data source, read again at plan time, now returns."""

from __future__ import annotations


from ..advice import advice_for, ignore_changes_snippet
from ..context import CONFIG_ONLY_DATA_TYPES, Cause, Context, path_text, resource_address, split_ref
from ..findings import Finding, Fix, Severity, action_words
from ..graph import data_source_is_most_recent, module_names
from ..model import is_marked
from .base import ReplacementRule

# TFG001's own case, left to it: `ami`/`image_id` straight from a most_recent aws_ami.
_TFG001_ATTRS = ("ami", "image_id")

# What usually changed, per data source type.
_WHAT_CHANGED = {
    "aws_ssm_parameter": "a new value was written to the parameter (every plan reads its latest version)",
    "aws_availability_zones": "the zones the account can use, or their order, changed, so the same index now "
                              "names another zone",
    "aws_availability_zone": "the zone lookup now returns another zone",
    "aws_ami_ids": "a new image matching the filters was published; `ids` is sorted newest first, so the same "
                   "index now names another image",
    "aws_ami": "the image lookup now finds another image",
    "aws_subnet": "the lookup now matches another subnet",
    "aws_subnets": "the lookup now matches other subnets (or lists them in another order)",
    "aws_vpc": "the lookup now matches another VPC",
    "aws_security_group": "the lookup now matches another security group",
    "aws_region": "the provider now works in another region",
    "aws_caller_identity": "the credentials now belong to another account",
    "aws_kms_key": "the key lookup now returns another key",
    "aws_launch_template": "the launch template has a new version",
}


class DataSourceDrift(ReplacementRule):
    id = "TFG002"
    name = "data-source-drift"
    severity = Severity.error
    summary = ("replacement forced by a value that comes from a data source read again at plan time "
               "(`aws_ssm_parameter`, `aws_availability_zones`, `aws_ami_ids`, ...), other than TFG001's case")
    why = (
        "Terraform reads every data source again at each plan. When what it looks up changed outside the code "
        "(a new parameter value, a new image, another zone list), the value it feeds changes too, and if that "
        "attribute cannot be updated in place the resource is destroyed and created again. Nobody changed the "
        "code and nothing in a code review warns about it.\n"
        "Values a data source returns are never printed unless they are known to be public (an `aws_ssm_parameter` "
        "value stays hidden even though `insecure_value` holds it unmarked)."
    )
    example = (
        'data "aws_ssm_parameter" "golden_ami" {\n'
        '  name = "/images/golden/latest"   # a pipeline writes a new AMI id here\n'
        "}\n\n"
        'resource "aws_instance" "app" {\n'
        "  ami           = data.aws_ssm_parameter.golden_ami.value   # new value -> new instance\n"
        '  instance_type = "t3.micro"\n'
        "}\n\n"
        'data "aws_availability_zones" "available" { state = "available" }\n\n'
        'resource "aws_subnet" "a" {\n'
        "  vpc_id            = aws_vpc.main.id\n"
        '  cidr_block        = "10.0.1.0/24"\n'
        "  availability_zone = data.aws_availability_zones.available.names[0]   # the list can change\n"
        "}"
    )
    fix = (
        "Pin the value the resource uses now in the code, or keep the resource when the looked-up value changes "
        "with `lifecycle { ignore_changes = [ATTRIBUTE] }`. Treat changes to what the data source reads (a "
        "parameter, an image, a zone list) as deployments: roll them out on purpose, in a reviewed change."
    )

    def _cause(self, ctx: Context, rc) -> tuple[list, Cause, str] | None:
        for path in ctx.replace_paths(rc):
            for cause in ctx.cause_chains(rc, path):
                root = cause.root
                parts = split_ref(root.ref) if root.kind == "data_source" else None
                if parts is None or parts[1] in CONFIG_ONLY_DATA_TYPES:
                    continue
                if (not cause.through and path and path[0] in _TFG001_ATTRS and parts[1] == "aws_ami"
                        and data_source_is_most_recent(ctx.graph.config_resource(module_names(root.module), root.ref))):
                    continue
                candidates = ctx.data_instances(cause.owner, root.module, root.ref)
                if any(ctx.data_read_change(c) is not None for c in candidates):
                    continue  # read during apply: TFG003
                return path, cause, candidates[0] if candidates else root.ref
        return None

    def _finding(self, ctx: Context, rc, path, cause: Cause, data_address: str) -> Finding:
        root = cause.root
        _, dtype, _, _, _ = split_ref(root.ref) or ("data", "", "", None, None)
        attr = path_text(path)
        before, after = ctx.shown_pair(rc, path)
        hidden = before.startswith("(hidden") or after.startswith("(hidden")
        facts: dict[str, str] = {"data_source": data_address}
        read = ctx.safe_data_values(data_address, dtype)
        if read:
            facts["data_source_now"] = "; ".join(f"{k} = {v}" for k, v in read.items())
        if cause.through:
            facts["through"] = ", ".join(f"{a} (replaced)" for a in cause.through)
        state = ctx.data_state(data_address)
        secret = bool(state and is_marked(state[1], [])) or before == "(sensitive)" or after == "(sensitive)"
        actions = list(rc.actions)
        what = _WHAT_CHANGED.get(dtype, "what it looks up changed outside this code")
        via = ""
        if cause.through:
            via = (f" It reaches `{attr}` through {', '.join(cause.through)}, which this plan replaces for the same "
                   "reason; a replaced resource's attributes are known only after apply.")
        message = (
            f"{rc.full_address} will be replaced ({action_words(actions)}) because `{attr}` changes from {before} "
            f"to {after}. The value comes from {root.label()}, a data source that Terraform reads again at every "
            f"plan: {what}. Nobody had to change the code for this.{via} Applying destroys the current object."
        )
        if secret or hidden:
            message += (" The value itself is not shown: the plan marks it sensitive, or it comes from a data "
                        "source attribute not known to be public.")
        return self.finding(
            ctx, rc, title=f"{rc.full_address} will be replaced because {root.ref} returns a new value", message=message, chain=cause.chain,
            values=[self.value_change(path, before, after)], paths=[path], facts=facts,
            fixes=self._fixes(ctx, rc, path, cause, dtype, before))

    def _fixes(self, ctx: Context, rc, path, cause: Cause, dtype: str, before: str) -> list[Fix]:
        fixes: list[Fix] = []
        chain = cause.chain
        addr = resource_address(rc)
        # The link whose expression names the data source is where a pin goes.
        pin_at = chain[-2] if len(chain) >= 2 else chain[0]
        line = pin_at.expression or pin_at.ref
        where = f" at {pin_at.location.file}:{pin_at.location.line}" if pin_at.location else f" in {pin_at.label()}"
        if cause.through:
            fixes.append(Fix(
                title=f"Stop the replacement of {cause.through[-1]} first",
                detail=f"{rc.full_address} is replaced only because {cause.through[0]} is: pin the value that "
                       f"reaches it from {cause.root.ref}{where} (`{line}`).",
                location=pin_at.location))
        elif before.startswith("(") or not before:
            fixes.append(Fix(
                title="Pin the value the resource uses now",
                detail=f"Replace `{line}`{where} with the value the resource has today (see `terraform state show "
                       f"'{rc.full_address}'`); change it later on purpose, in a reviewed change.",
                location=pin_at.location))
        else:
            key = line.split("=", 1)[0].strip() if "=" in line else {
                "output": "value", "module_input": pin_at.ref.split(".")[-1], "local": pin_at.ref.split(".")[-1],
            }.get(pin_at.kind, path_text(path))
            fixes.append(Fix(
                title="Pin the value the resource uses now",
                detail=f"Replace `{line}`{where} with the value the resource has today; change it later on "
                       "purpose, in a reviewed change.",
                location=pin_at.location, snippet=f'{key} = "{before}"'))
        if dtype == "aws_availability_zones":
            fixes.append(Fix(
                title="Name zones, don't index a lookup",
                detail="Give the zone by name (`availability_zone = \"us-east-1a\"`), or keep a fixed list in a "
                       "variable: an index into `names` moves whenever the account's zones change."))
        if dtype == "aws_ssm_parameter":
            fixes.append(Fix(
                title="Make a parameter change a deployment",
                detail="Whoever writes the parameter decides when the instance is rebuilt; write it in the same "
                       "reviewed change that expects the rebuild, or pin the value in the code."))
        res_loc = None
        if addr is not None:
            res_loc = ctx.graph.block_location(addr)
        in_block = f" in the resource block at {res_loc.file}:{res_loc.line}" if res_loc else f" in {rc.full_address}"
        top = next((p for p in path if isinstance(p, str)), path_text(path))
        fixes.append(Fix(
            title="Keep the resource when the looked-up value changes",
            detail=f"Add to the resource{in_block}; new resources still get the current value.",
            location=res_loc, snippet=ignore_changes_snippet([top])))
        advice = advice_for(rc.type, path)
        if advice is not None:
            fixes.append(Fix(title=f"About `{rc.type}.{advice.attr}`", detail=f"{advice.why} {advice.fix}",
                             snippet=advice.snippet))
        return fixes
