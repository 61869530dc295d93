"""A hostile repository cannot hang, exhaust or mislead the `.tf` reader (guard/sources.py).

Most cases run the real command line in a fresh process (`python -m guard check plan.json -C DIR`)
with a generous timeout as a hang guard, and check what a reviewer reads in the report: the
chain's files and lines, the notes, and that nothing from outside the repository is printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from handmade import ami_drift_plan

from guard.format import FORMATS

REPO = Path(__file__).resolve().parents[1]

DATA_TF = 'data "aws_ami" "al2" {\n  most_recent = true\n  owners      = ["self"]\n}\n'
INSTANCE_TF = 'resource "aws_instance" "app" {\n  ami           = data.aws_ami.al2.id\n  instance_type = "t3.micro"\n}\n'


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run(cwd: Path, plan: dict[str, Any], *args: str, fmt: str = "json") -> subprocess.CompletedProcess:
    (cwd / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "guard", "check", "plan.json", "--format", fmt, *args],
                          check=False, capture_output=True, cwd=cwd, timeout=120, env=_env())


def report(cwd: Path, plan: dict[str, Any], *args: str) -> dict[str, Any]:
    proc = run(cwd, plan, *args)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, (proc.returncode, err, proc.stdout[-2000:])
    assert "Traceback" not in err and "internal error" not in err, err
    return json.loads(proc.stdout)


def chain_of(doc: dict[str, Any], address: str = "aws_instance.app") -> list[tuple[str, str | None]]:
    finding = next(f for f in doc["findings"] if f["address"] == address)
    return [(link["ref"], "{file}:{line}".format(**link["location"]) if link.get("location") else None)
            for link in finding["chain"]]


# -- files that are not plain .tf files --------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fifo_and_dev_zero_are_skipped_with_a_note(tmp_path: Path):
    """`fifo.tf` (a named pipe) blocks forever when opened; `zero.tf -> /dev/zero` never ends.
    Both lie between the files that hold the chain's blocks, so a scan passes them."""
    os.mkfifo(tmp_path / "fifo.tf")
    (tmp_path / "zero.tf").symlink_to("/dev/zero")
    (tmp_path / "service.tf").write_text(INSTANCE_TF)
    (tmp_path / "zz_data.tf").write_text(DATA_TF)
    doc = report(tmp_path, ami_drift_plan(), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "service.tf:2"), ("data.aws_ami.al2", "zz_data.tf:1")]
    notes = "\n".join(doc["notes"])
    assert "fifo.tf: not a regular file (a named pipe)" in notes
    assert "zero.tf: not a regular file (a device)" in notes


def test_file_over_10_mb_is_skipped_with_a_note(tmp_path: Path):
    (tmp_path / "big.tf").write_bytes(b"# filler\n" * (11 * 1024 * 1024 // 9))
    (tmp_path / "service.tf").write_text(INSTANCE_TF)
    (tmp_path / "zz_data.tf").write_text(DATA_TF)
    doc = report(tmp_path, ami_drift_plan(), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "service.tf:2"), ("data.aws_ami.al2", "zz_data.tf:1")]
    assert any(note.startswith("big.tf: larger than 10 MB") for note in doc["notes"]), doc["notes"]


def test_links_inside_the_repository_are_read_and_links_out_of_it_are_not(tmp_path: Path):
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    (repo / "shared").mkdir()
    (repo / "live").mkdir()
    outside.mkdir()
    (repo / "shared" / "instance.tf").write_text(INSTANCE_TF.replace("data.aws_ami.al2.id", "local.app_ami"))
    (repo / "live" / "instance.tf").symlink_to(repo / "shared" / "instance.tf")
    (repo / "live" / "data.tf").write_text(DATA_TF)
    (outside / "secret.tf").write_text('locals {\n  app_ami = data.aws_ami.al2.id # TOKEN-abc123\n}\n')
    (repo / "live" / "locals.tf").symlink_to(outside / "secret.tf")
    proc = run(repo / "live", ami_drift_plan(via_local=True), "-C", ".")
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr
    assert "TOKEN-abc123" not in out
    doc = json.loads(out)
    chain = chain_of(doc)
    assert chain[0][0] == "aws_instance.app.ami" and chain[0][1] is not None and chain[0][1].endswith("instance.tf:2")
    assert chain[1] == ("local.app_ami", None)
    assert "locals.tf: a link to a file outside the repository; not read" in doc["notes"]


# -- the block's extent and the cost of parsing -------------------------------------------------
def _filler(n: int) -> str:
    return "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-{i}"\n  tags = {{\n'
                   f'    Name = "b{i}-${{var.env}}"\n  }}\n}}\n\n' for i in range(n))


def test_a_large_file_is_parsed_block_by_block_with_true_lines(tmp_path: Path, monkeypatch):
    """python-hcl2 reads about 2,000 lines a second: a 2 MB file must not be parsed whole."""
    import hcl2

    from guard.sources import SourceTree

    seen: list[int] = []
    real = hcl2.loads

    def loads(text: str, **kw: Any) -> Any:
        seen.append(len(text))
        return real(text, **kw)

    monkeypatch.setattr(hcl2, "loads", loads)
    head = _filler(12_000)  # about 1 MB before the block, and as much after it
    (tmp_path / "main.tf").write_text(head + INSTANCE_TF + _filler(12_000))
    assert (tmp_path / "main.tf").stat().st_size > 2_000_000
    line = head.count("\n") + 1
    tree = SourceTree(tmp_path)
    where, node = tree.block(tmp_path, "resource", "aws_instance", "app")
    assert (where.line, where.end_line) == (line, line + 3)
    assert node["ami"] == "${data.aws_ami.al2.id}" and node["__start_line__"] == line
    assert tree.attr_line(where, ["instance_type"]) == line + 2
    assert seen and max(seen) < 500, seen
    assert tree.errors == []


def test_a_block_too_large_to_parse_keeps_its_location_and_says_so(tmp_path: Path):
    lines = "".join(f'    "key{i}" = "value{i}"\n' for i in range(6000))
    (tmp_path / "main.tf").write_text(
        DATA_TF + 'resource "aws_instance" "app" {\n  ami = data.aws_ami.al2.id\n  tags = {\n' + lines + "  }\n}\n")
    doc = report(tmp_path, ami_drift_plan(), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "main.tf:6"), ("data.aws_ami.al2", "main.tf:1")]
    assert any('main.tf:5: resource "aws_instance" "app" is too large to read' in n for n in doc["notes"]), doc["notes"]


def test_strings_heredocs_and_comments_do_not_fool_the_scan(tmp_path: Path):
    """A heredoc, a string and a comment each hold text that looks like the traced block."""
    decoy = (
        'resource "aws_launch_template" "lt" {\n'                # 1
        '  user_data = <<-EOT\n'                                # 2
        '    resource "aws_instance" "app" {\n'                 # 3
        '      ami = "ami-fake"\n'                              # 4
        '    }\n'                                               # 5
        '  EOT\n'                                               # 6
        '  description = "}\\" resource \\"aws_instance\\" {"\n'  # 7
        '  name = "${jsonencode({ a = "}" })}"\n'               # 8
        '}\n'                                                   # 9
        '/*\n'                                                  # 10
        'resource "aws_instance" "app" {\n'                     # 11
        '  ami = "ami-commented-out"\n'                         # 12
        '}\n'                                                   # 13
        '*/\n'                                                  # 14
        '# resource "aws_instance" "app" {\n'                   # 15
    )
    (tmp_path / "main.tf").write_text(decoy + INSTANCE_TF + "\n" + DATA_TF)
    doc = report(tmp_path, ami_drift_plan(), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "main.tf:17"), ("data.aws_ami.al2", "main.tf:21")]
    assert doc["findings"][0]["chain"][0]["expression"] == "ami = data.aws_ami.al2.id"


def test_attribute_line_is_found_at_the_right_level(tmp_path: Path):
    from guard.sources import SourceTree

    (tmp_path / "main.tf").write_text(
        'resource "aws_instance" "app" {\n'        # 1
        '  root_block_device {\n'                   # 2
        '    tags = { Name = "disk" }\n'            # 3
        '  }\n'                                     # 4
        '  user_data = <<-EOT\n'                    # 5
        '    tags = nope\n'                         # 6
        '  EOT\n'                                   # 7
        '  tags = {\n'                              # 8
        '    Name = "app"\n'                        # 9
        '  }\n'                                     # 10
        '}\n')
    tree = SourceTree(tmp_path)
    where, _ = tree.block(tmp_path, "resource", "aws_instance", "app")
    assert tree.attr_line(where, ["tags"]) == 8
    assert tree.attr_line(where, ["tags", "Name"]) == 9
    assert tree.attr_line(where, ["root_block_device", "tags"]) == 3


def test_a_local_is_read_from_its_own_attribute(tmp_path: Path, monkeypatch):
    """Only the locals block that defines the name is read, and only that attribute is parsed."""
    import hcl2

    seen: list[str] = []
    real = hcl2.loads

    def loads(text: str, **kw: Any) -> Any:
        seen.append(text)
        return real(text, **kw)

    monkeypatch.setattr(hcl2, "loads", loads)
    big_locals = "locals {\n" + "".join(f'  other{i} = "{"x" * 40}"\n' for i in range(3000)) + "}\n"
    (tmp_path / "a_locals.tf").write_text(big_locals)
    (tmp_path / "main.tf").write_text(
        DATA_TF + "\nlocals {\n  first = 1\n  app_ami = lookup({\n    a = data.aws_ami.al2.id\n  }, \"a\")\n"
        "  last = 2\n}\n\n" + INSTANCE_TF.replace("data.aws_ami.al2.id", "local.app_ami"))
    from guard.sources import SourceTree

    tree = SourceTree(tmp_path)
    where, value = tree.local(tmp_path, "app_ami")
    assert (where.file.name, where.line) == ("main.tf", 8)
    assert "data.aws_ami.al2.id" in json.dumps(value)
    assert seen and all(len(text) < 200 for text in seen), [len(t) for t in seen]
    doc = report(tmp_path, ami_drift_plan(via_local=True), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "main.tf:15"), ("local.app_ami", "main.tf:8"),
                             ("data.aws_ami.al2", "main.tf:1")]


# -- paths that are not text -------------------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path, fmt: str):
    try:
        with open(os.path.join(os.fsencode(tmp_path), b"m\xffain.tf"), "wb") as fh:
            fh.write((DATA_TF + INSTANCE_TF).encode())
    except OSError:
        pytest.skip("this file system takes UTF-8 names only")
    proc = run(tmp_path, ami_drift_plan(), "-C", ".", fmt=fmt)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, err
    assert "internal error" not in err and "Traceback" not in err
    out = proc.stdout.decode("utf-8")  # valid UTF-8
    if fmt == "json":
        assert chain_of(json.loads(out)) == [("aws_instance.app.ami", "m\\xffain.tf:6"),
                                             ("data.aws_ami.al2", "m\\xffain.tf:1")]
    elif fmt in ("sarif", "markdown", "text", "github", "codequality"):
        assert re.search(r"m(\\+|%5C)xffain\\*\.tf", out), out[-2000:]  # the byte, escaped as the format needs


# -- module folders ----------------------------------------------------------------------------
MODULE_TF = ('variable "ami_id" {}\n\nresource "aws_instance" "this" {\n'
             '  ami           = var.ami_id # TOKEN-abc123\n  instance_type = "t3.micro"\n}\n')


def _module_plan(source: str) -> dict[str, Any]:
    plan = ami_drift_plan("module.app.aws_instance.this", module="app")
    plan["configuration"]["root_module"]["module_calls"]["app"]["source"] = source
    return plan


def _module_repo(tmp_path: Path, git: bool = True) -> Path:
    repo = tmp_path / "repo"
    (repo / "live").mkdir(parents=True)
    if git:
        (repo / ".git").mkdir()
    (repo / "live" / "main.tf").write_text(
        DATA_TF + '\nmodule "app" {\n  source = "../modules/app"\n  ami_id = data.aws_ami.al2.id\n}\n')
    (repo / "modules" / "app").mkdir(parents=True)
    (repo / "modules" / "app" / "main.tf").write_text(MODULE_TF.replace(" # TOKEN-abc123", ""))
    (tmp_path / "outside" / "app").mkdir(parents=True)
    (tmp_path / "outside" / "app" / "main.tf").write_text(MODULE_TF)
    return repo / "live"


def test_a_module_elsewhere_in_the_git_repository_is_read(tmp_path: Path):
    live = _module_repo(tmp_path)
    doc = report(live, _module_plan("../modules/app"), "-C", ".")
    chain = chain_of(doc, "module.app.aws_instance.this")
    assert chain[0][0] == "aws_instance.this.ami" and chain[0][1].endswith("repo/modules/app/main.tf:4")
    assert doc["notes"] == []


@pytest.mark.parametrize("how", ["up", "dot-up", "up-to-the-filesystem-root"])
def test_a_module_outside_the_repository_is_not_read(tmp_path: Path, how: str):
    live = _module_repo(tmp_path)
    source = {"up": "../../outside/app", "dot-up": "./../../outside/app",
              "up-to-the-filesystem-root": "../" * 40 + str(tmp_path / "outside" / "app").lstrip("/")}[how]
    proc = run(live, _module_plan(source), "-C", ".")
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr
    assert "TOKEN-abc123" not in out
    doc = json.loads(out)
    assert chain_of(doc, "module.app.aws_instance.this")[0] == ("aws_instance.this.ami", None)
    assert any(n.startswith("module.app: its folder ") and "is outside the repository" in n for n in doc["notes"])


def test_without_git_the_root_module_folder_is_the_bound(tmp_path: Path):
    live = _module_repo(tmp_path, git=False)
    if any((parent / ".git").exists() for parent in live.parents):
        pytest.skip("the temporary folder lies inside a git repository")
    doc = report(live, _module_plan("../modules/app"), "-C", ".")
    assert chain_of(doc, "module.app.aws_instance.this")[0] == ("aws_instance.this.ami", None)
    assert any("is outside the repository" in n for n in doc["notes"])


@pytest.mark.parametrize("where", ["inside", "outside", "absolute"])
def test_modules_json_is_followed_only_inside_the_repository(tmp_path: Path, where: str):
    live = _module_repo(tmp_path)
    installed = live / ".terraform" / "modules" / "app"
    installed.mkdir(parents=True)
    (installed / "main.tf").write_text(MODULE_TF.replace(" # TOKEN-abc123", ""))
    folder = {"inside": ".terraform/modules/app", "outside": "../../outside/app",
              "absolute": str(tmp_path / "outside" / "app")}[where]
    (live / ".terraform" / "modules" / "modules.json").write_text(json.dumps(
        {"Modules": [{"Key": "", "Source": "", "Dir": "."},
                     {"Key": "app", "Source": "registry.terraform.io/acme/app/aws", "Dir": folder}]}))
    proc = run(live, _module_plan("registry.terraform.io/acme/app/aws"), "-C", ".")
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr
    assert "TOKEN-abc123" not in out
    first = chain_of(json.loads(out), "module.app.aws_instance.this")[0]
    if where == "inside":
        assert first == ("aws_instance.this.ami", ".terraform/modules/app/main.tf:4")
    else:
        assert first == ("aws_instance.this.ami", None)
        assert any("is outside the repository" in n for n in json.loads(out)["notes"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_modules_json_that_is_a_fifo_does_not_hang(tmp_path: Path):
    live = _module_repo(tmp_path)
    (live / ".terraform" / "modules").mkdir(parents=True)
    os.mkfifo(live / ".terraform" / "modules" / "modules.json")
    doc = report(live, _module_plan("registry.terraform.io/acme/app/aws"), "-C", ".")
    assert chain_of(doc, "module.app.aws_instance.this")[0] == ("aws_instance.this.ami", None)


# -- OpenTofu and the JSON syntax --------------------------------------------------------------
def test_a_tofu_file_hides_the_tf_file_of_the_same_name(tmp_path: Path):
    (tmp_path / "main.tf").write_text(INSTANCE_TF.replace("data.aws_ami.al2.id", '"ami-from-tf"') + DATA_TF)
    (tmp_path / "main.tofu").write_text("\n\n" + DATA_TF + "\n" + INSTANCE_TF)
    doc = report(tmp_path, ami_drift_plan(), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "main.tofu:9"), ("data.aws_ami.al2", "main.tofu:3")]


def test_tofu_files_alone_are_read(tmp_path: Path):
    (tmp_path / "instance.tofu").write_text(INSTANCE_TF)
    (tmp_path / "data.tofu").write_text(DATA_TF)
    doc = report(tmp_path, ami_drift_plan(), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "instance.tofu:2"), ("data.aws_ami.al2", "data.tofu:1")]


def test_json_syntax_files_are_read(tmp_path: Path):
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "locals": {"app_ami": "${data.aws_ami.al2.id}"},
        "resource": {"aws_instance": {"app": {"ami": "${local.app_ami}", "instance_type": "t3.micro",
                                              "lifecycle": {"create_before_destroy": True}}}},
    }, indent=2))
    (tmp_path / "broken.tf.json").write_text('{"data": {')  # scanned before zz.tf.json
    (tmp_path / "zz.tf.json").write_text(json.dumps(
        {"data": {"aws_ami": {"al2": {"most_recent": True, "owners": ["self"]}}}}, indent=2))
    doc = report(tmp_path, ami_drift_plan(via_local=True), "-C", ".")
    assert chain_of(doc) == [("aws_instance.app.ami", "main.tf.json:8"), ("local.app_ami", "main.tf.json:3"),
                             ("data.aws_ami.al2", "zz.tf.json:4")]
    assert "broken.tf.json: not valid JSON; not read" in doc["notes"]


def test_where_gives_the_location_without_parsing(tmp_path: Path, monkeypatch):
    import hcl2

    from guard.sources import SourceTree

    calls: list[int] = []
    monkeypatch.setattr(hcl2, "loads", lambda text, **kw: calls.append(len(text)))
    (tmp_path / "main.tf").write_text(DATA_TF + "\n" + INSTANCE_TF)
    tree = SourceTree(tmp_path)
    where = tree.where(tmp_path, "resource", "aws_instance", "app")
    assert where is not None and (where.file.name, where.line, where.end_line) == ("main.tf", 6, 9)
    assert tree.attr_line(where, ["instance_type"]) == 8
    assert tree.where(tmp_path, "resource", "aws_instance", "nope") is None
    assert calls == []


def test_the_scan_survives_any_text():
    """Broken HCL (unclosed strings, heredocs, comments, stray brackets) never raises anything but
    TooDeep, and the blocks found lie in order inside the text."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from guard import hclscan

    pieces = st.sampled_from(['resource "a" "b" {', "locals {", "}", "{", "[", "]", "(", ")", '"', "${", "%{",
                              "$${", "\\", "<<EOT\n", "<<-X\n", "EOT\n", "  X\n", "#", "//", "/*", "*/", "\n",
                              "\r\n", " = ", "x", "data \"d\" \"e\" {"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=60))
    def scan(parts: list[str]) -> None:
        text = "".join(parts)
        try:
            blocks = hclscan.top_level_blocks(text)
            depths = hclscan.line_depths(text, 0, len(text))
        except hclscan.TooDeep:
            return
        assert len(depths) == text.count("\n") + 1
        last = 0
        for blk in blocks:
            assert last <= blk.start < blk.end <= len(text) and 1 <= blk.line <= blk.end_line
            last = blk.end

    scan()


def test_crlf_files_and_a_file_nested_too_deep(tmp_path: Path, monkeypatch):
    from guard.sources import SourceTree

    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_bytes((DATA_TF + "\n" + INSTANCE_TF).replace("\n", "\r\n").encode())
    (tmp_path / "deep.tf").write_text('resource "aws_instance" "deep" {\n  x = ' + "[" * 5000 + "]" * 5000 + "\n}\n")
    tree = SourceTree(tmp_path)
    where, node = tree.block(tmp_path, "resource", "aws_instance", "app")
    assert (where.line, node["instance_type"]) == (6, "t3.micro")
    assert tree.attr_line(where, ["instance_type"]) == 8
    assert tree.line_text(where.file, 8) == 'instance_type = "t3.micro"'
    assert tree.block(tmp_path, "resource", "aws_instance", "deep") is None
    assert any(e.startswith("deep.tf:2: nests brackets or strings more than 256 deep") for e in tree.errors), tree.errors
