"""Growth in every shape of configuration: the guard's cost at 4N against its cost at N.

    python benchmarks/growth.py [--shapes locals,references,modules,count_output] [--rounds 3]
                                [--n locals=2000,...] [--no-diamond]

The spec asks for speed linear "in every shape of configuration (locals, references per
expression, module instances, chain depth)", with shared sub-chains traced once. Each shape
below is written at N and at 4N as a root module (`.tf` files) and the plan Terraform 1.11.4
and AWS provider 5.100.0 would show for it after a newer image is published (`configuration`,
`variables`, `prior_state` with the data sources read at plan time, `planned_values`,
`resource_changes` with `replace_paths [["ami"]]`); the replaced instances and the images are
the AMI-drift example's (examples/ami-drift/plan.json), copied. Shapes:

- locals: N locals in one file (locals.tf): N/10 chains ten locals deep from `data.aws_ami.al2.id`,
  and a map local that names the end of each chain; `aws_instance.app` takes `for_each` over
  the map and `ami = each.value`: N/10 findings, each traced through ten locals.
- references: one expression with N references, `ami = coalesce(var.ami_override_0, ...,
  var.ami_override_N-1, data.aws_ami.al2.id)`, the variables declared in variables.tf and null
  in the plan; `count = 10`.
- modules: N `for_each` instances of a local module, each with its own `data.aws_ami.this`
  (most_recent, a filter per instance) feeding its `aws_instance.this`: N findings, N causes.
- count_output: N counted instances (`count = var.app_count`) whose `ami = module.image.id`, an
  output of a local module that holds the data source: N findings, one cause.
- diamond (not grown): locals 20 levels deep, each level two locals that both read both of the
  level below (`coalesce(local.d3_a, local.d3_b)`): 2^20 paths, 40 nodes; target: under 5 s.

Each plan runs as `python -m guard check PLAN -C DIR --format json` in fresh processes,
interleaved, best of the rounds (CPU time: user + system; wall beside it). Printed per shape:
the cost at N and 4N, the ratio 4N/N (target: at most 6) and, net of a run on the same shape at
N=1 (start-up, imports, the grammar), the ratio of what grows. Before timing, one run per plan
checks that the guard traced what the shape is about (the number of findings, all TFG001, and
the links of a chain: ten locals, an output, ...); a failed check is printed, the timing still
runs. Exit status 1 when a target is missed or a check failed.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/ is not a package)

OUT = HERE / "out" / "growth"
TARGET_GROWTH = 6.0
TARGET_DIAMOND_S = 5.0
PROVIDER = "registry.terraform.io/hashicorp/aws"
DEFAULT_N = {"locals": 4000, "references": 2000, "modules": 2000, "count_output": 2000}

PROVIDER_TF = """\
provider "aws" {
  region = "us-east-1"
}
"""

AMI_BLOCK = """\
data "aws_ami" "{name}" {{
  most_recent = true
  owners      = ["self"]

  filter {{
    name   = "name"
    values = ["{pattern}"]
  }}
}}
"""


def _ami_config(address: str, name: str, pattern_expr: dict, key: str = "aws") -> dict:
    return {"address": address, "mode": "data", "type": "aws_ami", "name": name, "provider_config_key": key,
            "expressions": {"filter": [{"name": {"constant_value": "name"}, "values": pattern_expr}],
                            "most_recent": {"constant_value": True}, "owners": {"constant_value": ["self"]}},
            "schema_version": 0}


def _image_id(text: str) -> str:
    return "ami-" + hashlib.sha256(text.encode()).hexdigest()[:17]


class Seed:
    """The AMI-drift example's replaced instance and image, to copy."""

    def __init__(self) -> None:
        plan, _, self.label = generate.seed_plan(None)
        rc = next(r for r in plan["resource_changes"] if r["change"].get("replace_paths"))
        self.change = rc["change"]
        self.action_reason = rc.get("action_reason")
        state = plan["prior_state"]["values"]["root_module"]["resources"]
        self.image = next(r for r in state if r["mode"] == "data")
        self.instance_state = next(r for r in state if r["mode"] == "managed")
        self.planned = next(r for r in plan["planned_values"]["root_module"]["resources"]
                            if r["mode"] == "managed")
        self.terraform_version = plan["terraform_version"]
        self.format_version = plan["format_version"]


@dataclass
class Plan:
    """A plan being written: the parts, by module instance address."""

    seed: Seed
    config: dict
    variables: dict = field(default_factory=dict)
    changes: list = field(default_factory=list)
    state: dict = field(default_factory=dict)  # module address -> resources
    planned: dict = field(default_factory=dict)
    relevant: list = field(default_factory=list)

    def image(self, module: str, name: str, image_id: str, image_name: str, pattern: str) -> None:
        """A data.aws_ami read at plan time: in prior_state only."""
        local = f"data.aws_ami.{name}"
        entry = copy.deepcopy(self.seed.image)
        values = entry["values"]
        values.update(id=image_id, image_id=image_id, name=image_name,
                      arn=f"arn:aws:ec2:us-east-1::image/{image_id}", filter=[{"name": "name", "values": [pattern]}])
        entry.update(address=f"{module}.{local}" if module else local, name=name)
        self.state.setdefault(module, []).append(entry)
        self.relevant.append({"resource": entry["address"], "attribute": ["id"]})

    def instance(self, module: str, name: str, index: int | str | None, old: str, new: str) -> None:
        """An aws_instance replaced because `ami` moves from `old` to `new`."""
        local = f"aws_instance.{name}"
        base = f"{module}.{local}" if module else local
        address = base if index is None else f"{base}[{json.dumps(index)}]"
        change = copy.deepcopy(self.seed.change)
        iid = "i-" + hashlib.sha256(address.encode()).hexdigest()[:17]
        change["before"].update(ami=old, id=iid, arn=f"arn:aws:ec2:us-east-1:123456789012:instance/{iid}")
        change["after"]["ami"] = new
        rc = {"address": address}
        if module:
            rc["module_address"] = module
        rc.update(mode="managed", type="aws_instance", name=name)
        if index is not None:
            rc["index"] = index
        rc.update(provider_name=PROVIDER, change=change, action_reason=self.seed.action_reason)
        self.changes.append(rc)
        state = copy.deepcopy(self.seed.instance_state)
        state.update(address=address, name=name, values=change["before"])
        state.pop("depends_on", None)
        if index is not None:
            state["index"] = index
        self.state.setdefault(module, []).append(state)
        planned = copy.deepcopy(self.seed.planned)
        planned.update(address=address, name=name, values=change["after"])
        if index is not None:
            planned["index"] = index
        self.planned.setdefault(module, []).append(planned)

    @staticmethod
    def _tree(by_module: dict) -> dict:
        root = {"resources": by_module.get("", [])}
        children = [{"resources": res, "address": mod} for mod, res in by_module.items() if mod]
        if children:
            root["child_modules"] = children
        return root

    def document(self) -> dict:
        s = self.seed
        out = {"format_version": s.format_version, "terraform_version": s.terraform_version}
        if self.variables:
            out["variables"] = self.variables
        out["planned_values"] = {"root_module": self._tree(self.planned)}
        out["resource_changes"] = self.changes
        out["prior_state"] = {"format_version": "1.0", "terraform_version": s.terraform_version,
                              "values": {"root_module": self._tree(self.state)}}
        out["configuration"] = self.config
        out["relevant_attributes"] = self.relevant
        out.update(timestamp="2026-11-22T01:08:11Z", applyable=True, complete=True, errored=False)
        return out


def _provider_config() -> dict:
    return {"aws": {"name": "aws", "full_name": PROVIDER,
                    "expressions": {"region": {"constant_value": "us-east-1"}}}}


def _instance_config(address: str, ami_expr: dict, **meta) -> dict:
    name = address.split(".")[1]
    out = {"address": address, "mode": "managed", "type": "aws_instance", "name": name,
           "provider_config_key": meta.pop("key", "aws"),
           "expressions": {"ami": ami_expr, "instance_type": {"constant_value": "t3.micro"}},
           "schema_version": 1}
    out.update(meta)
    return out


@dataclass
class Shape:
    files: dict[str, str]
    plan: dict
    findings: int
    check: Callable[[dict], str | None]  # the report -> a complaint, or None


def _chain_kinds(report: dict) -> list[str]:
    findings = report.get("findings") or []
    return [link["kind"] for link in findings[0]["chain"]] if findings else []


# -- shapes -------------------------------------------------------------------------------
def shape_locals(n: int, seed: Seed) -> Shape:
    depth = 10
    chains = max(1, n // depth)
    old, new = _image_id("old"), _image_id("new")
    lines = ["locals {"]
    for c in range(chains):
        lines.append(f"  c{c}_0 = data.aws_ami.al2.id")
        lines.extend(f"  c{c}_{d} = local.c{c}_{d - 1}" for d in range(1, depth))
    lines.append("")
    lines.append("  images = {")
    lines.extend(f'    "app-{c:05d}" = local.c{c}_{depth - 1}' for c in range(chains))
    lines.append("  }")
    lines.append("}")
    main = (AMI_BLOCK.format(name="al2", pattern="amzn2-ami-hvm-*") + "\n"
            'resource "aws_instance" "app" {\n  for_each = local.images\n\n  ami           = each.value\n'
            '  instance_type = "t3.micro"\n}\n')
    config = {"provider_config": _provider_config(), "root_module": {"resources": [
        _instance_config("aws_instance.app", {"references": ["each.value"]},
                         for_each_expression={"references": ["local.images"]}),
        _ami_config("data.aws_ami.al2", "al2", {"constant_value": ["amzn2-ami-hvm-*"]})]}}
    p = Plan(seed, config)
    p.image("", "al2", new, "amzn2-ami-hvm-2.0.20240201-x86_64-gp2", "amzn2-ami-hvm-*")
    for c in range(chains):
        p.instance("", "app", f"app-{c:05d}", old, new)

    def check(report: dict) -> str | None:
        kinds = _chain_kinds(report)
        return None if kinds.count("local") >= depth else f"chain {kinds}: expected {depth} locals"

    return Shape({"main.tf": main, "locals.tf": "\n".join(lines) + "\n", "provider.tf": PROVIDER_TF},
                 p.document(), chains, check)


def shape_references(n: int, seed: Seed) -> Shape:
    count = 10
    old, new = _image_id("old"), _image_id("new")
    names = [f"ami_override_{i}" for i in range(n)]
    variables = "\n".join(f'variable "{v}" {{\n  type    = string\n  default = null\n}}\n' for v in names)
    args = ",\n    ".join([f"var.{v}" for v in names] + ["data.aws_ami.al2.id"])
    main = (AMI_BLOCK.format(name="al2", pattern="amzn2-ami-hvm-*") + "\n"
            f'resource "aws_instance" "app" {{\n  count = {count}\n\n  ami = coalesce(\n    {args},\n  )\n'
            '  instance_type = "t3.micro"\n}\n')
    refs = [f"var.{v}" for v in names] + ["data.aws_ami.al2.id", "data.aws_ami.al2"]
    config = {"provider_config": _provider_config(), "root_module": {
        "resources": [_instance_config("aws_instance.app", {"references": refs},
                                       count_expression={"constant_value": count}),
                      _ami_config("data.aws_ami.al2", "al2", {"constant_value": ["amzn2-ami-hvm-*"]})],
        "variables": {v: {"default": None} for v in names}}}
    p = Plan(seed, config, variables={v: {"value": None} for v in names})
    p.image("", "al2", new, "amzn2-ami-hvm-2.0.20240201-x86_64-gp2", "amzn2-ami-hvm-*")
    for i in range(count):
        p.instance("", "app", i, old, new)

    def check(report: dict) -> str | None:
        kinds = _chain_kinds(report)
        return None if kinds and kinds[-1] == "data_source" else f"chain {kinds}: expected to end at the data source"

    return Shape({"main.tf": main, "variables.tf": variables, "provider.tf": PROVIDER_TF}, p.document(), count, check)


APP_MODULE = AMI_BLOCK.format(name="this", pattern="app-${var.name}-*") + """
resource "aws_instance" "this" {
  ami           = data.aws_ami.this.id
  instance_type = "t3.micro"

  tags = {
    Name = var.name
  }
}
"""


def shape_modules(n: int, seed: Seed) -> Shape:
    keys = [f"svc-{i:05d}" for i in range(n)]
    root = ('variable "apps" {\n  type = set(string)\n}\n\nmodule "app" {\n  source   = "./modules/app"\n'
            '  for_each = var.apps\n\n  name = each.key\n}\n')
    inner = [_instance_config("aws_instance.this", {"references": ["data.aws_ami.this.id", "data.aws_ami.this"]},
                              key="module.app:aws"),
             _ami_config("data.aws_ami.this", "this", {"references": ["var.name"]}, key="module.app:aws")]
    inner[0]["expressions"]["tags"] = {"references": ["var.name"]}
    config = {"provider_config": _provider_config(), "root_module": {
        "module_calls": {"app": {"source": "./modules/app", "expressions": {"name": {"references": ["each.key"]}},
                                 "for_each_expression": {"references": ["var.apps"]},
                                 "module": {"resources": inner, "variables": {"name": {}}}}},
        "variables": {"apps": {}}}}
    p = Plan(seed, config, variables={"apps": {"value": keys}})
    for key in keys:
        module = f'module.app["{key}"]'
        new = _image_id("new" + key)
        p.image(module, "this", new, f"app-{key}-2.0.20240201", f"app-{key}-*")
        p.instance(module, "this", None, _image_id("old" + key), new)

    def check(report: dict) -> str | None:
        groups = report.get("groups") or []
        kinds = _chain_kinds(report)
        if not kinds or kinds[-1] != "data_source":
            return f"chain {kinds}: expected to end at the module's data source"
        return None if len(groups) == n else f"{len(groups)} groups: expected {n} (one data source each)"

    files = {"main.tf": root, "provider.tf": PROVIDER_TF, "modules/app/main.tf": APP_MODULE,
             "modules/app/variables.tf": 'variable "name" {\n  type = string\n}\n'}
    return Shape(files, p.document(), n, check)


IMAGE_MODULE = AMI_BLOCK.format(name="this", pattern="amzn2-ami-hvm-*") + """
output "id" {
  value = data.aws_ami.this.id
}
"""


def shape_count_output(n: int, seed: Seed) -> Shape:
    old, new = _image_id("old"), _image_id("new")
    root = ('variable "app_count" {\n  type = number\n}\n\nmodule "image" {\n  source = "./modules/image"\n}\n\n'
            'resource "aws_instance" "app" {\n  count = var.app_count\n\n  ami           = module.image.id\n'
            '  instance_type = "t3.micro"\n}\n')
    inner = [_ami_config("data.aws_ami.this", "this", {"constant_value": ["amzn2-ami-hvm-*"]}, key="module.image:aws")]
    config = {"provider_config": _provider_config(), "root_module": {
        "resources": [_instance_config("aws_instance.app", {"references": ["module.image.id", "module.image"]},
                                       count_expression={"references": ["var.app_count"]})],
        "module_calls": {"image": {"source": "./modules/image",
                                   "module": {"outputs": {"id": {"expression": {
                                       "references": ["data.aws_ami.this.id", "data.aws_ami.this"]}}},
                                       "resources": inner}}},
        "variables": {"app_count": {}}}}
    p = Plan(seed, config, variables={"app_count": {"value": n}})
    p.image("module.image", "this", new, "amzn2-ami-hvm-2.0.20240201-x86_64-gp2", "amzn2-ami-hvm-*")
    for i in range(n):
        p.instance("", "app", i, old, new)

    def check(report: dict) -> str | None:
        kinds = _chain_kinds(report)
        return None if "output" in kinds and kinds[-1] == "data_source" else f"chain {kinds}: expected an output"

    files = {"main.tf": root, "provider.tf": PROVIDER_TF, "modules/image/main.tf": IMAGE_MODULE}
    return Shape(files, p.document(), n, check)


def shape_diamond(depth: int, seed: Seed) -> Shape:
    old, new = _image_id("old"), _image_id("new")
    lines = ["locals {", "  d0_a = data.aws_ami.al2.id", "  d0_b = data.aws_ami.al2.id"]
    for k in range(1, depth):
        lines.append(f"  d{k}_a = coalesce(local.d{k - 1}_a, local.d{k - 1}_b)")
        lines.append(f"  d{k}_b = coalesce(local.d{k - 1}_b, local.d{k - 1}_a)")
    lines.append("}")
    main = (AMI_BLOCK.format(name="al2", pattern="amzn2-ami-hvm-*") + "\n"
            f'resource "aws_instance" "app" {{\n  ami           = local.d{depth - 1}_a\n'
            '  instance_type = "t3.micro"\n}\n')
    config = {"provider_config": _provider_config(), "root_module": {"resources": [
        _instance_config("aws_instance.app", {"references": [f"local.d{depth - 1}_a"]}),
        _ami_config("data.aws_ami.al2", "al2", {"constant_value": ["amzn2-ami-hvm-*"]})]}}
    p = Plan(seed, config)
    p.image("", "al2", new, "amzn2-ami-hvm-2.0.20240201-x86_64-gp2", "amzn2-ami-hvm-*")
    p.instance("", "app", None, old, new)

    def check(report: dict) -> str | None:
        kinds = _chain_kinds(report)
        return None if kinds.count("local") >= depth else f"chain {kinds}: expected {depth} locals"

    return Shape({"main.tf": main, "locals.tf": "\n".join(lines) + "\n", "provider.tf": PROVIDER_TF},
                 p.document(), 1, check)


SHAPES: dict[str, Callable[[int, Seed], Shape]] = {
    "locals": shape_locals, "references": shape_references, "modules": shape_modules,
    "count_output": shape_count_output,
}


def write(name: str, shape: Shape) -> Path:
    folder = OUT / name
    if folder.exists():
        shutil.rmtree(folder)
    for rel, text in shape.files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "plan.json").write_text(json.dumps(shape.plan), encoding="utf-8")
    return folder


# -- running ------------------------------------------------------------------------------
def argv_for(folder: Path) -> list[str]:
    return [sys.executable, "-m", "guard", "check", str(folder / "plan.json"), "-C", str(folder), "--format", "json"]


def run_once(folder: Path) -> tuple[float, float, int]:
    """CPU (user + system), wall seconds and peak RSS (bytes) of one fresh run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv_for(folder), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"growth.py: the guard exited {code} on {folder}:\n{err[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss * 1024


def sanity(folder: Path, shape: Shape) -> str | None:
    """One untimed run: the findings the shape makes, and a chain that passes where it should."""
    proc = subprocess.run(argv_for(folder), capture_output=True, cwd=REPO)
    if proc.returncode not in (0, 1):
        return f"exit {proc.returncode}: {proc.stderr.decode()[-500:]}"
    report = json.loads(proc.stdout)
    if proc.returncode != 1:
        shown = [f"{f['rule']} {f['severity']} ({f['cause']}, chain {' <- '.join(link['ref'] for link in f['chain'])})"
                 for f in report["findings"][:1]]
        return f"exit 0, expected 1 (errors): {', '.join(shown) or 'no findings'}"
    found = len(report["findings"])
    if found != shape.findings:
        return f"{found} findings, expected {shape.findings}"
    if any(f["rule"] != "TFG001" for f in report["findings"]):
        return ("expected TFG001 (ami-drift) findings only: "
                + ", ".join(sorted({f["rule"] for f in report["findings"]})))
    return shape.check(report)


@dataclass
class Best:
    cpu: float = float("inf")
    wall: float = float("inf")
    peak: int = 0

    def add(self, cpu: float, wall: float, peak: int) -> None:
        self.cpu, self.wall, self.peak = min(self.cpu, cpu), min(self.wall, wall), max(self.peak, peak)


def prepare(todo: dict) -> None:
    """Write every plan, check each with one run, and leave the list in OUT/prepared.json."""
    seed = Seed()
    shapes: dict[tuple[str, str], Shape] = {}
    plans: dict[tuple[str, str], Path] = {}
    for name in todo["names"]:
        n = todo["sizes"][name]
        for label, size in (("1", 1), ("N", n), ("4N", 4 * n)):
            shapes[(name, label)] = shape = SHAPES[name](size, seed)
            plans[(name, label)] = write(f"{name}-{size}", shape)
    if todo["diamond"]:
        for label, depth in (("1", 1), ("20", 20)):
            shapes[("diamond", label)] = shape = shape_diamond(depth, seed)
            plans[("diamond", label)] = write(f"diamond-{depth}", shape)
    problems = []
    for key, folder in plans.items():
        complaint = sanity(folder, shapes[key])
        if complaint:
            problems.append(f"{key[0]} {key[1]}: {complaint}")
    out = {"plans": {"|".join(k): str(v) for k, v in plans.items()},
           "findings": {"|".join(k): shape.findings for k, shape in shapes.items()}, "problems": problems}
    (OUT / "prepared.json").write_text(json.dumps(out, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--prepare":
        prepare(json.loads(sys.argv[2]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated, of: " + ", ".join(SHAPES))
    ap.add_argument("--n", default="", help="N per shape, e.g. locals=2000,modules=500 (defaults: "
                    + ", ".join(f"{k}={v}" for k, v in DEFAULT_N.items()) + ")")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-diamond", action="store_true", help="leave out the 20-level diamond of locals")
    ap.add_argument("--markdown", action="store_true", help="also print the table as markdown rows")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for name in names:
        if name not in SHAPES:
            ap.error(f"no shape {name!r}; known: {', '.join(SHAPES)}")
    sizes = dict(DEFAULT_N)
    for item in filter(None, (x.strip() for x in args.n.split(","))):
        key, _, value = item.partition("=")
        sizes[key] = int(value)

    # Plans are written and checked in a child process: this one stays small, because every child
    # it starts inherits its size as the floor of its own ru_maxrss.
    todo = {"names": names, "sizes": sizes, "diamond": not args.no_diamond}
    subprocess.run([sys.executable, __file__, "--prepare", json.dumps(todo)], check=True, cwd=REPO)
    prepared = json.loads((OUT / "prepared.json").read_text(encoding="utf-8"))
    plans = {tuple(key.split("|")): Path(folder) for key, folder in prepared["plans"].items()}
    found = prepared["findings"]
    problems = prepared["problems"]
    for line in problems:
        print(f"CHECK FAILED: {line}")

    best: dict[tuple[str, str], Best] = {key: Best() for key in plans}
    jobs = list(plans.items())
    for r in range(args.rounds):
        shift = (r * 3) % len(jobs)
        for key, folder in jobs[shift:] + jobs[:shift]:
            best[key].add(*run_once(folder))
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    status = 1 if problems else 0
    print()
    head = (f"{'shape':<13} {'N':>6} {'findings':>9} {'cpu N':>7} {'cpu 4N':>7} {'4N/N':>5} {'net 4N/N':>8} "
            f"{'wall N':>7} {'wall 4N':>7} {'peak 4N':>8}  target")
    print(head)
    print("-" * len(head))
    rows = []
    for name in names:
        one, b1, b4 = best[(name, "1")], best[(name, "N")], best[(name, "4N")]
        ratio = b4.cpu / b1.cpu
        grown = (b1.cpu - one.cpu, b4.cpu - one.cpu)
        net = grown[1] / grown[0] if grown[0] > 0.05 else float("nan")
        ok = ratio <= TARGET_GROWTH and not net > TARGET_GROWTH
        status |= 0 if ok else 1
        findings = f"{found[name + '|N']}/{found[name + '|4N']}"
        print(f"{name:<13} {sizes[name]:>6} {findings:>9} {b1.cpu:>6.2f}s {b4.cpu:>6.2f}s {ratio:>5.2f} {net:>8.2f} "
              f"{b1.wall:>6.2f}s {b4.wall:>6.2f}s {b4.peak / 1e6:>6.0f}MB  "
              f"{'ok' if ok else 'MISS'} (<= {TARGET_GROWTH:g})")
        rows.append((name, sizes[name], findings, b1, b4, ratio, net, ok))
    if not args.no_diamond:
        one, d = best[("diamond", "1")], best[("diamond", "20")]
        ok = d.wall <= TARGET_DIAMOND_S
        status |= 0 if ok else 1
        print(f"{'diamond':<13} {'20 lv':>6} {1:>9} {'':>7} {d.cpu:>6.2f}s {'':>5} {'':>8} {'':>7} {d.wall:>6.2f}s "
              f"{d.peak / 1e6:>6.0f}MB  {'ok' if ok else 'MISS'} (wall <= {TARGET_DIAMOND_S:g} s; 1 level: "
              f"{one.cpu:.2f} s CPU)")
    print("\nnet 4N/N: CPU above a run of the same shape at N=1 (start-up, imports, the HCL grammar);"
          " linear is 4.")
    if args.markdown:
        print("\nmarkdown rows:")
        for name, n, findings, b1, b4, ratio, net, ok in rows:
            print(f"| {name} | {n:,} / {4 * n:,} | {findings} | {b1.cpu:.2f} s | {b4.cpu:.2f} s | {ratio:.2f} | "
                  f"{net:.2f} | {'ok' if ok else 'missed'} |")
        if not args.no_diamond:
            d = best[("diamond", "20")]
            print(f"| diamond, 20 levels | 40 locals, 2^20 paths | 1 | | {d.cpu:.2f} s ({d.wall:.2f} s wall) | | | "
                  f"{'ok' if d.wall <= TARGET_DIAMOND_S else 'missed'} (< 5 s) |")
    return status


if __name__ == "__main__":
    sys.exit(main())
