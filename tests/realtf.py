"""Build real Terraform plans against a local moto server.

A plain helper module, no tests in it. It finds the pieces (the ``terraform``
binary, a filesystem mirror holding the AWS provider, moto), runs a moto server,
drives Terraform in one root module folder (:class:`Workspace`), and builds the
scenarios under ``tests/scenarios`` (:func:`build_scenario`, :func:`build_all`).

A scenario is a folder ``tests/scenarios/<name>/`` with:

* the ``.tf`` files that are applied (and planned, unless changed later),
  plus any sub-folders they use (``modules/``);
* optionally ``after/``: files copied over the root module after the apply
  (an ``overlay`` step), i.e. the code change a person made before the next plan;
* ``scenario.toml``: what to do around the apply, as data (see :data:`STEP_KINDS`
  and the keys listed below it).

A scenario with ``from = "other"`` does not apply anything: it starts from a copy
of the other scenario's applied workspace (state, ``.terraform``, lock file) and
plans with its own ``.tf`` files, or with the other's code when it has none. That
is how harmless counterparts reuse an apply (an apply costs ~15 s).

``provider.tf`` is written by the harness (the region differs per scenario, and it
holds no endpoints: ``AWS_ENDPOINT_URL`` points the provider at moto). Each scenario
has its own region(s), so the scenarios share one moto server without seeing each
other's images. Nothing here talks to the internet.

Run ``python tests/realtf.py [NAME...] [--workdir DIR]`` to build and look around.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

SCENARIOS_DIR = Path(__file__).parent / "scenarios"

# --------------------------------------------------------------------------
# discovery


def find_terraform() -> str | None:
    """The terraform binary: $REPLACE_GUARD_TERRAFORM, else ``terraform`` on PATH."""
    explicit = os.environ.get("REPLACE_GUARD_TERRAFORM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("terraform")


def _mirror_has_aws(root: Path) -> bool:
    return any(root.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"))


def _mirror_roots() -> Iterator[Path]:
    explicit = os.environ.get("REPLACE_GUARD_TF_MIRROR")
    if explicit:
        yield Path(explicit)
    home = Path.home()
    yield Path("/opt/tf-plugins")
    yield home / ".terraform.d" / "plugins"
    yield home / ".local" / "share" / "terraform" / "plugins"
    yield Path("/usr/local/share/terraform/plugins")
    yield Path("/usr/share/terraform/plugins")


def _search_mirror(tops: Iterable[str], max_depth: int = 6, max_dirs: int = 50_000) -> Path | None:
    """Bounded walk for a folder holding ``registry.terraform.io/hashicorp/aws``."""
    seen = 0
    for top in tops:
        top_depth = top.rstrip("/").count("/")
        for dirpath, dirnames, _ in os.walk(top):
            seen += 1
            if seen > max_dirs:
                return None
            if "registry.terraform.io" in dirnames and _mirror_has_aws(Path(dirpath)):
                return Path(dirpath)
            if dirpath.count("/") - top_depth >= max_depth:
                dirnames[:] = []
            else:
                dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "dev", ".git", "node_modules")]
    return None


_mirror_cache: list[Path | None] = []


def find_mirror() -> Path | None:
    """The root of a filesystem mirror (the folder holding ``registry.terraform.io``)."""
    if not _mirror_cache:
        found = next((r for r in _mirror_roots() if _mirror_has_aws(r)), None)
        if found is None and not os.environ.get("REPLACE_GUARD_TF_MIRROR"):
            found = _search_mirror(["/opt", "/usr/local", "/usr/share", str(Path.home()), "/srv", "/var/lib"])
        _mirror_cache.append(found)
    return _mirror_cache[0]


def moto_available() -> bool:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401  (pulls in flask, werkzeug)
    except Exception:
        return False
    return True


def skip_reason() -> str | None:
    """None when real plans can be built here, else what is missing."""
    missing = []
    if find_terraform() is None:
        missing.append("the terraform binary (not on PATH; or set REPLACE_GUARD_TERRAFORM)")
    if find_mirror() is None:
        missing.append(
            "a filesystem mirror with hashicorp/aws (looked in /opt/tf-plugins, ~/.terraform.d/plugins, "
            "/usr/share/terraform/plugins, ...; set REPLACE_GUARD_TF_MIRROR)"
        )
    if not moto_available():
        missing.append("moto[server] and boto3 (pip install 'moto[server]' boto3)")
    if missing:
        return "real Terraform plans need " + "; ".join(missing)
    return None


# --------------------------------------------------------------------------
# moto


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """A moto server on a free local port, for the life of this process at most."""

    def __init__(self, log_path: Path | None = None):
        self.port = 0
        self.log_path = log_path
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        atexit.register(self.stop)
        for _ in range(3):  # the port may be taken between free_port() and bind
            self.port = free_port()
            log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
            if log is not subprocess.DEVNULL:
                log.close()
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError(f"moto server did not start (log: {self.log_path})")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with direct.open(self.url + "/moto-api/", timeout=2):
                    return True
            except OSError:
                time.sleep(0.2)
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self, service: str, region: str):
        import boto3

        # a session per client: boto3's default session is not thread-safe
        return boto3.session.Session().client(
            service, region_name=region, endpoint_url=self.url,
            aws_access_key_id="test", aws_secret_access_key="test",
        )


def register_image(moto: MotoServer, name: str, region: str) -> str:
    """Publish an image owned by the caller ("self") in moto; returns its id."""
    ec2 = moto.client("ec2", region)
    return ec2.register_image(
        Name=name, Architecture="x86_64", VirtualizationType="hvm",
        RootDeviceName="/dev/xvda",
    )["ImageId"]


def put_parameter(moto: MotoServer, name: str, value: str, region: str) -> None:
    moto.client("ssm", region).put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


def authorize_ingress(moto: MotoServer, group_id: str, protocol: str, port: int, cidr: str, region: str) -> None:
    """What `aws ec2 authorize-security-group-ingress` does: one rule added outside Terraform."""
    moto.client("ec2", region).authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": protocol, "FromPort": port, "ToPort": port,
                        "IpRanges": [{"CidrIp": cidr}]}],
    )


def create_tags(moto: MotoServer, resource_id: str, tags: Mapping[str, str], region: str) -> None:
    """What `aws ec2 create-tags` does: tags added outside Terraform."""
    moto.client("ec2", region).create_tags(
        Resources=[resource_id], Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])


def push_image(moto: MotoServer, repository: str, tag: str, region: str) -> tuple[str, str]:
    """What `aws ecr put-image` does (the repository is created when missing): a small manifest
    that differs per tag, so each push has its own digest. Returns (digest, repository URI)."""
    ecr = moto.client("ecr", region)
    try:
        uri = ecr.create_repository(repositoryName=repository)["repository"]["repositoryUri"]
    except ecr.exceptions.RepositoryAlreadyExistsException:
        uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]["repositoryUri"]
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
                   "digest": "sha256:" + hashlib.sha256(f"config {repository} {tag}".encode()).hexdigest()},
        # moto's digest is the SHA-256 of the layer digests: one layer per tag, one digest per push
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1024,
                    "digest": "sha256:" + hashlib.sha256(f"layer {repository} {tag}".encode()).hexdigest()}],
    })
    image = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)["image"]
    return image["imageId"]["imageDigest"], uri


def state_value(workspace: Path, reference: str) -> str:
    """`ADDRESS.ATTRIBUTE` read from the workspace's state file (e.g. `aws_security_group.web.id`)."""
    address, _, attr = reference.rpartition(".")
    state = json.loads((workspace / "terraform.tfstate").read_text())
    for res in state.get("resources", []):
        base = ".".join(p for p in (res.get("module"), f"{res['type']}.{res['name']}" if res.get("mode") == "managed"
                                    else f"data.{res['type']}.{res['name']}") if p)
        for inst in res.get("instances", []):
            key = inst.get("index_key")
            full = base + (f"[{json.dumps(key)}]" if key is not None else "")
            if full == address:
                return str(inst["attributes"][attr])
    raise ScenarioBuildError(f"{address} not in the state of {workspace}")


# --------------------------------------------------------------------------
# terraform


class TerraformError(RuntimeError):
    pass


def provider_tf(region: str | None) -> str:
    """The provider block: fake credentials, no calls to real AWS.

    The endpoints come from AWS_ENDPOINT_URL (see :func:`terraform_env`), not from an
    ``endpoints {}`` block: validating that block costs the AWS provider about 4 s of CPU
    each time Terraform validates the provider configuration (2-3 times per command).
    """
    region_line = f'  region                      = "{region}"\n' if region else "  # region: from AWS_REGION\n"
    return (
        "# Written by tests/realtf.py for a local moto server (a fake AWS): fake credentials,\n"
        "# and AWS_ENDPOINT_URL=http://127.0.0.1:PORT in the environment points every service at moto.\n"
        'provider "aws" {\n'
        f"{region_line}"
        '  access_key                  = "test"\n'
        '  secret_key                  = "test"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "}\n"
    )


def provider_binary_dir(mirror: Path) -> Path:
    """The mirror's folder holding the AWS provider binary for this platform."""
    import platform

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    dirs = sorted(mirror.glob(f"registry.terraform.io/hashicorp/aws/*/{sys.platform}_{arch}"),
                  key=lambda d: tuple(int(x) if x.isdigit() else 0 for x in d.parent.name.split(".")))
    if not dirs:
        raise FileNotFoundError(f"no hashicorp/aws for {sys.platform}_{arch} in {mirror}")
    return dirs[-1]


def write_cli_configs(directory: Path, mirror: Path) -> tuple[Path, Path]:
    """Two CLI config files: (install, run).

    ``install`` has only the filesystem mirror: ``terraform init`` installs the provider from
    it as any user would (``.terraform`` and the lock file are real, so anyone can later run
    ``terraform show`` in the folder; see :func:`initialised_template`). ``run`` adds a dev override naming the very same
    binary in the mirror, so that plan/apply/show do not hash the 700 MB provider again
    (about 3.5 s of CPU each time); the provider that runs, and so the plan, is the same.
    """
    mirror_block = (
        f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/*/*"]\n  }\n'
    )
    install = directory / "install.tfrc"
    install.write_text("provider_installation {\n" + mirror_block + "}\n")
    run = directory / "run.tfrc"
    run.write_text(
        "provider_installation {\n"
        f'  dev_overrides {{\n    "hashicorp/aws" = {json.dumps(str(provider_binary_dir(mirror)))}\n  }}\n'
        + mirror_block + "}\n"
    )
    return install, run


def terraform_env(cli_config: Path, endpoint_url: str | None = None) -> dict[str, str]:
    """A clean environment: no AWS_* or TF_* from the caller, our CLI config, moto's URL."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_")) or k in ("TF_LOG", "TF_LOG_PATH")
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
        for key in ("NO_PROXY", "no_proxy"):  # never send moto's traffic to a proxy
            env[key] = ",".join(filter(None, [env.get(key), "127.0.0.1", "localhost"]))
    # The AWS provider spends much of each command in Go's garbage collector;
    # a lazier collector saves about a quarter of its CPU time and changes nothing else.
    env.setdefault("GOGC", "400")
    return env


class Workspace:
    """One root module folder and the terraform commands run in it."""

    def __init__(self, path: Path, terraform: str, env: Mapping[str, str]):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.terraform = terraform
        self.env = dict(env)
        self.log = self.path / "terraform.log"

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def _exec(self, args: tuple[str, ...], env: Mapping[str, str] | None, timeout: float) -> bytes:
        cmd = [self.terraform, *args]
        started = time.monotonic()
        proc = subprocess.run(
            cmd, cwd=self.path, env={**self.env, **(env or {})}, capture_output=True,
            stdin=subprocess.DEVNULL, timeout=timeout,
        )
        err = proc.stderr.decode(errors="replace")
        out = proc.stdout.decode(errors="replace") if args[:2] != ("show", "-json") else "(json)\n"
        with open(self.log, "a") as log:
            log.write(f"$ {' '.join(cmd)}  # exit {proc.returncode}, {time.monotonic() - started:.1f}s\n")
            log.write(out + err + "\n")
        if proc.returncode != 0:
            raise TerraformError(
                f"`terraform {' '.join(args)}` failed with exit {proc.returncode} in {self.path}\n"
                f"--- stderr ---\n{err[-4000:]}\n--- stdout (end) ---\n{out[-2000:]}"
            )
        return proc.stdout

    def run(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 300) -> str:
        """Run ``terraform ARGS`` here; return stdout; raise TerraformError (with stderr) on failure."""
        return self._exec(args, env, timeout).decode(errors="replace")

    @staticmethod
    def _var_args(variables: Mapping[str, str] | None) -> list[str]:
        return [f"-var={k}={v}" for k, v in (variables or {}).items()]

    def init(self) -> None:
        self.run("init", "-input=false", "-no-color")

    def apply(self, *extra_args: str, variables=None, env=None) -> None:
        self.run("apply", "-auto-approve", "-input=false", "-no-color",
                 *self._var_args(variables), *extra_args, env=env)

    def plan(self, out: str = "tfplan", extra_args: Iterable[str] = (), variables=None, env=None) -> Path:
        self.run("plan", "-input=false", "-no-color", f"-out={out}",
                 *self._var_args(variables), *extra_args, env=env)
        return self.path / out

    def show_json(self, planfile: str | Path = "tfplan", env=None) -> bytes:
        """``terraform show -json PLANFILE``, the bytes exactly as Terraform wrote them."""
        return self._exec(("show", "-json", "-no-color", str(planfile)), env, 300)


# --------------------------------------------------------------------------
# scenarios

# The steps a scenario.toml may list under [[before_apply]] and [[after_apply]]:
STEP_KINDS = {
    "register_image": "publish an image named so (optional: save_as = KEY, regions = [...])",
    "put_parameter": "write an SSM String parameter (value = '...', may use {KEY})",
    "create_snapshot": "snapshot a new volume, tagged Role = the given value (save_as = KEY)",
    "taint": "terraform taint ADDRESS",
    "state_value": "read ADDRESS.ATTRIBUTE from the state (save_as = KEY)",
    "authorize_ingress": "add a rule to security group ID outside Terraform (protocol, port, cidr)",
    "create_tags": "add tags = { K = V } to EC2 resource ID outside Terraform",
    "push_image": "push a small image to ECR repository NAME (created if missing) with tag = T; "
                  "save_as = KEY saves the digest, KEY_uri the repository URI @ digest",
    "overlay": "copy the scenario's sub-folder over the root module (a code change)",
    "wait": "sleep so many seconds",
    "apply_dir": "init and apply another root module, a sub-folder of the workspace (vars = {...}): another stack",
}
# Keys of scenario.toml besides the steps:
#   description, region, region_from_env (provider.tf without region; AWS_REGION set instead),
#   git_modules (folders served as git repositories: `source = "git::file://@GIT@/NAME?ref=v1"`),
#   from (reuse that scenario's applied workspace: no init/apply of its own),
#   [apply] vars/env, [plan] vars/env/args. Strings may use {KEY} for values saved by steps.


@dataclasses.dataclass(frozen=True)
class Built:
    """One scenario after its plan: the root module folder, plan.json and the binary plan."""

    dir: Path
    plan_json_path: Path
    planfile_path: Path
    name: str = ""
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)  # e.g. image ids: old, new

    def plan(self) -> dict:
        return json.loads(self.plan_json_path.read_bytes())


class ScenarioBuildError(RuntimeError):
    pass


def scenario_names() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS_DIR.glob("*/scenario.toml"))


def load_spec(name: str) -> dict:
    path = SCENARIOS_DIR / name / "scenario.toml"
    if not path.is_file():
        raise ScenarioBuildError(f"no scenario {name!r} (no {path})")
    return tomllib.loads(path.read_text())


def _fmt(value, values: Mapping[str, str]):
    if isinstance(value, str):
        return value.format_map(values)
    if isinstance(value, list):
        return [_fmt(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fmt(v, values) for k, v in value.items()}
    return value


_clock_lock = threading.Lock()
_last_created: dict[str, float] = {}


def _one_second_later(region: str, create):
    """Call CREATE() at least 1.1 s after the previous such call for REGION.

    moto stamps images and snapshots to the second, and most_recent needs a strictly
    later date.
    """
    with _clock_lock:
        wait = _last_created.get(region, -10.0) + 1.1 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        result = create()
        _last_created[region] = time.monotonic()
    return result


def create_snapshot(moto: MotoServer, role: str, region: str) -> str:
    """A snapshot tagged Role=ROLE of a new 1 GiB volume in REGION's first zone; returns its id."""
    ec2 = moto.client("ec2", region)
    volume = ec2.create_volume(AvailabilityZone=region + "a", Size=1)["VolumeId"]
    return ec2.create_snapshot(
        VolumeId=volume,
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "Role", "Value": role}]}],
    )["SnapshotId"]


_template_lock = threading.Lock()


def initialised_template(workdir: Path, terraform: str) -> Path:
    """WORKDIR/init: one real ``terraform init`` from the mirror, made once per WORKDIR.

    Scenarios copy its ``.terraform`` (a link into the mirror) and lock file, and run
    ``terraform get`` for their modules: init hashes the 700 MB provider (~4 s of CPU),
    which need not happen once per scenario.
    """
    template = Path(workdir) / "init"
    with _template_lock:
        if not (template / ".terraform.lock.hcl").exists():
            ws = Workspace(template, terraform, terraform_env(Path(workdir) / "install.tfrc"))
            ws.write("versions.tf", 'terraform {\n  required_providers {\n'
                                    '    aws = { source = "hashicorp/aws" }\n  }\n}\n')
            ws.init()
    return template


def _git_modules(folders: list[str], src: Path, dest: Path, repos: Path) -> None:
    """Each folder of the scenario as a git repository under REPOS (tag `v1`), and `@GIT@` in the
    workspace's .tf files replaced by REPOS: `source = "git::file://@GIT@/ec2?ref=v1"` makes
    `terraform get` install the module into .terraform/modules, like a registry or git module."""
    import subprocess

    git_env = {**os.environ, "GIT_AUTHOR_NAME": "realtf", "GIT_AUTHOR_EMAIL": "realtf@example.invalid",
               "GIT_COMMITTER_NAME": "realtf", "GIT_COMMITTER_EMAIL": "realtf@example.invalid"}
    for folder in folders:
        repo = repos / Path(folder).name
        if not (repo / ".git").exists():
            shutil.copytree(src / folder, repo, dirs_exist_ok=True)
            for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "module"], ["tag", "v1"]):
                subprocess.run(["git", *args], cwd=repo, env=git_env, check=True, capture_output=True)
    for tf in dest.rglob("*.tf"):
        text = tf.read_text()
        if "@GIT@" in text:
            tf.write_text(text.replace("@GIT@", str(repos)))


def _copy_config(src: Path, dest: Path) -> None:
    """The scenario's .tf files and sub-folders, without scenario.toml and after/."""
    shutil.copytree(src, dest, dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if Path(d) == src and n in ("scenario.toml", "after")])


def _copy_applied(base: Path, dest: Path, keep_code: bool) -> None:
    """Another scenario's initialised, applied workspace: state and .terraform, and its code
    only when KEEP_CODE (the derived scenario has no .tf files of its own)."""
    keep = {".terraform", ".terraform.lock.hcl", "terraform.tfstate"}

    def ignore(d: str, names: list[str]) -> list[str]:
        if Path(d) != base:
            return []
        if keep_code:
            return [n for n in names if n in ("tfplan", "plan.json", "terraform.log")]
        return [n for n in names if n not in keep]

    shutil.copytree(base, dest, symlinks=True, ignore=ignore)


def _run_step(step: dict, ws: Workspace, src: Path, moto: MotoServer, region: str,
              values: dict[str, str], env: Mapping[str, str]) -> None:
    step = _fmt(step, values)
    kind = next((k for k in STEP_KINDS if k in step), None)
    if kind == "register_image":
        for i, reg in enumerate(step.get("regions", [region])):
            image_id = _one_second_later(reg, lambda reg=reg: register_image(moto, step["register_image"], reg))
            if "save_as" in step:
                values[f"{step['save_as']}@{reg}"] = image_id
                if i == 0:
                    values[step["save_as"]] = image_id
    elif kind == "create_snapshot":
        snapshot_id = _one_second_later(region, lambda: create_snapshot(moto, step["create_snapshot"], region))
        if "save_as" in step:
            values[step["save_as"]] = snapshot_id
    elif kind == "put_parameter":
        put_parameter(moto, step["put_parameter"], step["value"], step.get("region", region))
    elif kind == "taint":
        ws.run("taint", "-no-color", step["taint"], env=env)
    elif kind == "state_value":
        values[step["save_as"]] = state_value(ws.path, step["state_value"])
    elif kind == "authorize_ingress":
        authorize_ingress(moto, step["authorize_ingress"], step.get("protocol", "tcp"), int(step["port"]),
                          step["cidr"], step.get("region", region))
    elif kind == "create_tags":
        create_tags(moto, step["create_tags"], step["tags"], step.get("region", region))
    elif kind == "push_image":
        digest, uri = push_image(moto, step["push_image"], step["tag"], step.get("region", region))
        if "save_as" in step:
            values[step["save_as"]] = digest
            values[step["save_as"] + "_uri"] = f"{uri}@{digest}"
    elif kind == "overlay":
        shutil.copytree(src / step["overlay"], ws.path, dirs_exist_ok=True)
    elif kind == "wait":
        time.sleep(float(step["wait"]))
    elif kind == "apply_dir":
        other = Workspace(ws.path / step["apply_dir"], ws.terraform, ws.env)
        if not (other.path / ".terraform").exists():
            other.init()
        other.apply(variables=step.get("vars"))
    else:
        raise ScenarioBuildError(f"unknown step {step!r}; known: {', '.join(STEP_KINDS)}")


def build_scenario(name: str, moto: MotoServer, workdir: Path, base: Built | None = None) -> Built:
    """Build one scenario in WORKDIR/NAME: copy, provider.tf, init (see initialised_template),
    steps, apply, steps, plan, show.

    A scenario with ``from = "other"`` starts from a copy of the other scenario's applied
    workspace (``base``, built first when not given) and skips init and apply.
    """
    spec = load_spec(name)
    src = SCENARIOS_DIR / name
    workdir = Path(workdir)
    dest = workdir / name
    if dest.exists():
        shutil.rmtree(dest)
    run_config = workdir / "run.tfrc"
    if not run_config.exists():
        write_cli_configs(workdir, find_mirror())
    terraform = find_terraform()
    region = spec["region"]
    from_env = spec.get("region_from_env", False)
    env = terraform_env(run_config, moto.url)
    if from_env:
        env["AWS_REGION"] = region

    if spec.get("from"):
        base = base or build_scenario(spec["from"], moto, workdir)
        _copy_applied(base.dir, dest, keep_code=not any(src.glob("*.tf")))
        values = dict(base.values)
    else:
        values = {}
    ws = Workspace(dest, terraform, env)
    _copy_config(src, dest)
    ws.write("provider.tf", provider_tf(None if from_env else region))
    if spec.get("git_modules"):
        _git_modules(spec["git_modules"], src, dest, workdir / "git" / name)

    if not spec.get("from"):
        template = initialised_template(workdir, terraform)
        shutil.copytree(template / ".terraform", dest / ".terraform", symlinks=True)
        shutil.copy(template / ".terraform.lock.hcl", dest)
        ws.run("get", "-no-color")
        for step in spec.get("before_apply", []):
            _run_step(step, ws, src, moto, region, values, {})
        apply = _fmt(spec.get("apply", {}), values)
        ws.apply(variables=apply.get("vars"), env=apply.get("env"))
    for step in spec.get("after_apply", []):
        _run_step(step, ws, src, moto, region, values, {})

    plan = _fmt(spec.get("plan", {}), values)
    planfile = ws.plan("tfplan", plan.get("args", []), variables=plan.get("vars"), env=plan.get("env"))
    plan_json = dest / "plan.json"
    plan_json.write_bytes(ws.show_json(planfile, env=plan.get("env")))
    (dest / "values.json").write_text(json.dumps(values))
    return Built(dest, plan_json, planfile, name, values)


def rerun(built: Built, moto: MotoServer, workdir: Path, name: str,
          commands: Iterable[Iterable[str]] = (), edit=None, plan_args: Iterable[str] = ()) -> Built:
    """A copy of a built scenario's workspace (state, .terraform, code) in WORKDIR/NAME: run EDIT(path)
    on it (e.g. `replace-guard fix --write`), then each terraform COMMAND (e.g. ("state", "rm", ADDR)),
    then plan again against the same moto state. The plan shows what the change does."""
    dest = Path(workdir) / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(built.dir, dest, symlinks=True,
                    ignore=lambda d, names: [n for n in names if n in ("tfplan", "plan.json", "terraform.log")])
    spec = load_spec(built.name) if built.name else {}
    configs = built.dir.parent  # the build's own CLI config files
    if not (configs / "run.tfrc").exists():
        write_cli_configs(configs, find_mirror())
    env = terraform_env(configs / "run.tfrc", moto.url)
    if spec.get("region_from_env"):
        env["AWS_REGION"] = spec["region"]
    ws = Workspace(dest, find_terraform() or "terraform", env)
    if edit is not None:
        edit(dest)
    for command in commands:
        ws.run(*command)
    plan = _fmt(spec.get("plan", {}), built.values)
    planfile = ws.plan("tfplan", [*plan.get("args", []), *plan_args], variables=plan.get("vars"), env=plan.get("env"))
    plan_json = dest / "plan.json"
    plan_json.write_bytes(ws.show_json(planfile, env=plan.get("env")))
    return Built(dest, plan_json, planfile, name, built.values)


def load_built(workdir: Path) -> tuple[dict[str, Built], dict[str, str]]:
    """Scenarios built earlier into WORKDIR (`python tests/realtf.py --workdir DIR`), for a quick
    test run while developing: REPLACE_GUARD_REALTF_DIR=DIR. Tests that talk to moto cannot use them."""
    built: dict[str, Built] = {}
    for name in scenario_names():
        dest = Path(workdir) / name
        if (dest / "plan.json").is_file() and (dest / "values.json").is_file():
            values = json.loads((dest / "values.json").read_text())
            built[name] = Built(dest, dest / "plan.json", dest / "tfplan", name, values)
    missing = {n: "not built in REPLACE_GUARD_REALTF_DIR" for n in scenario_names() if n not in built}
    return built, missing


def build_all(moto: MotoServer, workdir: Path, names: Iterable[str] | None = None,
              jobs: int | None = None) -> tuple[dict[str, Built], dict[str, str]]:
    """Build scenarios in parallel threads; returns (built, failures as text by name).

    A scenario with ``from`` starts when its base is built (the base is added if missing).
    """
    wanted = list(names or scenario_names())
    specs: dict[str, dict] = {}
    while wanted:
        n = wanted.pop()
        if n not in specs:
            specs[n] = load_spec(n)
            if specs[n].get("from"):
                wanted.append(specs[n]["from"])
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    write_cli_configs(workdir, find_mirror())
    initialised_template(workdir, find_terraform())
    jobs = jobs or int(os.environ.get("REPLACE_GUARD_TF_JOBS", "4"))
    built: dict[str, Built] = {}
    failed: dict[str, str] = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        pending = {}

        def submit(n: str) -> None:
            base = built.get(specs[n].get("from", ""))
            pending[pool.submit(build_scenario, n, moto, workdir, base)] = n

        for n in sorted(specs):
            if not specs[n].get("from"):
                submit(n)
        while pending:
            done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                n = pending.pop(fut)
                try:
                    built[n] = fut.result()
                except Exception as exc:  # noqa: BLE001 - reported per scenario
                    failed[n] = f"{type(exc).__name__}: {exc}"
                for child in sorted(c for c, s in specs.items() if s.get("from") == n):
                    if n in built:
                        submit(child)
                    else:
                        failed[child] = f"its base scenario {n!r} failed to build"
    return built, failed


class RealPlans(Mapping):
    """name -> Built; a scenario that failed to build raises ScenarioBuildError when asked for."""

    def __init__(self, built: Mapping[str, Built], failed: Mapping[str, str]):
        self.built = dict(built)
        self.failed = dict(failed)

    def __getitem__(self, name: str) -> Built:
        if name in self.failed:
            raise ScenarioBuildError(f"scenario {name!r} did not build:\n{self.failed[name]}")
        return self.built[name]

    def __iter__(self):
        return iter(sorted({*self.built, *self.failed}))

    def __len__(self) -> int:
        return len({*self.built, *self.failed})


if __name__ == "__main__":  # python tests/realtf.py [NAME...]: build and report
    import argparse

    parser = argparse.ArgumentParser(description="Build real plans for the scenarios.")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--workdir", help="default: a new temporary folder")
    parser.add_argument("--jobs", type=int)
    a = parser.parse_args()
    if reason := skip_reason():
        sys.exit(reason)
    import tempfile

    workdir = Path(a.workdir or tempfile.mkdtemp(prefix="realtf-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with MotoServer(workdir / "moto.log") as server:
        ok, bad = build_all(server, workdir, a.names or None, a.jobs)
    for n, b in sorted(ok.items()):
        print(f"ok   {n}: {b.plan_json_path}")
    for n, why in sorted(bad.items()):
        print(f"FAIL {n}: {why}")
    print(f"{len(ok)} built, {len(bad)} failed in {time.monotonic() - t0:.0f}s")
    sys.exit(1 if bad else 0)
