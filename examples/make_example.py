"""Rebuild examples/ami-drift/ from the ami_drift scenario with real Terraform and moto.

    python examples/make_example.py

Needs terraform, the AWS provider in a filesystem mirror, and moto (see tests/realtf.py).
Writes main.tf, provider.tf, plan.json (as `terraform show -json` wrote it) and README.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import realtf  # noqa: E402

OUT = HERE / "ami-drift"

README = """\
# Example: AMI drift

A real plan made by Terraform {terraform} with the AWS provider {provider}, against
[moto](https://github.com/getmoto/moto) (a local fake AWS) instead of an AWS account.
`python examples/make_example.py` rebuilds this folder; the steps are the `ami_drift`
scenario of `tests/scenarios/`:

1. publish an image `amzn2-ami-hvm-2.0.20240101-x86_64-gp2` (owned by "self");
2. `terraform init` and `terraform apply` with `main.tf`: `aws_instance.app` runs that image
   ({old});
3. publish a newer image `amzn2-ami-hvm-2.0.20240201-x86_64-gp2` ({new});
4. `terraform plan -out=tfplan`, then `terraform show -json tfplan > plan.json`.

Nobody changed the code, yet the plan destroys the instance and creates a new one:
`data.aws_ami.al2` (`most_recent = true`) now finds the newer image, and `ami` forces
replacement. In `plan.json`, `aws_instance.app` has actions `["delete", "create"]`,
`action_reason` `replace_because_cannot_update` and `replace_paths` `[["ami"]]`; the data
source's new value is only in `prior_state`.

`provider.tf` is the one the harness wrote: fake credentials, with `AWS_ENDPOINT_URL`
pointing every AWS service at the local moto server (`http://127.0.0.1:PORT`) when it ran.
Ids, dates and the `timestamp` differ from run to run.

    replace-guard check examples/ami-drift/plan.json -C examples/ami-drift
"""


def main() -> int:
    reason = realtf.skip_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="make-example-"))
    try:
        with realtf.MotoServer(work / "moto.log") as moto:
            built = realtf.build_scenario("ami_drift", moto, work)
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir(parents=True)
        for name in ("main.tf", "provider.tf", "plan.json"):
            shutil.copyfile(built.dir / name, OUT / name)
        version = subprocess.run([realtf.find_terraform(), "version"], capture_output=True, text=True,
                                 check=True).stdout.split()[1].lstrip("v")
        provider = realtf.provider_binary_dir(realtf.find_mirror()).parent.name
        (OUT / "README.md").write_text(README.format(terraform=version, provider=provider,
                                                     old=built.values["old"], new=built.values["new"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
