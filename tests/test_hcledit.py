"""guard.hcledit: the exact edits `replace-guard fix` makes in .tf files.

Every edited output is checked the way a user would: the exact new text, what each edit
reports, that Terraform itself (`terraform fmt -`) and python-hcl2 read the result, that a
second run changes nothing, and that the diff applies with `git apply` and `patch -p1`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import hcl2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import LarkError

from guard.findings import Edit
from guard.hcledit import (
    EditResult,
    EditSpec,
    HclEditError,
    apply,
    read_source,
    unified_diff,
    write_source,
)
from guard.values import hcl_string

TERRAFORM = shutil.which("terraform")
GIT = shutil.which("git")
PATCH = shutil.which("patch")
AMI = '"ami-0abc1234"'


def pin(line: int, attribute: str, find: str = "data.aws_ami.al2.id", text: str = AMI) -> EditSpec:
    return EditSpec("replace_reference", line, text, attribute=attribute, find=find)


def ignore(line: int, attribute: str = "ami") -> EditSpec:
    return EditSpec("ignore_changes", line, attribute)


def hcl2_loads(text: str) -> dict:
    # python-hcl2 reads neither a byte-order mark nor CRLF line ends (Terraform reads both,
    # which `terraform_accepts` checks on the exact bytes)
    return hcl2.loads(text.removeprefix("\ufeff").replace("\r\n", "\n"))


def terraform_accepts(text: str) -> tuple[bool, str]:
    assert TERRAFORM is not None
    proc = subprocess.run([TERRAFORM, "fmt", "-no-color", "-"], input=text.encode("utf-8"),
                          capture_output=True, timeout=60, check=False)
    return proc.returncode == 0, proc.stderr.decode("utf-8", "replace")


def hcl2_reads(text: str) -> bool:
    try:
        hcl2_loads(text)
    except LarkError:  # python-hcl2 7.x does not know every form Terraform reads (`${~ x ~}`)
        return False
    return True


def assert_valid(text: str, original: str | None = None) -> None:
    """Terraform parses it (when installed) and so does python-hcl2 (when it reads the original)."""
    if original is None or hcl2_reads(original):
        hcl2_loads(text)
    if TERRAFORM is not None:
        ok, err = terraform_accepts(text)
        assert ok, f"terraform fmt rejects the edited file:\n{err}\n---\n{text}"


def rerun(result: EditResult, edits: list[EditSpec]) -> EditResult:
    """The same edits on the edited text, at the lines where their argument or block went."""
    assert all(o.new_line is not None for o in result.outcomes)
    return apply(result.text, [dataclasses.replace(e, line=o.new_line) for e, o in zip(edits, result.outcomes, strict=True)])


def edit_ok(src: str, edits: list[EditSpec], expected: str) -> EditResult:
    """Apply, compare with the exact expected text, check it parses, and that a second run is a no-op."""
    result = apply(src, edits)
    assert [o.status for o in result.outcomes] == ["applied"] * len(edits), result.outcomes
    assert result.text == expected
    assert_valid(result.text, src)
    again = rerun(result, edits)
    assert again.text == result.text
    assert [o.status for o in again.outcomes] == ["in_place"] * len(edits), again.outcomes
    return result


def changed_lines(old: str, new: str) -> list[str]:
    return [ln for ln in unified_diff(old, new, "main.tf").splitlines()
            if ln.startswith(("-", "+")) and not ln.startswith(("---", "+++"))]


def test_terraform_is_installed_for_the_parse_checks():
    if TERRAFORM is None:
        pytest.skip("terraform is not on PATH: edited files are checked with python-hcl2 only")
    ok, _ = terraform_accepts('resource "a" "b" {\n  x = [\n}\n')
    assert not ok, "terraform fmt must reject a broken file for the checks to mean anything"


# ---------------------------------------------------------------------------------------------
# ignore_changes

def test_new_lifecycle_block_goes_before_the_closing_brace_with_the_block_indentation():
    src = ('resource "aws_instance" "web" {\n'
           '    ami           = data.aws_ami.al2.id # from the data source\n'
           '    instance_type = "t3.micro"\n'
           '}\n')
    r = edit_ok(src, [ignore(1)],
                'resource "aws_instance" "web" {\n'
                '    ami           = data.aws_ami.al2.id # from the data source\n'
                '    instance_type = "t3.micro"\n'
                '    lifecycle {\n'
                '        ignore_changes = [ami]\n'
                '    }\n'
                '}\n')
    assert r.outcomes[0].reason == "block at line 1: ignore_changes += ami"
    assert hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"]["lifecycle"][0]["ignore_changes"] == ["${ami}"]


def test_existing_lifecycle_block_gets_the_argument():
    src = ('resource "aws_instance" "web" {\n'
           '  ami = data.aws_ami.al2.id\n'
           '\n'
           '  lifecycle {\n'
           '    create_before_destroy = true # keep serving\n'
           '  }\n'
           '}\n')
    edit_ok(src, [ignore(1)],
            'resource "aws_instance" "web" {\n'
            '  ami = data.aws_ami.al2.id\n'
            '\n'
            '  lifecycle {\n'
            '    create_before_destroy = true # keep serving\n'
            '    ignore_changes = [ami]\n'
            '  }\n'
            '}\n')


def test_one_line_lifecycle_block_is_opened_up():
    src = ('resource "aws_instance" "web" {\n'
           '  ami = data.aws_ami.al2.id\n'
           '  lifecycle { create_before_destroy = true }\n'
           '}\n')
    edit_ok(src, [ignore(1)],
            'resource "aws_instance" "web" {\n'
            '  ami = data.aws_ami.al2.id\n'
            '  lifecycle {\n'
            '    create_before_destroy = true\n'
            '    ignore_changes = [ami]\n'
            '  }\n'
            '}\n')


def test_single_line_ignore_changes_list_is_extended():
    src = ('resource "aws_instance" "web" {\n'
           '  lifecycle {\n'
           '    ignore_changes = [tags, user_data] # set by the bootstrapper\n'
           '  }\n'
           '}\n')
    r = edit_ok(src, [ignore(1)], src.replace("[tags, user_data]", "[tags, user_data, ami]"))
    assert hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"]["lifecycle"][0]["ignore_changes"] == [
        "${tags}", "${user_data}", "${ami}"]


@pytest.mark.parametrize("before, after", [
    ("[]", "[ami]"),
    ("[ ]", "[ami]"),
    ("[tags,]", "[tags, ami,]"),
    ('["tags"]', '["tags", ami]'),
])
def test_single_line_list_shapes(before, after):
    src = f'resource "aws_instance" "web" {{\n  lifecycle {{\n    ignore_changes = {before}\n  }}\n}}\n'
    edit_ok(src, [ignore(1)], src.replace(before, after))


def test_multi_line_list_with_trailing_comma_and_comments():
    src = ('resource "aws_instance" "web" {\n'
           '  lifecycle {\n'
           '    ignore_changes = [\n'
           '      # the bootstrapper sets these\n'
           '      tags,      # Name is set later\n'
           '      user_data, /* rendered per boot */\n'
           '    ]\n'
           '  }\n'
           '}\n')
    edit_ok(src, [ignore(1)], src.replace("/* rendered per boot */\n", "/* rendered per boot */\n      ami,\n"))


def test_multi_line_list_without_trailing_comma_gets_one():
    src = ('resource "aws_instance" "web" {\n'
           '  lifecycle {\n'
           '    ignore_changes = [\n'
           '      tags # Name is set later\n'
           '    ]\n'
           '  }\n'
           '}\n')
    r = edit_ok(src, [ignore(1)], src.replace("      tags # Name is set later\n",
                                              "      tags, # Name is set later\n      ami\n"))
    assert changed_lines(src, r.text) == ["-      tags # Name is set later", "+      tags, # Name is set later",
                                          "+      ami"]


def test_list_closed_on_the_last_element_line():
    src = ('resource "aws_instance" "web" {\n'
           '  lifecycle {\n'
           '    ignore_changes = [\n'
           '      tags]\n'
           '  }\n'
           '}\n')
    edit_ok(src, [ignore(1)], src.replace("tags]", "tags, ami]"))


@pytest.mark.parametrize("value", ["all", "[ami]", '["ami"]', "[\n      tags,\n      ami, # the image\n    ]",
                                   "[tags, ami]"])
def test_ignore_changes_already_covering_the_attribute_changes_nothing(value):
    src = f'resource "aws_instance" "web" {{\n  lifecycle {{\n    ignore_changes = {value}\n  }}\n}}\n'
    r = apply(src, [ignore(1)])
    assert r.text == src
    assert r.outcomes[0].status == "in_place"
    assert not r.changed
    if value == "all":
        assert r.outcomes[0].reason == "ignore_changes = all at line 3 already covers ami"


def test_one_line_resource_block_becomes_multi_line():
    src = 'resource "aws_instance" "a" { ami = "ami-1" }\n'
    r = edit_ok(src, [ignore(1)],
                'resource "aws_instance" "a" {\n'
                '  ami = "ami-1"\n'
                '  lifecycle {\n'
                '    ignore_changes = [ami]\n'
                '  }\n'
                '}\n')
    assert hcl2_loads(r.text)["resource"][0]["aws_instance"]["a"]["ami"] == "ami-1"


@pytest.mark.parametrize("src", ['resource "aws_instance" "a" {}\n', 'resource "aws_instance" "a" {   }\n'])
def test_empty_one_line_block(src):
    edit_ok(src, [ignore(1)], 'resource "aws_instance" "a" {\n  lifecycle {\n    ignore_changes = [ami]\n  }\n}\n')


def test_one_line_block_indented_inside_a_file_with_comments_around():
    src = ('# instances\n'
           '  resource "aws_instance" "a" { ami = data.aws_ami.al2.id /* pinned later */ } # tail\n'
           '// end\n')
    edit_ok(src, [ignore(2), pin(2, "ami")],
            '# instances\n'
            '  resource "aws_instance" "a" {\n'
            f'    ami = {AMI} /* pinned later */\n'
            '    lifecycle {\n'
            '      ignore_changes = [ami]\n'
            '    }\n'
            '  } # tail\n'
            '// end\n')


def test_nested_blocks_and_a_dynamic_lifecycle_are_not_the_resource_lifecycle():
    src = ('resource "aws_instance" "web" {\n'
           '  ami = data.aws_ami.al2.id\n'
           '  root_block_device {\n'
           '    volume_size = 20\n'
           '    tags = { lifecycle = "keep" }\n'
           '  }\n'
           '  dynamic "ebs_block_device" {\n'
           '    for_each = var.disks\n'
           '    content {\n'
           '      device_name = ebs_block_device.value\n'
           '      lifecycle { ignore_changes = [tags] }\n'
           '    }\n'
           '  }\n'
           '}\n')
    r = edit_ok(src, [ignore(1)], src[:-2] + '  lifecycle {\n    ignore_changes = [ami]\n  }\n}\n')
    assert changed_lines(src, r.text) == ["+  lifecycle {", "+    ignore_changes = [ami]", "+  }"]


def test_heredoc_with_braces_and_lifecycle_text_before_the_closing_brace():
    src = ('resource "aws_instance" "web" {\n'
           '  ami       = data.aws_ami.al2.id\n'
           '  user_data = <<-EOT\n'
           '    lifecycle {\n'
           '      ignore_changes = [user_data]\n'
           '    }\n'
           '}\n'
           '    EOT\n'
           '}\n')
    r = edit_ok(src, [ignore(1)], src[:-2] + '  lifecycle {\n    ignore_changes = [ami]\n  }\n}\n')
    assert "lifecycle {\n      ignore_changes = [user_data]" in hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"][
        "user_data"]


def test_several_attributes_for_one_block_are_merged_into_one_list():
    src = 'resource "aws_instance" "web" {\n  ami = "x"\n}\n'
    r = apply(src, [ignore(1, "ami"), ignore(1, "user_data"), ignore(1, "ami")])
    assert r.text == 'resource "aws_instance" "web" {\n  ami = "x"\n  lifecycle {\n    ignore_changes = [ami, user_data]\n  }\n}\n'
    assert [o.status for o in r.outcomes] == ["applied", "applied", "applied"]
    assert_valid(r.text)


def test_data_block_and_tab_indentation():
    src = 'data "aws_ami" "al2" {\n\tmost_recent = true\n}\n'
    edit_ok(src, [ignore(1, "tags")],
            'data "aws_ami" "al2" {\n\tmost_recent = true\n\tlifecycle {\n\t\tignore_changes = [tags]\n\t}\n}\n')


@pytest.mark.parametrize("src, line, reason", [
    ('resource "aws_instance" "web" {\n  ami = "x"\n}\n', 2, "no block starts at line 2"),
    ('resource "aws_instance" "web" {\n  ami = "x"\n}\n', 9, "the file has no line 9 (it has 3)"),
    ('module "app" {\n  source = "./app"\n}\n', 1,
     "the block at line 1 is a module block: ignore_changes belongs in a resource or data block"),
    ('resource "aws_instance" "web" {\n  lifecycle {\n    ignore_changes = local.keep\n  }\n}\n', 1,
     "ignore_changes at line 3 is not a list written out"),
    ('resource "aws_instance" "web" {\n  ami = "x" }\n', 1,
     "the closing brace of the block at line 1 shares its line with other code"),
    ('resource "aws_instance" "web" {\n  lifecycle {}\n  lifecycle {}\n}\n', 1,
     "the block at line 1 has 2 lifecycle blocks"),
])
def test_ignore_changes_refusals(src, line, reason):
    r = apply(src, [ignore(line)])
    assert (r.outcomes[0].status, r.outcomes[0].reason) == ("refused", reason)
    assert r.text == src


def test_ignore_changes_refuses_what_is_not_an_attribute_name():
    src = 'resource "aws_instance" "web" {}\n'
    r = apply(src, [ignore(1, "ami]")])
    assert (r.outcomes[0].status, r.outcomes[0].reason) == ("refused", "`ami]` is not an attribute name")


# ---------------------------------------------------------------------------------------------
# replace_reference

def test_pin_replaces_only_the_reference_and_keeps_the_comment():
    src = ('resource "aws_instance" "web" {\n'
           '  ami           = data.aws_ami.al2.id # was data.aws_ami.al2.id, see "data.aws_ami.al2.id"\n'
           '  instance_type = "t3.micro"\n'
           '}\n')
    r = edit_ok(src, [pin(2, "ami")], src.replace("= data.aws_ami.al2.id #", f"= {AMI} #"))
    assert r.outcomes[0].reason == f"ami at line 2: data.aws_ami.al2.id -> {AMI}"
    assert hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"]["ami"] == "ami-0abc1234"


def test_multi_line_conditional():
    src = ('resource "aws_instance" "web" {\n'
           '  ami = (\n'
           '    var.pinned_ami != "" # a pinned image wins\n'
           '    ? var.pinned_ami\n'
           '    : data.aws_ami.al2.id\n'
           '  )\n'
           '}\n')
    r = edit_ok(src, [pin(2, "ami")], src.replace(": data.aws_ami.al2.id", f": {AMI}"))
    assert changed_lines(src, r.text) == ["-    : data.aws_ami.al2.id", f"+    : {AMI}"]


def test_multi_line_function_call_with_comments():
    src = ('resource "aws_instance" "web" {\n'
           '  ami = coalesce(\n'
           '    var.ami, // an override\n'
           '    /* else the newest */ data.aws_ami.al2.id,\n'
           '  )\n'
           '}\n')
    edit_ok(src, [pin(2, "ami")], src.replace("*/ data.aws_ami.al2.id,", f"*/ {AMI},"))


def test_reference_in_a_template_is_spliced_into_the_string():
    src = 'resource "aws_instance" "web" {\n  user_data = "image=${data.aws_ami.al2.id} boot"\n}\n'
    r = edit_ok(src, [pin(2, "user_data")], src.replace("${data.aws_ami.al2.id}", "ami-0abc1234"))
    assert hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"]["user_data"] == "image=ami-0abc1234 boot"


@pytest.mark.parametrize("template, literal, expected", [
    # a whole-string template becomes the literal
    ('"${data.aws_ami.al2.id}"', AMI, AMI),
    # quotes, backslashes and template sequences keep their escapes inside the string
    ('"v=${data.aws_ami.al2.id}!"', r'"a \"b\" $${c} %%{d}"', r'"v=a \"b\" $${c} %%{d}!"'),
    # a number is written as it is
    ('"size=${data.aws_ami.al2.id}"', "42", '"size=42"'),
    # inside a larger expression the literal stays an expression
    ('"${upper(data.aws_ami.al2.id)}"', AMI, f'"${{upper({AMI})}}"'),
    # strip markers would lose their meaning: the sequence is kept
    ('"a ${~ data.aws_ami.al2.id ~} b"', AMI, f'"a ${{~ {AMI} ~}} b"'),
    # a directive: the literal goes inside it
    ('"%{ if data.aws_ami.al2.id != "" }x%{ endif }"', AMI, f'"%{{ if {AMI} != "" }}x%{{ endif }}"'),
    # `%` then `{...`: splicing would start a directive: the sequence is kept
    ('"%${data.aws_ami.al2.id}"', '"{x}"', '"%${"{x}"}"'),
    # `...$` then `{`: splicing would start an interpolation: the sequence is kept
    ('"${data.aws_ami.al2.id}{x}"', '"a$"', '"${"a$"}{x}"'),
    # a list in a template: kept as it was written, with the literal
    ('"${data.aws_ami.al2.id}"', '["a"]', '"${["a"]}"'),
    # an escaped `$${` is not a reference
])
def test_template_cases(template, literal, expected):
    src = f'locals {{\n  image = {template}\n}}\n'
    edit_ok(src, [pin(2, "image", text=literal)], f'locals {{\n  image = {expected}\n}}\n')


def terraform_values(tmp: Path, text: str, names: list[str]) -> list[object]:
    """What Terraform evaluates the locals `names` of a file to (`terraform console`, no providers)."""
    assert TERRAFORM is not None
    (tmp / "main.tf").write_text(text, encoding="utf-8")
    expr = "jsonencode([" + ", ".join(f"local.{n}" for n in names) + "])\n"
    proc = subprocess.run([TERRAFORM, "console"], input=expr, cwd=tmp, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(json.loads(proc.stdout)))


SPLICE_TEXT = st.text(alphabet=st.sampled_from(list('ab$%{}"\\~é \t\n')), max_size=8)


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not on PATH: it evaluates the spliced templates")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(value=SPLICE_TEXT, before=SPLICE_TEXT, after=SPLICE_TEXT)
def test_spliced_templates_evaluate_as_the_reference_did(tmp_path, value, before, after):
    """Terraform evaluates every edited template exactly as it evaluated the template with the
    reference (here `local.v`, holding the value): in a quoted string, a `<<-` and a `<<` heredoc,
    whatever the characters around the reference and in the value."""
    def quoted_body(s: str) -> str:
        return hcl_string(s)[1:-1]

    def heredoc_body(s: str) -> str:
        return s.replace("\n", " ").replace("${", "$${").replace("%{", "%%{")

    # the text before `${` cannot end with a `$` or `%` (HCL would read `$${` as an escape)
    before = before.rstrip("$%")
    literal = hcl_string(value)
    src = ("locals {\n"
           f"  v = {literal}\n"
           f'  q = "{quoted_body(before)}${{local.v}}{quoted_body(after)}"\n'
           f"  h = <<-EOT\n    {heredoc_body(before)}${{local.v}}{heredoc_body(after)}\n    EOT\n"
           f"  p = <<EOT\n{heredoc_body(before)}${{local.v}}{heredoc_body(after)}\nEOT\n"
           "}\n")
    edits = [pin(3, "q", find="local.v", text=literal), pin(4, "h", find="local.v", text=literal),
             pin(7, "p", find="local.v", text=literal)]
    result = apply(src, edits)
    assert [o.status for o in result.outcomes] == ["applied"] * 3, result.outcomes
    assert "${local.v}" not in result.text
    names = ["q", "h", "p"]
    assert terraform_values(tmp_path, result.text, names) == terraform_values(tmp_path, src, names)
    assert rerun(result, edits).text == result.text


def test_heredoc_templates():
    src = ('resource "aws_instance" "web" {\n'
           '  user_data = <<-EOT\n'
           '    #!/bin/sh\n'
           '    echo "${data.aws_ami.al2.id}" > /etc/image\n'
           '    EOT\n'
           '}\n')
    r = edit_ok(src, [pin(2, "user_data")], src.replace("${data.aws_ami.al2.id}", "ami-0abc1234"))
    assert "ami-0abc1234" in hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"]["user_data"]
    # heredocs do not read backslash escapes, nor may the value end the heredoc: keep the sequence
    for literal in (r'"a\"b"', '"EOT"'):
        out = apply(src, [pin(2, "user_data", text=literal)])
        assert out.text == src.replace("${data.aws_ami.al2.id}", "${" + literal + "}")
        assert_valid(out.text)


def test_escaped_template_sequence_is_not_a_reference():
    src = 'locals {\n  doc = "use $${data.aws_ami.al2.id} here"\n}\n'
    r = apply(src, [pin(2, "doc")])
    assert r.outcomes[0].status == "refused"
    assert r.outcomes[0].reason == "the reference data.aws_ami.al2.id is not in the expression of doc at line 2"


def test_reference_occurring_twice_is_refused():
    src = ('resource "aws_instance" "web" {\n'
           '  ami = data.aws_ami.al2.id != "" ? data.aws_ami.al2.id : var.ami\n'
           '}\n')
    r = apply(src, [pin(2, "ami")])
    assert r.text == src
    assert (r.outcomes[0].status, r.outcomes[0].reason) == (
        "refused", "the reference data.aws_ami.al2.id occurs twice in the expression of ami at line 2")


@pytest.mark.parametrize("expression", [
    "data.aws_ami.al2.id_v2",  # a longer name
    "xdata.aws_ami.al2.id",  # a longer head
    "local.data.aws_ami.al2.id",  # not at the root
    "data.aws_ami.al2.id[0]",  # a longer reference: replacing part of it changes what it means
    '"data.aws_ami.al2.id"',  # a plain string
    "var.ami # data.aws_ami.al2.id",  # a comment
    "var.ami /* data.aws_ami.al2.id */",
    'lookup({ x = "data.aws_ami.al2.id" }, "x")',
])
def test_only_whole_references_match(expression):
    src = f'resource "aws_instance" "web" {{\n  ami = {expression}\n}}\n'
    r = apply(src, [pin(2, "ami")])
    assert r.text == src
    assert (r.outcomes[0].status, r.outcomes[0].reason) == (
        "refused", "the reference data.aws_ami.al2.id is not in the expression of ami at line 2")


def test_reference_with_an_index_matches_whatever_the_spacing():
    src = 'resource "aws_instance" "web" {\n  ami = data.aws_ami.role[ each.key ].id\n}\n'
    edit_ok(src, [pin(2, "ami", find="data.aws_ami.role[each.key].id")],
            f'resource "aws_instance" "web" {{\n  ami = {AMI}\n}}\n')


def test_each_value_and_module_output():
    src = ('resource "aws_instance" "web" {\n'
           '  for_each = var.images\n'
           '  ami      = each.value\n'
           '}\n'
           'module "app" {\n'
           '  source = "./app"\n'
           '  ami_id = module.img.ami_id\n'
           '}\n')
    r = edit_ok(src, [pin(3, "ami", find="each.value"), pin(7, "ami_id", find="module.img.ami_id")],
                src.replace("= each.value", f"= {AMI}").replace("= module.img.ami_id", f"= {AMI}"))
    assert hcl2_loads(r.text)["module"][0]["app"]["ami_id"] == "ami-0abc1234"


def test_map_element_on_one_line_changes_only_that_element():
    src = ('resource "aws_instance" "web" {\n'
           '  for_each = { web = data.aws_ami.x.id, api = data.aws_ami.y.id }\n'
           '  ami      = each.value\n'
           '}\n')
    r = edit_ok(src, [pin(2, "web", find="data.aws_ami.x.id")],
                src.replace("web = data.aws_ami.x.id", f"web = {AMI}"))
    assert hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"]["for_each"] == {
        "web": "ami-0abc1234", "api": "${data.aws_ami.y.id}"}


def test_map_element_on_several_lines_changes_only_that_line():
    src = ('resource "aws_instance" "web" {\n'
           '  for_each = {\n'
           '    web   = data.aws_ami.x.id # front\n'
           '    "api" = data.aws_ami.x.id\n'
           '  }\n'
           '  ami = each.value\n'
           '}\n')
    r = edit_ok(src, [pin(3, "web", find="data.aws_ami.x.id")], src.replace("web   = data.aws_ami.x.id", f"web   = {AMI}"))
    assert changed_lines(src, r.text) == ["-    web   = data.aws_ami.x.id # front", f"+    web   = {AMI} # front"]
    # a quoted key, located by the line of `for_each` (where the engine points when it cannot
    # find the key's own line)
    r2 = edit_ok(src, [pin(2, "api", find="data.aws_ami.x.id")], src.replace('"api" = data.aws_ami.x.id',
                                                                              f'"api" = {AMI}'))
    assert changed_lines(src, r2.text) == ['-    "api" = data.aws_ami.x.id', f'+    "api" = {AMI}']


def test_the_same_key_twice_on_a_line_is_refused():
    src = 'locals {\n  m = { web = data.aws_ami.x.id, n = { web = data.aws_ami.x.id } }\n}\n'
    r = apply(src, [pin(2, "web", find="data.aws_ami.x.id")])
    assert (r.outcomes[0].status, r.outcomes[0].reason) == (
        "refused", "web is written twice at line 2: which one to change is not certain")


def test_locals_case():
    src = ('locals {\n'
           '  # the newest Amazon Linux image\n'
           '  image = data.aws_ami.al2.id\n'
           '  size  = "t3.micro"\n'
           '}\n')
    r = edit_ok(src, [pin(3, "image")], src.replace("= data.aws_ami.al2.id", f"= {AMI}"))
    assert hcl2_loads(r.text)["locals"][0]["image"] == "ami-0abc1234"


def test_attribute_of_a_nested_block_named_by_the_block():
    src = ('resource "aws_instance" "web" {\n'
           '  root_block_device {\n'
           '    volume_size = data.aws_ebs_snapshot.s.volume_size\n'
           '  }\n'
           '}\n')
    edit_ok(src, [pin(3, "root_block_device", find="data.aws_ebs_snapshot.s.volume_size", text="20")],
            src.replace("data.aws_ebs_snapshot.s.volume_size", "20"))


def test_a_list_literal():
    src = 'resource "aws_instance" "web" {\n  vpc_security_group_ids = data.aws_security_groups.g.ids\n}\n'
    r = edit_ok(src, [pin(2, "vpc_security_group_ids", find="data.aws_security_groups.g.ids", text='["sg-1", "sg-2"]')],
                src.replace("data.aws_security_groups.g.ids", '["sg-1", "sg-2"]'))
    assert hcl2_loads(r.text)["resource"][0]["aws_instance"]["web"]["vpc_security_group_ids"] == ["sg-1", "sg-2"]


@pytest.mark.parametrize("edit, reason", [
    (pin(3, "ami"), "no argument ami is written at line 3"),
    (pin(2, "instance_type"), "no argument instance_type is written at line 2"),
    (pin(2, "ami", find="data.aws_ami.al2.id +"), "`data.aws_ami.al2.id +` is not a reference"),
    (pin(2, "ami", text='"unterminated'), '`"unterminated` is not a one-line HCL expression'),
    (EditSpec("replace_reference", 2, AMI), "the edit names no argument or no reference to replace"),
    (EditSpec("rename", 2, AMI), "unknown action 'rename'"),
])
def test_pin_refusals(edit, reason):
    src = 'resource "aws_instance" "web" {\n  ami = data.aws_ami.al2.id\n}\n'
    r = apply(src, [edit])
    assert (r.outcomes[0].status, r.outcomes[0].reason) == ("refused", reason)
    assert r.text == src


@pytest.mark.parametrize("src, line", [
    ('resource "aws_instance" "web" {\n  ami = "unterminated\n}\n', 2),
    ('resource "aws_instance" "web" {\n  user_data = <<EOT\nno end\n}\n', 2),
    ('resource "aws_instance" "web" {\n  ami = data.aws_ami.al2.id\n  /* open\n', 3),
    ('resource "aws_instance" "web" {\n  ami = [data.aws_ami.al2.id\n}\n', 3),
    ('resource "aws_instance" "web" {\n  ami = data.aws_ami.al2.id\n', 1),
    ('resource "aws_instance" "web" {\n  = data.aws_ami.al2.id\n}\n', 2),
])
def test_files_that_cannot_be_read_with_certainty_are_left_alone(src, line):
    r = apply(src, [pin(2, "ami"), ignore(1)])
    assert r.text == src
    assert all(o.status == "refused" for o in r.outcomes)
    assert r.outcomes[0].reason.startswith(f"the file cannot be read with certainty: line {line}: ")


# ---------------------------------------------------------------------------------------------
# Line endings, byte-order mark, final newline; several edits

FULL = ('resource "aws_instance" "web" {\n'
        '  ami           = data.aws_ami.al2.id # image\n'
        '  instance_type = "t3.micro"\n'
        '}\n'
        '\n'
        'resource "aws_instance" "one" { ami = data.aws_ami.al2.id }\n')
FULL_EDITS = [ignore(1), pin(2, "ami"), ignore(6), pin(6, "ami")]
FULL_EXPECTED = ('resource "aws_instance" "web" {\n'
                 f'  ami           = {AMI} # image\n'
                 '  instance_type = "t3.micro"\n'
                 '  lifecycle {\n'
                 '    ignore_changes = [ami]\n'
                 '  }\n'
                 '}\n'
                 '\n'
                 'resource "aws_instance" "one" {\n'
                 f'  ami = {AMI}\n'
                 '  lifecycle {\n'
                 '    ignore_changes = [ami]\n'
                 '  }\n'
                 '}\n')


def test_several_edits_to_one_file_use_the_original_lines():
    r = edit_ok(FULL, FULL_EDITS, FULL_EXPECTED)
    assert [r.new_line(n) for n in (1, 2, 4, 6)] == [1, 2, 7, 9]


def test_crlf_file_stays_crlf():
    src = FULL.replace("\n", "\r\n")
    r = edit_ok(src, FULL_EDITS, FULL_EXPECTED.replace("\n", "\r\n"))
    assert "\n" not in r.text.replace("\r\n", "")


def test_crlf_comment_before_the_line_break_of_a_list_element():
    src = ('resource "aws_instance" "web" {\r\n'
           '  lifecycle {\r\n'
           '    ignore_changes = [ # managed elsewhere\r\n'
           '      tags, # Name\r\n'
           '    ]\r\n'
           '  }\r\n'
           '}')
    edit_ok(src, [ignore(1)], src.replace("tags, # Name\r\n", "tags, # Name\r\n      ami,\r\n"))


def test_file_without_final_newline_stays_without():
    edit_ok(FULL.rstrip("\n"), FULL_EDITS, FULL_EXPECTED.rstrip("\n"))
    edit_ok(FULL.rstrip("\n").replace("\n", "\r\n"), FULL_EDITS, FULL_EXPECTED.rstrip("\n").replace("\n", "\r\n"))


def test_byte_order_mark_is_kept():
    r = edit_ok("\ufeff" + FULL, FULL_EDITS, "\ufeff" + FULL_EXPECTED)
    assert r.text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_overlapping_edits_the_first_wins():
    src = 'resource "aws_instance" "web" {\n  ami = data.aws_ami.al2.id\n}\n'
    r = apply(src, [pin(2, "ami"), pin(2, "ami", text='"ami-other"')])
    assert r.text == src.replace("data.aws_ami.al2.id", AMI)
    assert [o.status for o in r.outcomes] == ["applied", "refused"]
    assert r.outcomes[1].reason == "it overlaps the replace_reference edit at line 2, made in the same run"


def test_the_same_edit_twice_is_made_once():
    src = 'resource "aws_instance" "web" {\n  ami = data.aws_ami.al2.id\n}\n'
    r = apply(src, [pin(2, "ami"), pin(2, "ami")])
    assert r.text == src.replace("data.aws_ami.al2.id", AMI)
    assert [o.status for o in r.outcomes] == ["applied", "applied"]


def test_findings_edit_model_is_accepted():
    src = 'resource "aws_instance" "web" {\n  ami = data.aws_ami.al2.id\n}\n'
    edits = [Edit(file="main.tf", line=2, action="replace_reference", attribute="ami", find="data.aws_ami.al2.id",
                  text=AMI),
             Edit(file="main.tf", line=1, action="ignore_changes", attribute=None, text="ami")]
    r = apply(src, edits)
    assert [o.status for o in r.outcomes] == ["applied", "applied"]
    assert r.outcomes[0].edit == pin(2, "ami")


# ---------------------------------------------------------------------------------------------
# Diffs and files

def _apply_patch_in(tmp_path: Path, name: str, old: str, new: str) -> None:
    """The diff applies with `git apply` and `patch -p1` in the module folder, giving `new` byte for byte."""
    diff = unified_diff(old, new, name)
    assert diff.startswith(f"--- a/{name}") and f"\n+++ b/{name}" in diff
    patch_file = tmp_path / "fix.patch"
    patch_file.write_bytes(diff.encode("utf-8"))
    for tool in ("git", "patch"):
        if tool == "git" and GIT is None or tool == "patch" and PATCH is None:
            continue
        root = tmp_path / tool
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(old.encode("utf-8"))
        if tool == "git":
            subprocess.run([GIT, "init", "-q", str(root)], check=True)
            cmd = [GIT, "-c", "core.autocrlf=false", "apply", "--check", str(patch_file)]
            proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
            cmd = [GIT, "-c", "core.autocrlf=false", "apply", str(patch_file)]
        else:
            cmd = [PATCH, "-p1", "--binary", "-s", "-i", str(patch_file)]
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{tool}: {proc.stdout}{proc.stderr}"
        assert target.read_bytes() == new.encode("utf-8"), tool


@pytest.mark.skipif(GIT is None, reason="git is not on PATH")
@pytest.mark.parametrize("variant", ["lf", "crlf", "no-final-newline", "crlf-no-final-newline", "bom"])
def test_diff_applies_with_git_and_patch(tmp_path, variant):
    src = FULL
    if "no-final-newline" in variant:
        src = src.rstrip("\n")
    if variant.startswith("crlf"):
        src = src.replace("\n", "\r\n")
    if variant == "bom":
        src = "\ufeff" + src
    result = apply(src, FULL_EDITS)
    assert result.changed
    _apply_patch_in(tmp_path, "envs/prod/main.tf", src, result.text)


@pytest.mark.skipif(GIT is None, reason="git is not on PATH")
def test_diff_of_a_path_with_spaces_and_a_long_file(tmp_path):
    filler = "".join(f'resource "null_resource" "n{i}" {{\n  triggers = {{ i = "{i}" }}\n}}\n\n' for i in range(300))
    src = filler + FULL + filler
    base = filler.count("\n")
    edits = [ignore(base + 1), pin(base + 2, "ami")]
    result = apply(src, edits)
    assert [o.status for o in result.outcomes] == ["applied", "applied"]
    # the hunks name lines of the whole file: the same diff difflib gives on the whole texts
    whole = difflib.unified_diff(src.splitlines(keepends=True), result.text.splitlines(keepends=True),
                                 "a/main.tf", "b/main.tf")
    assert unified_diff(src, result.text, "main.tf") == "".join(whole)
    assert f"@@ -{base - 1},8 +{base - 1},11 @@" in unified_diff(src, result.text, "my stack/main.tf")
    _apply_patch_in(tmp_path, "my stack/main.tf", src, result.text)


def test_diff_edges():
    assert unified_diff("a\n", "a\n", "main.tf") == ""
    assert unified_diff("a", "b", "main.tf") == (
        "--- a/main.tf\n+++ b/main.tf\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
        "\\ No newline at end of file\n")
    # a form feed or U+2028 is not a line break for git
    assert unified_diff("x\x0cy\u2028z\n", "x\x0cy\u2028w\n", "main.tf").count("@@") == 2
    with pytest.raises(HclEditError):
        unified_diff("a\n", "b\n", "/abs/main.tf")
    with pytest.raises(HclEditError):
        unified_diff("a\n", "b\n", "bad\tname.tf")


def test_read_and_write_keep_the_bytes(tmp_path):
    path = tmp_path / "main.tf"
    raw = "\ufeff".encode() + FULL.replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(raw)
    os.chmod(path, 0o640)
    text = read_source(path)
    assert text.encode("utf-8") == raw
    result = apply(text, FULL_EDITS)
    write_source(path, result.text)
    assert path.read_bytes() == ("\ufeff" + FULL_EXPECTED.replace("\n", "\r\n")).encode("utf-8")
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["main.tf"]
    (tmp_path / "latin1.tf").write_bytes(b'locals { a = "caf\xe9" }\n')
    with pytest.raises(HclEditError, match="is not UTF-8 text"):
        read_source(tmp_path / "latin1.tf")


# ---------------------------------------------------------------------------------------------
# Bounded and linear

def _big(size: int) -> tuple[str, int]:
    block = ('resource "aws_instance" "web_{i}" {{\n'
             '  ami           = data.aws_ami.al2.id # the image {{ not a brace\n'
             '  instance_type = "t3.micro"\n'
             '  tags = {{\n'
             '    Name = "web-${{var.env}}-{i}"\n'
             '    Role = local.roles["web"]\n'
             '  }}\n'
             '  user_data = <<-EOT\n'
             '    echo "{{ lifecycle }}" > /etc/motd\n'
             '  EOT\n'
             '  /* a block comment {{ */\n'
             '}}\n\n')
    parts: list[str] = []
    total = i = 0
    while total < size:
        parts.append(block.format(i=i))
        total += len(parts[-1])
        i += 1
    text = "".join(parts)
    return text, text.count("\n", 0, text.rfind("resource ")) + 1


def _timed(text: str, line: int) -> float:
    t0 = time.perf_counter()
    r = apply(text, [ignore(line), pin(line + 1, "ami")])
    elapsed = time.perf_counter() - t0
    assert [o.status for o in r.outcomes] == ["applied", "applied"]
    return elapsed


def test_two_megabytes_in_linear_time():
    small, small_line = _big(500_000)
    big, big_line = _big(2_000_000)
    t_small = min(_timed(small, small_line) for _ in range(2))
    t_big = _timed(big, big_line)
    assert t_big < 20, f"2 MB took {t_big:.1f}s"
    # four times the text: about four times the time (generous for a shared machine), not sixteen
    assert t_big < 8 * t_small + 0.5, (t_small, t_big)


@pytest.mark.parametrize("name, text, status", [
    ("nested lists", "x = " + "[" * 100_000 + "a.b" + "]" * 100_000 + "\n", "applied"),
    ("nested objects", "x = " + "{a = " * 50_000 + "a.b" + "}" * 50_000 + "\n", "applied"),
    ("nested indexes", "x = " + "a[" * 100_000 + "a.b" + "]" * 100_000 + "\n", "applied"),
    ("nested templates", "x = " + '"${' * 50_000 + "a.b" + '}"' * 50_000 + "\n", "applied"),
    ("nested blocks", "a {\n" * 50_000 + "x = a.b\n" + "}\n" * 50_000, "refused"),  # line 1 holds no x
    ("unclosed comment", "/*" + "{" * 1_000_000, "refused"),
    ("unclosed string", 'x = "' + "${" * 500_000, "refused"),
    ("many comments", "x = a.b " + "/* c */ " * 200_000 + "\n", "applied"),
    ("long line of references", "x = [" + "a.c, " * 200_000 + "a.b]\n", "applied"),
])
def test_hostile_shapes_stay_bounded(name, text, status):
    t0 = time.perf_counter()
    r = apply(text, [pin(1, "x", find="a.b", text='"v"')])
    assert time.perf_counter() - t0 < 15, name
    assert r.outcomes[0].status == status, r.outcomes[0].reason
    if status == "applied":  # `"v"` in place of the reference, or `v` in place of `${a.b}`
        assert r.text in (text.replace("a.b", '"v"', 1), text.replace('"${a.b}"', '"v"', 1))
        assert "a.b" not in r.text


# ---------------------------------------------------------------------------------------------
# Property: comments, blank lines, indentation and line-ending styles around a fixed block

TRIVIA = st.sampled_from(["", " # note", " // note {", " /* } lifecycle { */", "  # ignore_changes = [x]",
                          " /* data.aws_ami.al2.id */"])
LIFECYCLES = st.sampled_from([
    "",
    "{i}lifecycle {{{c}\n{i}{i}create_before_destroy = true{c}\n{i}}}\n",
    "{i}lifecycle {{ create_before_destroy = true }}{c}\n",
    "{i}lifecycle {{\n{i}{i}ignore_changes = [tags]{c}\n{i}}}\n",
    "{i}lifecycle {{\n{i}{i}ignore_changes = [{c}\n{i}{i}{i}tags,{c}\n{i}{i}]\n{i}}}\n",
    "{i}lifecycle {{\n{i}{i}ignore_changes = [{c}\n{i}{i}{i}tags{c}\n{i}{i}]\n{i}}}\n",
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(indent=st.sampled_from(["  ", "    ", "\t"]), c1=TRIVIA, c2=TRIVIA, c3=TRIVIA, c4=TRIVIA,
       blank=st.sampled_from(["", "\n", "\n\n"]), lifecycle=LIFECYCLES, crlf=st.booleans(),
       final_newline=st.booleans(), bom=st.booleans(), one_line=st.booleans())
def test_property_edits_stay_valid_and_idempotent(indent, c1, c2, c3, c4, blank, lifecycle, crlf, final_newline,
                                                   bom, one_line):
    i = indent
    if one_line:  # only a /* */ comment can sit inside a one-line block
        inline = c2 if c2.strip().startswith("/*") else ""
        src = f'# head{c1}\nresource "aws_instance" "web" {{ ami = data.aws_ami.al2.id{inline} }}{c4}\n'
        lines = (2, 2)
    else:
        src = (f"# head{c1}\n"
               f'resource "aws_instance" "web" {{{c2}\n'
               f"{i}ami = data.aws_ami.al2.id{c3}\n{blank}"
               f"{i}root_block_device {{{c4}\n{i}{i}volume_size = 10\n{i}}}\n"
               + lifecycle.format(i=i, c=c3)
               + f"}}{c4}\n")
        lines = (2, 3)
    if crlf:
        src = src.replace("\n", "\r\n")
    if not final_newline:
        src = src.rstrip("\r\n")
    if bom:
        src = "\ufeff" + src
    edits = [ignore(lines[0]), pin(lines[1], "ami")]
    result = apply(src, edits)
    assert [o.status for o in result.outcomes] == ["applied", "applied"], (src, result.outcomes)
    out = result.text
    assert out.startswith("\ufeff") == bom
    assert out.endswith("\n") == final_newline
    assert ("\r\n" in out) == crlf and (not crlf or "\n" not in out.replace("\r\n", ""))
    # every comment survives, byte for byte
    for comment in {c1, c2, c3, c4} - {""}:
        assert out.count(comment.strip()) == src.count(comment.strip())
    parsed = hcl2_loads(out)["resource"][0]["aws_instance"]["web"]
    assert parsed["ami"] == "ami-0abc1234"
    assert "${ami}" in parsed["lifecycle"][0]["ignore_changes"]
    if TERRAFORM is not None:
        ok, err = terraform_accepts(out)
        assert ok, f"{err}\n---\n{out}"
    again = rerun(result, edits)
    assert again.text == out
    assert [o.status for o in again.outcomes] == ["in_place", "in_place"]


# -- call-site edits: an argument on a module call, a moved block beside it ---------------------
MOVED = "moved {\n  from = module.ec2.aws_instance.this[0]\n  to   = module.ec2.aws_instance.ignore_ami[0]\n}"


def test_set_argument_on_a_module_call_and_a_moved_block_at_the_end():
    src = ('module "ec2" {\n  source = "git::https://example.com/ec2.git?ref=v1"\n  name   = "app"\n}\n\n'
           '# the end\n')
    result = edit_ok(src, [EditSpec("set_argument", 1, "true", attribute="ignore_ami_changes"),
                           EditSpec("append_block", 0, MOVED)],
                     'module "ec2" {\n  source = "git::https://example.com/ec2.git?ref=v1"\n  name   = "app"\n'
                     '  ignore_ami_changes = true\n}\n\n# the end\n\n' + MOVED + "\n")
    assert [o.status for o in result.outcomes] == ["applied", "applied"]


def test_set_argument_in_place_or_refused_when_the_call_sets_it_already():
    src = 'module "ec2" {\n  source = "./ec2"\n  ami    = "ami-0abc"\n}\n'
    same = apply(src, [EditSpec("set_argument", 1, '"ami-0abc"', attribute="ami")])
    assert same.text == src and same.outcomes[0].status == "in_place"
    other = apply(src, [EditSpec("set_argument", 1, '"ami-9999"', attribute="ami")])
    assert other.text == src and other.outcomes[0].status == "refused"
    assert 'already sets ami = "ami-0abc"' in other.outcomes[0].reason
    resource = apply('resource "aws_instance" "a" {\n  ami = "x"\n}\n', [EditSpec("set_argument", 1, "true", attribute="x")])
    assert resource.outcomes[0].status == "refused" and "not a module call" in resource.outcomes[0].reason


def test_set_argument_opens_a_one_line_module_block_and_keeps_crlf():
    src = 'module "ec2" { source = "./ec2" }\r\n'
    result = apply(src, [EditSpec("set_argument", 1, '"ami-0abc"', attribute="ami")])
    assert result.outcomes[0].status == "applied"
    assert "\r\n" in result.text and "\n" not in result.text.replace("\r\n", "")
    assert_valid(result.text.replace("\r\n", "\n"))


def test_append_block_is_in_place_when_the_same_block_is_there_and_handles_no_final_newline():
    src = 'module "ec2" {\n  source = "./ec2"\n}'
    first = apply(src, [EditSpec("append_block", 0, MOVED)])
    assert first.text == src + "\n\n" + MOVED + "\n"
    assert_valid(first.text)
    again = apply(first.text, [EditSpec("append_block", 0, MOVED.replace("  ", "    "))])
    assert again.text == first.text and again.outcomes[0].status == "in_place"
    bad = apply(src, [EditSpec("append_block", 0, "moved {")])
    assert bad.outcomes[0].status == "refused"
