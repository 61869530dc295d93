"""TFG021: an in-place update that replaces or restarts machines: an auto scaling group whose
instance refresh starts, an EKS node group that rolls its nodes, an instance stopped and started
for a new instance type or user data. The plan shows `~ update`; apply takes machines down."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from ..analysis import Analysis
from ..diff import leaf_changes
from ..engine import ASKED_KINDS, Cause, CauseKind, rank
from ..findings import Finding, Fix, Severity
from ..fixes import NO_PIN, Fixer
from ..launches import GROUP, capacity, fleet
from ..model import ResourceChange
from ..values import path_text, top_attr
from .base import Claimed, Rule, group_key

NODE_GROUP = "aws_eks_node_group"
NODE_GROUP_ATTRS = ("version", "release_version", "ami_type", "launch_template")
INSTANCE_TYPES = ("aws_instance",)
RESTART_ATTRS = ("instance_type", "user_data", "user_data_base64")


class HiddenReplacement(Rule):
    id = "TFG021"
    name = "hidden-replacement"
    severity = Severity.error
    severity_text = "error/warning"
    summary = ("an update that replaces or restarts machines: an auto scaling group with `instance_refresh` whose "
               "launch template or configuration changes, an EKS node group's version, release version, AMI type or "
               "launch template version, an `aws_instance` `instance_type` or `user_data` change (stop and start); "
               "an error when the change traces to drift (or cannot be traced), a warning when to the code")
    why = (
        "The plan shows `~ update in-place`, and reviewers read that as harmless. Some updates are not:\n"
        "- an auto scaling group with an `instance_refresh` block starts a rolling refresh when its launch template "
        "version, launch template or launch configuration changes: AWS terminates every instance of the group and "
        "launches new ones (often because `data.aws_ami` with `most_recent` moved the template's `image_id`);\n"
        "- an EKS managed node group whose `version`, `release_version`, `ami_type` or launch template version "
        "changes drains and replaces every node;\n"
        "- an instance whose `instance_type` or `user_data` changes is stopped and started: downtime, "
        "instance-store volumes come back empty, and a public IP that is not an Elastic IP changes.\n"
        "When the change comes from drift (a data source read at plan time, an image nobody chose) or the chain "
        "cannot be followed, nobody asked for the rollout: error. When the code changed, the rollout is likely "
        "intended, but the plan does not say so: warning."
    )
    example = (
        'data "aws_ami" "al2" {\n  most_recent = true\n  owners      = ["amazon"]\n}\n\n'
        'resource "aws_launch_template" "app" {\n'
        "  image_id = data.aws_ami.al2.id      # a new image, a new template version\n"
        "}\n\n"
        'resource "aws_autoscaling_group" "app" {\n'
        "  launch_template {\n"
        "    id      = aws_launch_template.app.id\n"
        "    version = aws_launch_template.app.latest_version   # changes with it\n"
        "  }\n"
        '  instance_refresh {\n    strategy = "Rolling"        # so every instance is replaced\n  }\n'
        "}"
    )
    fix = (
        "Decide the rollout in the code: pin the image the template uses now (`replace-guard fix` writes the pin "
        "where it can) and move it on purpose; give the refresh safe preferences (`min_healthy_percentage`, "
        "`auto_rollback`, checkpoints); for node groups pin `release_version` / `version`; for instances plan the "
        "restart in a maintenance window, or keep the value with `lifecycle { ignore_changes = [...] }`."
    )

    def updates(self, an: Analysis, rc: ResourceChange) -> Sequence[tuple[str | int, ...]]:
        if rc.type == GROUP:
            group = fleet(an).groups.get(rc.full_address)
            if group is None or not group.starts_refresh:
                return ()
            return group.launch_changes + group.trigger_changes
        if rc.type == NODE_GROUP:
            # not filtered by the configuration: modules often write `launch_template` as a dynamic
            # block, which the plan's configuration does not show
            return self._leaves(an, rc, NODE_GROUP_ATTRS, configured_only=False)
        if rc.type in INSTANCE_TYPES:
            return self._leaves(an, rc, RESTART_ATTRS)
        return ()

    @staticmethod
    def _leaves(an: Analysis, rc: ResourceChange, attrs: tuple[str, ...],
                configured_only: bool = True) -> list[tuple[str | int, ...]]:
        """The leaves of `attrs` that change; with `configured_only`, among those the configuration
        sets (`user_data_base64` turns unknown beside a configured `user_data`)."""
        part = an.index.part
        before, after, unknown = part(rc, "before"), part(rc, "after"), part(rc, "after_unknown")
        if not isinstance(before, dict):
            return []
        addr = an.address(rc)
        cfg = an.graph.resource(addr.module_names, addr.local) if addr is not None else None
        configured = set(an.graph.exprs(cfg)) if cfg is not None and configured_only else None
        after = after if isinstance(after, dict) else {}
        marks = unknown if isinstance(unknown, dict) else {}
        out: list[tuple[str | int, ...]] = []
        for attr in attrs:
            if configured is not None and attr not in configured:
                continue
            out += leaf_changes(before.get(attr), after.get(attr), marks.get(attr), (attr,))
        return out

    def check(self, an: Analysis, claimed: Claimed) -> Iterable[Finding]:
        by_change: dict[int, list[tuple[ResourceChange, Cause]]] = {}
        for rc, cause in claimed:
            by_change.setdefault(id(rc), []).append((rc, cause))
        groups: dict[str | None, set[str]] = defaultdict(set)
        items = []
        for entries in by_change.values():
            rc = entries[0][0]
            causes = [c for _, c in entries]
            lead = min(causes, key=lambda c: rank(c.kind))
            key = group_key(self.id, an, lead)
            groups[key].add(rc.full_address)
            items.append((rc, lead, causes, key))
        fixer = Fixer(an)
        for rc, lead, causes, key in items:
            yield self._finding(an, fixer, rc, lead, causes, key)

    def _finding(self, an: Analysis, fixer: Fixer, rc: ResourceChange, lead: Cause, causes: list[Cause],
                 key: str | None) -> Finding:
        asked = lead.kind in ASKED_KINDS
        severity = Severity.warning if asked else Severity.error
        values = []
        for c in causes:
            before, after = an.shown_pair(rc, c.path, c)
            values.append(self.value_change(c.path, before, after))
        facts: dict[str, str] = {"cause": lead.kind.value}
        origin = self._origin(an, lead)
        fixes: list[Fix] = []
        what = ", ".join(f"`{path_text(c.path)}`" for c in causes)
        if rc.type == GROUP:
            n = capacity(an, rc)
            if n is not None:
                facts["desired_capacity"] = str(n)
            running = f"desired capacity {n}" if n is not None else "the plan does not show how many run now"
            title = f"{rc.full_address} is updated in place, and apply replaces every instance of the group"
            harm = (f"it has an instance_refresh block, so apply starts an instance refresh: AWS terminates every "
                    f"instance of the group and launches new ones in rolling batches ({running}). Whatever lives "
                    "only on those instances is lost")
            fixes += self._group_fixes(an, fixer, rc, lead)
        elif rc.type == NODE_GROUP:
            n = an.index.at(rc, "before", ("scaling_config", 0, "desired_size"))
            if isinstance(n, int) and not isinstance(n, bool):
                facts["desired_size"] = str(n)
            running = f"{n} node(s) now" if isinstance(n, int) else "every node"
            title = f"{rc.full_address} is updated in place, and EKS replaces every node"
            harm = (f"EKS rolls the node group: it drains each node, launches a new one and terminates the old "
                    f"({running}); pods restart and node-local data is lost")
            fixes += self._ignore(an, fixer, rc, causes, "EKS then leaves the nodes on what they run until you "
                                                         "upgrade them on purpose.")
        else:
            attrs = {top_attr(c.path) for c in causes}
            title = f"{rc.full_address} is updated in place, and apply stops and starts the instance"
            harm = ("the provider stops the instance, changes it and starts it again: downtime, instance-store "
                    "volumes come back empty, and a public IP that is not an Elastic IP changes")
            if attrs & {"user_data", "user_data_base64"}:
                harm += "; cloud-init does not run new user data on a restart unless told to"
            fixes += self._ignore(an, fixer, rc, causes, "the running instance keeps what it has; new settings "
                                                         "then need a deliberate change.")
        drifted = [path_text(c.path) for c in causes if an.engine.drifted(rc.full_address, tuple(c.path[:1]))]
        if drifted:
            facts["changed_outside_terraform"] = ", ".join(drifted)
            origin += (f"; {', '.join(drifted)} was changed outside Terraform, and apply sets it back")
        if lead.through:
            facts["through"] = an.through_words(lead)
        message = (f"{rc.full_address} will be updated in place ({what} changes), but {harm}. The change comes "
                   f"from {origin}.")
        if asked:
            message += " The code changed, so the rollout is likely intended: make sure it is."
        else:
            message += " Nobody changed the code for this."
        fixes.append(Fix(
            title="If the rollout is intended, allow it for this run",
            detail="Apply in a window where replacing the machines is fine, then allow the finding with a reason "
                   "(and an expiry) in .replace-guard.toml."))
        return self.finding(an, rc, title=title, message=message, chain=an.chain(lead), values=values,
                            paths=[c.path for c in causes], facts=facts, fixes=fixes, severity=severity, cause=lead,
                            group=key, root=self._root(an, lead))

    @staticmethod
    def _origin(an: Analysis, cause: Cause) -> str:
        if cause.kind is CauseKind.image_drift and cause.data is not None:
            name = cause.data.values.get("name")
            picked = f" and picked {name}" if isinstance(name, str) and name else ""
            return f"{cause.data.address} (most_recent = true), read again at this plan{picked}"
        if cause.data is not None:
            return f"{cause.data.address}, a data source read again at this plan"
        root = cause.root
        if cause.kind is CauseKind.volatile and root is not None:
            return f"{root.ref}, which is new on every run"
        if cause.kind is CauseKind.not_proven:
            return "something the plan does not show (not proven to be asked for: " + cause.evidence + ")"
        if root is not None and root.kind == "variable" and not root.names:
            return f"{root.ref}, an input variable"
        return "the code (" + cause.evidence + ")"

    @staticmethod
    def _root(an: Analysis, cause: Cause) -> str | None:
        if cause.data is not None:
            return f"{cause.data.address} returns a new value"
        root = cause.root
        if root is not None and root.kind == "function":
            return f"{root.ref} is new on every run"
        if cause.through:
            return f"{cause.through[-1]} changes"
        return None

    def _group_fixes(self, an: Analysis, fixer: Fixer, rc: ResourceChange, cause: Cause) -> list[Fix]:
        fixes: list[Fix] = []
        inner = cause
        while inner.inner is not None:
            inner = inner.inner
        if cause.through and inner.data is not None:
            up = inner.change.full_address
            pinned = fixer.pin(rc, cause, what="image", title=f"Pin the image {up} uses now")
            if pinned.fix is not None:
                fixes.append(pinned.fix)
            else:
                fixes.append(Fix(title=f"Pin the image {up} uses now",
                                 detail=f"{NO_PIN}: {pinned.reason}."))
        fixes.append(Fix(
            title="Make the refresh safe",
            detail="Keep capacity while instances are replaced, and roll back when new ones fail their health "
                   "checks.",
            location=an.block_location(rc),
            snippet=("instance_refresh {\n  strategy = \"Rolling\"\n  preferences {\n"
                     "    min_healthy_percentage = 90\n    auto_rollback          = true\n  }\n}")))
        return fixes

    @staticmethod
    def _ignore(an: Analysis, fixer: Fixer, rc: ResourceChange, causes: list[Cause], why: str) -> list[Fix]:
        attrs = sorted({str(top_attr(c.path)) for c in causes if top_attr(c.path)})
        if not attrs:
            return []
        ignored = fixer.ignore(rc, attrs, why)
        if ignored.fix is None:
            return [Fix(title=f"Keep what runs now (`ignore_changes = [{', '.join(attrs)}]`)",
                        detail=ignored.reason + ".")]
        if any(c.kind in ASKED_KINDS for c in causes):
            # the code asked for this value: ignoring it would hide a change someone made on purpose
            return [ignored.fix.model_copy(update={"strategy": None, "edits": []})]
        return [ignored.fix]
