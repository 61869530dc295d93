"""Grow a large `terraform show -json` plan from a real one, for the benchmark.

    python benchmarks/generate.py [--scale 1 | --shape findings] [--seed examples/ami-drift/plan.json] [--out DIR]

The seed is the AMI-drift example, a real plan (`examples/ami-drift/plan.json`, Terraform 1.11.4
and AWS provider 5.100.0: `data.aws_ami` with `most_recent = true` feeds `aws_instance.app.ami`,
replaced with `replace_paths [["ami"]]`), with its `.tf` files.

What grows, per unit of `--scale`:
- the seed's replaced instance, repeated under `INSTANCES_PER_SCALE` for_each keys; every copy
  keeps the seed's change and configuration, so each one traces to the same data source;
- `FILLER_PER_SCALE` unchanged resources (actions `["no-op"]`) of realistic AWS types with full
  attribute maps as provider 5.100 writes them: `before` = `after`, the marker trees Terraform
  writes (`after_unknown`, `before_sensitive`, `after_sensitive`), a matching `prior_state` entry
  and `planned_values` entry. Half live in the root module, half in `module.team["..."]`
  instances, with the configuration blocks they come from.

Scale 1 is about 50 MB and 25,000 resources; 4 is about 200 MB and 100,000. `--shape findings`
instead writes 20,000 replaced copies beside 80,000 unchanged resources (about 230 MB), to
benchmarks/out/findings. Output is deterministic: the same seed and scale give the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import shutil
import sys
from pathlib import Path

import msgspec

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "ami-drift" / "plan.json"
OUT = HERE / "out"

INSTANCES_PER_SCALE = 100
FILLER_PER_SCALE = 24_900
TEAMS_PER_SCALE = 10
ACCOUNT = "123456789012"
REGION = "us-east-1"
PROVIDER = "registry.terraform.io/hashicorp/aws"

# Named shapes beside the scaled ones (`--shape NAME`, written to benchmarks/out/NAME).
# findings: one new image replaces 20,000 instances beside 80,000 unchanged resources (about
# 230 MB): the findings-heavy end of the targets (every finding has a chain, values and fixes,
# and the reports list 20,000 addresses).
SHAPES: dict[str, dict] = {
    "findings": {"scale": 4, "instances": 20_000, "fillers": 80_000},
}

_enc_sorted = msgspec.json.Encoder(order="sorted")
_enc = msgspec.json.Encoder()


# -- attribute maps ---------------------------------------------------------------------------
def _instance_values(rng: random.Random, ami: str, name: str, itype: str = "t3.micro") -> dict:
    """An aws_instance as provider 5.100 records it in state."""
    iid = "i-" + _hex(rng, 17)
    octets = f"10.0.{rng.randrange(0, 255)}.{rng.randrange(4, 250)}"
    pub = f"{rng.randrange(3, 99)}.{rng.randrange(0, 255)}.{rng.randrange(0, 255)}.{rng.randrange(1, 254)}"
    az = REGION + rng.choice("abcdf")
    tags = {"Name": name, "team": f"team-{rng.randrange(1, 40):02d}", "env": rng.choice(["prod", "staging"])}
    return {
        "ami": ami,
        "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid}",
        "associate_public_ip_address": True,
        "availability_zone": az,
        "capacity_reservation_specification": [
            {"capacity_reservation_preference": "open", "capacity_reservation_target": []}],
        "cpu_core_count": 1,
        "cpu_options": [{"amd_sev_snp": "", "core_count": 1, "threads_per_core": 2}],
        "cpu_threads_per_core": 2,
        "credit_specification": [{"cpu_credits": "unlimited"}],
        "disable_api_stop": False,
        "disable_api_termination": False,
        "ebs_block_device": [],
        "ebs_optimized": False,
        "enable_primary_ipv6": None,
        "enclave_options": [{"enabled": False}],
        "ephemeral_block_device": [],
        "get_password_data": False,
        "hibernation": False,
        "host_id": "",
        "host_resource_group_arn": None,
        "iam_instance_profile": "",
        "id": iid,
        "instance_initiated_shutdown_behavior": "stop",
        "instance_lifecycle": "",
        "instance_market_options": [],
        "instance_state": "running",
        "instance_type": itype,
        "ipv6_address_count": 0,
        "ipv6_addresses": [],
        "key_name": "",
        "launch_template": [],
        "maintenance_options": [{"auto_recovery": "default"}],
        "metadata_options": [{"http_endpoint": "enabled", "http_protocol_ipv6": "disabled",
                              "http_put_response_hop_limit": 2, "http_tokens": "required",
                              "instance_metadata_tags": "disabled"}],
        "monitoring": False,
        "network_interface": [],
        "outpost_arn": "",
        "password_data": "",
        "placement_group": "",
        "placement_partition_number": 0,
        "primary_network_interface_id": "eni-" + _hex(rng, 17),
        "private_dns": f"ip-{octets.replace('.', '-')}.ec2.internal",
        "private_dns_name_options": [{"enable_resource_name_dns_a_record": False,
                                      "enable_resource_name_dns_aaaa_record": False,
                                      "hostname_type": "ip-name"}],
        "private_ip": octets,
        "public_dns": f"ec2-{pub.replace('.', '-')}.compute-1.amazonaws.com",
        "public_ip": pub,
        "root_block_device": [{"delete_on_termination": True, "device_name": "/dev/xvda", "encrypted": False,
                               "iops": 3000, "kms_key_id": "", "tags": {}, "tags_all": {}, "throughput": 125,
                               "volume_id": "vol-" + _hex(rng, 17), "volume_size": 8, "volume_type": "gp3"}],
        "secondary_private_ips": [],
        "security_groups": [],
        "source_dest_check": True,
        "spot_instance_request_id": "",
        "subnet_id": "subnet-" + _hex(rng, 17),
        "tags": tags,
        "tags_all": dict(tags),
        "tenancy": "default",
        "timeouts": None,
        "user_data": None,
        "user_data_base64": None,
        "user_data_replace_on_change": False,
        "volume_tags": None,
        "vpc_security_group_ids": ["sg-" + _hex(rng, 17)],
    }


# -- helpers ---------------------------------------------------------------------------------
def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def shape(value):
    """The marker tree Terraform writes beside a known, non-sensitive value.

    Objects keep only their non-false members (nested objects and lists); lists keep one entry
    per element (`false` for a primitive).
    """
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if isinstance(v, (dict, list))}
    if isinstance(value, list):
        return [shape(v) if isinstance(v, (dict, list)) else False for v in value]
    return False


def key_text(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- unchanged resources -------------------------------------------------------------------
def _sg(rng: random.Random, key: str) -> dict:
    sid = "sg-" + _hex(rng, 17)
    tags = {"Name": key, "team": f"team-{rng.randrange(1, 40):02d}"}
    rule = {"cidr_blocks": ["10.0.0.0/16"], "description": "https from the VPC", "from_port": 443,
            "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp", "security_groups": [],
            "self": False, "to_port": 443}
    return {"arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{sid}", "description": "Managed by Terraform",
            "egress": [{"cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0, "ipv6_cidr_blocks": [],
                        "prefix_list_ids": [], "protocol": "-1", "security_groups": [], "self": False, "to_port": 0}],
            "id": sid, "ingress": [rule, dict(rule, from_port=22, to_port=22, description="ssh from the VPC")],
            "name": key, "name_prefix": "", "owner_id": ACCOUNT, "revoke_rules_on_delete": False,
            "tags": tags, "tags_all": dict(tags), "timeouts": None, "vpc_id": "vpc-" + _hex(rng, 17)}


def _bucket(rng: random.Random, key: str) -> dict:
    name = f"acme-{key}-{_hex(rng, 8)}"
    tags = {"team": f"team-{rng.randrange(1, 40):02d}"}
    return {"acceleration_status": "", "acl": None, "arn": f"arn:aws:s3:::{name}", "bucket": name,
            "bucket_domain_name": f"{name}.s3.amazonaws.com", "bucket_prefix": "",
            "bucket_regional_domain_name": f"{name}.s3.{REGION}.amazonaws.com", "cors_rule": [],
            "force_destroy": False,
            "grant": [{"id": _hex(rng, 64), "permissions": ["FULL_CONTROL"], "type": "CanonicalUser", "uri": ""}],
            "hosted_zone_id": "Z3AQBSTGFYJSTF", "id": name, "lifecycle_rule": [], "logging": [],
            "object_lock_configuration": [], "object_lock_enabled": False, "policy": "", "region": REGION,
            "replication_configuration": [], "request_payer": "BucketOwner",
            "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [
                {"kms_master_key_id": "", "sse_algorithm": "AES256"}], "bucket_key_enabled": False}]}],
            "tags": tags, "tags_all": dict(tags), "timeouts": None,
            "versioning": [{"enabled": False, "mfa_delete": False}], "website": [], "website_domain": None,
            "website_endpoint": None}


def _record(rng: random.Random, key: str) -> dict:
    zone = "Z0" + _hex(rng, 12).upper()
    fqdn = f"{key}.internal.example.com"
    return {"alias": [], "allow_overwrite": None, "cidr_routing_policy": [], "failover_routing_policy": [],
            "fqdn": fqdn, "geolocation_routing_policy": [], "geoproximity_routing_policy": [],
            "health_check_id": "", "id": f"{zone}_{fqdn}_A", "latency_routing_policy": [],
            "multivalue_answer_routing_policy": False, "name": fqdn,
            "records": [f"10.0.{rng.randrange(0, 255)}.{rng.randrange(4, 250)}"], "set_identifier": "", "ttl": 300,
            "type": "A", "weighted_routing_policy": [], "zone_id": zone}


def _attachment(rng: random.Random, key: str) -> dict:
    policy = rng.choice(["AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy", "AmazonS3ReadOnlyAccess"])
    return {"id": f"{key}-2025051209124{rng.randrange(0, 10)}{_hex(rng, 12)}",
            "policy_arn": f"arn:aws:iam::aws:policy/{policy}", "role": key}


def _log_group(rng: random.Random, key: str) -> dict:
    name = f"/acme/{key}"
    return {"arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}", "id": name, "kms_key_id": "",
            "log_group_class": "STANDARD", "name": name, "name_prefix": "", "retention_in_days": 30,
            "skip_destroy": False, "tags": {}, "tags_all": {}}


def _sg_rule(rng: random.Random, key: str) -> dict:
    port = rng.choice([443, 5432, 6379, 8080])
    return {"cidr_blocks": ["10.0.0.0/16"], "description": key, "from_port": port,
            "id": f"sgrule-{rng.randrange(10**9, 10**10)}", "ipv6_cidr_blocks": None, "prefix_list_ids": None,
            "protocol": "tcp", "security_group_id": "sg-" + _hex(rng, 17),
            "security_group_rule_id": "sgr-" + _hex(rng, 17), "self": False, "source_security_group_id": None,
            "to_port": port, "type": "ingress"}


def _fleet_instance(rng: random.Random, key: str) -> dict:
    return _instance_values(rng, "ami-0" + _hex(rng, 16), key, rng.choice(["t3.micro", "t3.small", "m6i.large"]))


# (type, name, weight, values): the mix a large estate shows, many small resources beside
# fewer big ones. 200 MB for 100,000 resources leaves about 2 KB of plan JSON per resource
# (its values appear four times: before, after, prior_state, planned_values); the weights give that.
FILLER_TYPES = (
    ("aws_instance", "fleet", 1, _fleet_instance),
    ("aws_security_group", "svc", 2, _sg),
    ("aws_s3_bucket", "data", 2, _bucket),
    ("aws_route53_record", "svc", 5, _record),
    ("aws_iam_role_policy_attachment", "svc", 55, _attachment),
    ("aws_cloudwatch_log_group", "svc", 20, _log_group),
    ("aws_security_group_rule", "svc", 15, _sg_rule),
)


class Item:
    __slots__ = ("address", "module", "type", "name", "index", "values", "marks", "schema_version")

    def __init__(self, address, module, rtype, name, index, values, marks, schema_version=0):
        self.address, self.module, self.type, self.name, self.index = address, module, rtype, name, index
        self.values, self.marks, self.schema_version = values, marks, schema_version


def filler(count: int, teams: list[str]) -> list[Item]:
    total = sum(t[2] for t in FILLER_TYPES)
    out = []
    for i in range(count):
        rng = random.Random(i)
        slot = i % total
        for rtype, name, weight, make in FILLER_TYPES:  # noqa: B007 -- the entry the break stops at is used below
            if slot < weight:
                break
            slot -= weight
        key = f"svc-{i:06d}"
        values = make(rng, key)
        module = f"module.team[{key_text(teams[i % len(teams)])}]" if i % 2 else ""
        local = f"{rtype}.{name}[{key_text(key)}]"
        address = f"{module}.{local}" if module else local
        out.append(Item(address, module, rtype, name, key, msgspec.Raw(_enc_sorted.encode(values)),
                        msgspec.Raw(_enc_sorted.encode(shape(values)))))
    return out


def filler_config(teams: list[str]) -> tuple[list[dict], dict]:
    """Configuration blocks the filler comes from: one per type in the root and in module.team."""
    blocks = []
    for rtype, name, _, _ in FILLER_TYPES:
        blocks.append({"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
                       "provider_config_key": "aws", "expressions": {"tags": {"references": ["each.key"]}},
                       "schema_version": 0, "for_each_expression": {"references": ["var.services"]}})
    call = {"source": "./modules/team", "for_each_expression": {"references": ["var.teams"]},
            "expressions": {"services": {"references": ["var.services"]}},
            "module": {"resources": [dict(b, provider_config_key="module.team:aws") for b in blocks],
                       "variables": {"services": {"description": "services of the team"}}}}
    return blocks, call


# -- assembling ----------------------------------------------------------------------------
def _walk_modules(module: dict):
    stack = [module]
    while stack:
        mod = stack.pop()
        yield mod
        stack.extend(mod.get("child_modules") or [])


def _module_of(root: dict, address: str | None) -> dict:
    """The module of a state/planned_values tree with this address, added when missing."""
    if not address:
        return root
    for mod in _walk_modules(root):
        if mod.get("address") == address:
            return mod
    child = {"address": address, "resources": []}
    root.setdefault("child_modules", []).append(child)
    return child


def _take(root: dict | None, address: str) -> tuple[dict | None, dict | None]:
    """Remove the resource with `address` from a module tree; return it and its module."""
    for mod in _walk_modules(root or {}):
        for i, res in enumerate(mod.get("resources") or []):
            if res.get("address") == address:
                return mod["resources"].pop(i), mod
    return None, None


def grow(seed: dict, scale: float, instances: int | None = None, fillers: int | None = None) -> dict:
    """The seed grown to `scale` (or to `instances` replaced copies and `fillers` unchanged resources)."""
    plan = copy.deepcopy(seed)
    changes = plan.get("resource_changes") or []
    template = next((rc for rc in changes if rc.get("mode", "managed") == "managed"
                     and "delete" in rc["change"]["actions"] and "create" in rc["change"]["actions"]
                     and rc["change"].get("replace_paths")), None)
    if template is None:
        sys.exit("generate: the seed plan has no replaced resource with replace_paths")
    module = template.get("module_address") or ""
    local = f"{template['type']}.{template['name']}"
    base = f"{module}.{local}" if module else local
    changes.remove(template)
    pv_root = plan.setdefault("planned_values", {}).setdefault("root_module", {})
    ps_root = plan.setdefault("prior_state", {}).setdefault("values", {}).setdefault("root_module", {})
    pv_res, pv_mod = _take(pv_root, template["address"])
    ps_res, ps_mod = _take(ps_root, template["address"])

    if instances is None:
        instances = int(INSTANCES_PER_SCALE * scale)
    if fillers is None:
        fillers = int(FILLER_PER_SCALE * scale)
    keys = [f"app-{i:05d}" for i in range(instances)]
    copies = []
    for key in keys:
        address = f"{base}[{key_text(key)}]"
        rc = copy.deepcopy(template)
        rc["address"], rc["index"] = address, key
        before = rc["change"].get("before")
        if isinstance(before, dict) and isinstance(before.get("id"), str):
            before["id"] = "i-" + hashlib.sha256(f"{address}".encode()).hexdigest()[:17]
        copies.append(rc)
        for res, mod in ((pv_res, pv_mod), (ps_res, ps_mod)):
            if res is not None:
                dup = dict(res, address=address, index=key)
                if res is ps_res and isinstance(before, dict):
                    dup["values"] = before
                mod["resources"].append(dup)
    changes[0:0] = copies

    # for_each on the template's configuration block, so the keys have a source.
    cfg_root = plan.setdefault("configuration", {}).setdefault("root_module", {})
    cfg_mod = cfg_root
    for name in [p for i, p in enumerate(module.split(".")) if i % 2 == 1] if module else []:
        cfg_mod = cfg_mod.get("module_calls", {}).get(name.split("[")[0], {}).get("module", {})
    for block in cfg_mod.get("resources") or []:
        if block.get("address") == local and "for_each_expression" not in block:
            block["for_each_expression"] = {"references": ["local.app_keys"]}

    teams = [f"team-{i:03d}" for i in range(max(1, int(TEAMS_PER_SCALE * scale)))]
    items = filler(fillers, teams)
    blocks, call = filler_config(teams)
    cfg_root.setdefault("resources", []).extend(blocks)
    cfg_root.setdefault("module_calls", {})["team"] = call
    plan.setdefault("variables", {}).update({"services": {"value": "(bench)"}, "teams": {"value": teams}})
    for item in items:
        pv = {"address": item.address, "mode": "managed", "type": item.type, "name": item.name, "index": item.index,
              "provider_name": PROVIDER, "schema_version": 0, "values": item.values,
              "sensitive_values": item.marks}
        _module_of(pv_root, item.module)["resources"].append(pv)
        _module_of(ps_root, item.module)["resources"].append(dict(pv))
        rc = {"address": item.address, "mode": "managed", "type": item.type, "name": item.name,
              "index": item.index, "provider_name": PROVIDER,
              "change": {"actions": ["no-op"], "before": item.values, "after": item.values,
                         "after_unknown": item.marks, "before_sensitive": item.marks,
                         "after_sensitive": item.marks}}
        if item.module:
            rc = {"address": item.address, "module_address": item.module, **{k: v for k, v in rc.items()
                                                                             if k != "address"}}
        changes.append(rc)
    plan["resource_changes"] = changes
    return plan


FLEET_TF = """\
# The configuration the benchmark's unchanged resources come from (written by generate.py).
variable "services" {
  type = set(string)
}

variable "teams" {
  type = set(string)
}

module "team" {
  source   = "./modules/team"
  for_each = var.teams
  services = var.services
}
"""


def fleet_tf() -> str:
    out = [FLEET_TF]
    for rtype, name, _, _ in FILLER_TYPES:
        out.append(f'resource "{rtype}" "{name}" {{\n  for_each = var.services\n'
                   '  tags = { service = each.key }\n}\n')
    return "\n".join(out)


def seed_plan(path: Path | None) -> tuple[dict, Path, str]:
    """The seed plan, the folder of its .tf files, and a label."""
    path = path or EXAMPLE
    if not path.is_file():
        sys.exit(f"generate: no seed plan at {path}; pass --seed PLAN (a `terraform show -json` plan)")
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    shown = path.resolve()
    label = shown.relative_to(REPO).as_posix() if shown.is_relative_to(REPO) else str(path)
    return json.loads(raw), path.parent, label


def generate(scale: float, seed: Path | None = None, out: Path | None = None, shape: str | None = None,
             instances: int | None = None, fillers: int | None = None) -> Path:
    """Write plan.json, META.json and the .tf files of one plan: `scale` units, or a named `shape`."""
    plan, tf_dir, label = seed_plan(seed)
    spec = dict(SHAPES[shape]) if shape else {}
    if instances is not None:
        spec["instances"] = instances
    if fillers is not None:
        spec["fillers"] = fillers
    if shape:
        scale = spec["scale"]
    folder = out or OUT / (shape if shape else f"{scale:g}x")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.rglob("*.tf"):
        old.unlink()
    for tf in sorted(tf_dir.rglob("*.tf")):  # the seed's sources, local modules included: chains get file:line
        rel = tf.relative_to(tf_dir)
        if ".terraform" in rel.parts:
            continue
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tf, folder / rel)
    (folder / "bench_fleet.tf").write_text(fleet_tf(), encoding="utf-8")
    grown = grow(plan, scale, spec.get("instances"), spec.get("fillers"))
    count = len(grown["resource_changes"])
    target = folder / "plan.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(_enc.encode(grown))
    tmp.replace(target)
    meta = {"seed": label, "scale": scale, "shape": shape or f"{scale:g}x", "bytes": target.stat().st_size,
            "resources": count, "replaced": spec.get("instances", int(INSTANCES_PER_SCALE * scale))}
    (folder / "META.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return target


def read_meta(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "META.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1 = about 50 MB and 25,000 resources")
    ap.add_argument("--seed", type=Path, default=None, help="seed plan (default: examples/ami-drift/plan.json)")
    ap.add_argument("--shape", choices=sorted(SHAPES), default=None,
                    help="a named shape instead of --scale (findings: 20,000 replaced beside 80,000 unchanged)")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for plan.json (default: benchmarks/out/<scale>x or benchmarks/out/<shape>)")
    ap.add_argument("--instances", type=int, default=None, help="replaced copies (default: 100 per unit of scale)")
    ap.add_argument("--fillers", type=int, default=None, help="unchanged resources (default: 24,900 per unit of scale)")
    args = ap.parse_args(argv)
    path = generate(args.scale, args.seed, args.out, args.shape, args.instances, args.fillers)
    meta = read_meta(path.parent) or {}
    print(f"{path}: {meta.get('bytes', 0) / 1e6:.1f} MB, {meta.get('resources')} resources (seed: {meta.get('seed')})")


if __name__ == "__main__":
    main()
