"""The run task server's pieces without a network: the signature, the result it sends (message,
outcomes, escaping, HCP's limits) and the safe unpacking of configuration archives."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from guard.server.archive import ArchiveError, Limits, source_root, unpack
from guard.server.protocol import (
    BadRequest,
    Result,
    TaskRequest,
    callback_body,
    outcome,
    outcome_id,
    outcomes,
    signature,
    signature_ok,
    verdict,
)

KEY = b"secret-key"


def finding(address: str = "aws_instance.app", **extra) -> dict:
    base = {"rule": "TFG001", "severity": "error", "title": f"{address} will be replaced", "address": address,
            "actions": ["delete", "create"], "action_reason": "replace_because_cannot_update",
            "values": [{"path": "ami", "before": "ami-1", "after": "ami-2"}],
            "chain": [{"ref": f"{address}.ami", "kind": "attribute", "expression": "ami = data.aws_ami.x.id",
                       "location": {"file": "main.tf", "line": 7}, "details": []}],
            "message": f"{address} will be replaced because `ami` changes.", "fixes": [],
            "location": {"file": "main.tf", "line": 7}}
    base.update(extra)
    return base


def report(findings: list[dict], fail_on: str = "error") -> dict:
    counts = {k: sum(1 for f in findings if f["severity"] == k[:-1]) for k in ("errors", "warnings", "notices")}
    return {"summary": {**counts, "fail_on": fail_on}, "findings": findings}


# -- signature -------------------------------------------------------------------------------


def test_signature_is_hmac_sha512_of_the_raw_body():
    body = b'{"payload_version": 1}'
    good = signature(KEY, body)
    assert len(good) == 128
    assert signature_ok(KEY, body, good)
    assert signature_ok(KEY, body, good.upper())
    assert not signature_ok(KEY, body + b" ", good)  # re-serialised JSON never matches
    assert not signature_ok(KEY, body, "")
    assert not signature_ok(KEY, body, None)
    assert not signature_ok(KEY, body, "\u00e9" * 128)
    assert not signature_ok(b"other", body, good)


def test_request_parsing_accepts_extra_and_null_fields_and_hides_the_token():
    raw = json.dumps({"access_token": "tok-abcdef", "stage": "post_plan", "task_result_id": "tr-1",
                      "task_result_callback_url": "https://app.terraform.io/api/v2/task-results/tr-1/callback",
                      "plan_json_api_url": "https://app.terraform.io/api/v2/plans/p/json-output",
                      "configuration_version_download_url": None, "vcs_repo_url": None, "new_field": {"x": 1},
                      "capabilitites": {"outcomes": True}}).encode()
    req = TaskRequest.parse(raw)
    assert req.outcomes and req.configuration_version_download_url is None
    assert "tok-abcdef" not in repr(req) and "tok-abcdef" not in req.label
    for bad in (b"", b"[]", b'{"stage": "post_plan"}',
                b'{"access_token": "t", "task_result_callback_url": "ftp://x/y"}'):
        with pytest.raises(BadRequest):
            TaskRequest.parse(bad)


# -- the result ------------------------------------------------------------------------------


def test_message_names_what_is_replaced_and_destroyed_within_1000_characters():
    many = [finding(f"module.fleet[\"{i:03d}\"].aws_instance.node") for i in range(300)]
    many.append(finding("aws_ebs_volume.data", rule="TFG011", actions=["delete"]))
    status, message = verdict(report(many), 1, ["Locations are missing: no configuration."])
    assert status == "failed"
    assert len(message) <= 1000
    assert message.startswith("replace-guard failed: resources are destroyed or replaced unasked (301 errors")
    assert 'Will be replaced: module.fleet["000"].aws_instance.node' in message
    assert "more; see the outcomes)" in message
    assert message.endswith("Locations are missing: no configuration.")  # the note survives the cut
    status, message = verdict(report([finding(), finding("aws_ebs_volume.d", actions=["delete"])]), 1, [])
    assert message.endswith("Will be replaced: aws_instance.app. Will be destroyed: aws_ebs_volume.d.")


def test_passed_below_fail_on_says_so():
    status, message = verdict(report([finding(severity="warning", rule="TFG010")]), 0, [])
    assert status == "passed"
    assert message == "replace-guard passed: nothing at or above error (1 warning below it; see the outcomes)."


def test_outcomes_keep_to_hcp_limits():
    long_address = "module.a" * 40 + ".aws_instance.x"
    other = "module.a" * 40 + ".aws_instance.y"
    assert len(outcome_id(finding(long_address))) <= 64
    assert outcome_id(finding(long_address)) != outcome_id(finding(other))
    huge = finding("aws_instance.big", values=[{"path": f"tags.k{i}", "before": "x" * 900, "after": "y" * 900}
                                               for i in range(40)],
                   title="t" * 5000)
    o = outcome(huge)["attributes"]
    assert len(o["body"]) <= 10_000 and "Cut to fit" in o["body"]
    assert len(o["description"]) <= 1000
    listed, left = outcomes(report([finding(f"aws_instance.n{i}") for i in range(260)]))
    assert len(listed) == 250 and left == 10
    body = json.loads(callback_body(Result("failed", "m" * 2000, listed)))
    assert len(body["data"]["attributes"]["message"]) == 1000
    assert len(body["data"]["relationships"]["outcomes"]["data"]) == 250
    notice = outcome(finding(severity="notice", rule="TFG020"))["attributes"]
    assert notice["tags"]["Severity"] == [{"label": "notice", "level": "info"}]


def test_plan_text_is_escaped_in_every_field():
    evil = 'aws_instance.x["<img src=x onerror=alert(1)>\n::error::pwned @octo-org/team #12 [a](http://e.vil) `x`"]'
    f = finding(evil)
    f["facts"] = {"note": "<script>alert(1)</script>\r\n##[error]boom"}
    f["fixes"] = [{"title": "Pin it", "detail": f"Change {evil}", "snippet": 'ami = "x"\n::warning::y'}]
    o = outcome(f)["attributes"]
    body = o["body"]
    # Rendered as CommonMark with raw HTML allowed (the most permissive reader): no tag, no link
    # comes from the plan; its text shows literally.
    page = MarkdownIt("commonmark", {"html": True}).render(body)
    assert "<img" not in page and "<script" not in page and "<a " not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;" in page
    prose = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", page, flags=re.DOTALL)
    assert "@octo" in page and "@octo" not in prose  # no mention outside code
    assert "##[" not in body
    for line in body.splitlines():
        assert not line.lstrip().startswith("::"), line  # a plan newline never starts a line
    assert "\n" not in o["description"] and "\n" not in o["outcome-id"]
    _, message = verdict(report([f]), 1, [])
    assert "\n" not in message and "\\n::error::pwned" in message


# -- the archive -----------------------------------------------------------------------------


def tar_bytes(entries: list[tarfile.TarInfo | tuple[str, bytes]], gzip: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gzip else "w") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
    return buf.getvalue()


def special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_unpack_keeps_sources_inside_and_skips_everything_else(tmp_path: Path):
    dest = tmp_path / "out"
    dest.mkdir()
    archive = tmp_path / "cv.tar.gz"
    archive.write_bytes(tar_bytes([
        ("infra/main.tf", b'resource "x" "y" {}\n'),
        ("infra/prod.tfvars", b"a = 1\n"),
        ("infra/.replace-guard.toml", b'fail-on = "warning"\n'),
        ("infra/modules/app/main.tofu", b"# tofu\n"),
        ("infra/big.bin", b"\0" * 1000),
        ("../escape.tf", b"x"),
        ("/abs.tf", b"x"),
        ("infra/../../escape2.tf", b"x"),
        special("infra/link.tf", tarfile.SYMTYPE, "/etc/passwd"),
        special("infra/dir", tarfile.SYMTYPE, "../.."),
        ("infra/dir/through-link.tf", b"x"),  # would write through the link if it were made
        special("infra/hard.tf", tarfile.LNKTYPE, "/etc/passwd"),
        special("infra/fifo.tf", tarfile.FIFOTYPE),
        special("infra/dev.tf", tarfile.CHRTYPE),
    ]))
    done = unpack(archive, dest)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file() or p.is_symlink())
    assert files == ["infra/.replace-guard.toml", "infra/dir/through-link.tf", "infra/main.tf",
                     "infra/modules/app/main.tofu", "infra/prod.tfvars"]
    assert not any(p.is_symlink() for p in dest.rglob("*"))
    assert (dest / "infra" / "dir").is_dir() and not (dest / "infra" / "dir").is_symlink()
    assert not (tmp_path / "escape.tf").exists() and not Path("/abs.tf").exists()
    assert len(done.unsafe) == 3 and len(done.links) == 3
    assert "3 entries with a path outside the folder and 3 link(s)" in done.skipped_note()


def test_unpack_limits(tmp_path: Path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_bytes([("a.tf", b"x" * 100), ("b.tf", b"x" * 10)], gzip=False))  # plain tar too
    done = unpack(archive, (tmp_path / "1"), Limits(max_file_bytes=50))
    assert done.files == 1 and done.too_big == ["a.tf"]
    with pytest.raises(ArchiveError, match="unpacks to more than"):
        unpack(archive, tmp_path / "2", Limits(max_unpacked_bytes=100))
    with pytest.raises(ArchiveError, match="more than 1 entries"):
        unpack(archive, tmp_path / "3", Limits(max_members=1))
    (tmp_path / "bad.tar.gz").write_bytes(b"\x1f\x8b\x08 not gzip at all")
    with pytest.raises(ArchiveError, match="not a readable"):
        unpack(tmp_path / "bad.tar.gz", tmp_path / "4")


def test_source_root_is_the_working_directory_inside(tmp_path: Path):
    (tmp_path / "infra" / "prod").mkdir(parents=True)
    assert source_root(tmp_path, "") == (tmp_path, "")
    assert source_root(tmp_path, "/infra/prod/") == (tmp_path / "infra" / "prod", "")
    assert source_root(tmp_path, "../etc")[0] is None
    assert source_root(tmp_path, "missing")[0] is None
