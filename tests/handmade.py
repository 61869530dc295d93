"""Small hand-made plans for edge cases, shaped like the real ones Terraform 1.11 writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def ami_drift_plan(address: str = "aws_instance.app", *, most_recent: bool = True,
                   old: str = "ami-0aaa1111", new: str = "ami-0bbb2222",
                   module: str | None = None, via_local: bool = False) -> dict[str, Any]:
    """An aws_instance replaced because data.aws_ami (most_recent) picked a newer image.

    With `module`, the instance lives in that module call and gets the AMI as input `ami_id`.
    """
    data_cfg = {
        "address": "data.aws_ami.al2", "mode": "data", "type": "aws_ami", "name": "al2",
        "provider_config_key": "aws",
        "expressions": {
            "most_recent": {"constant_value": most_recent},
            "owners": {"constant_value": ["self"]},
            "filter": [{"name": {"constant_value": "name"}, "values": {"constant_value": ["amzn2-ami-hvm-*"]}}],
        },
        "schema_version": 0,
    }
    inst_ref = ["var.ami_id"] if module else ["data.aws_ami.al2.id", "data.aws_ami.al2"]
    if via_local:
        inst_ref = ["local.app_ami"]
    inst_cfg = {
        "address": "aws_instance.this" if module else "aws_instance.app", "mode": "managed",
        "type": "aws_instance", "name": "this" if module else "app", "provider_config_key": "aws",
        "expressions": {"ami": {"references": inst_ref}, "instance_type": {"constant_value": "t3.micro"}},
        "schema_version": 1,
    }
    root: dict[str, Any] = {"resources": [data_cfg]}
    if module:
        root["module_calls"] = {module: {
            "source": f"./modules/{module}",
            "expressions": {"ami_id": {"references": ["data.aws_ami.al2.id", "data.aws_ami.al2"]}},
            "module": {"resources": [inst_cfg], "variables": {"ami_id": {}}},
        }}
    else:
        root["resources"].append(inst_cfg)
    rtype_name = address.rsplit("aws_instance.", 1)[1]
    change = {
        "address": address, "mode": "managed", "type": "aws_instance",
        "name": rtype_name.split("[", 1)[0], "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": ["delete", "create"],
            "before": {"ami": old, "instance_type": "t3.micro", "id": "i-0123"},
            "after": {"ami": new, "instance_type": "t3.micro"},
            "after_unknown": {"id": True}, "before_sensitive": {}, "after_sensitive": {},
            "replace_paths": [["ami"]],
        },
        "action_reason": "replace_because_cannot_update",
    }
    if module:
        change["module_address"] = address.split(".aws_instance.", 1)[0]
    return {
        "format_version": "1.2", "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": [change],
        "prior_state": {"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {
            "resources": [{"address": "data.aws_ami.al2", "mode": "data", "type": "aws_ami", "name": "al2",
                           "values": {"id": new, "image_id": new, "name": "amzn2-ami-hvm-2.0.20240201-x86_64-gp2",
                                      "creation_date": "2024-02-01T00:00:00.000Z"},
                           "sensitive_values": {}}]}}},
        "configuration": {"provider_config": {"aws": {"name": "aws"}}, "root_module": root},
    }


def write(tmp: Path, plan: dict[str, Any], name: str = "plan.json") -> Path:
    path = tmp / name
    path.write_text(json.dumps(plan), encoding="utf-8")
    return path
