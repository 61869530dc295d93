"""Terraform's `action_reason` values, in words."""

ACTION_REASONS: dict[str, str] = {
    "replace_because_cannot_update": "an argument that cannot be updated in place changed",
    "replace_because_tainted": "it is tainted (marked by `terraform taint`, or its creation or a provisioner failed)",
    "replace_by_request": "replacement was requested with `-replace`",
    "replace_by_triggers": "a `lifecycle.replace_triggered_by` reference changed",
    "delete_because_no_resource_config": "its resource block is no longer in the code",
    "delete_because_wrong_repetition": "`count`/`for_each` was added or removed, so this instance key no longer exists",
    "delete_because_count_index": "its index is beyond the new `count`",
    "delete_because_each_key": "its key is no longer in `for_each`",
    "delete_because_no_module": "its module call (or that module instance) is no longer in the code",
    "delete_because_no_move_target": "a `moved` block moves it to an address that does not exist in the code",
    "delete_because_enabled_false": "`lifecycle { enabled = false }` turns it off (OpenTofu)",
    "read_because_config_unknown": "its arguments use values that are known only after apply",
    "read_because_dependency_pending": "it depends on resources with changes pending in this plan",
    "read_because_check_nested": "it is inside a `check` block",
    "forgot_because_lifecycle_destroy_in_state": "its state says `lifecycle { destroy = false }` (OpenTofu)",
    "forgot_because_lifecycle_destroy_in_config": "the code says `lifecycle { destroy = false }` (OpenTofu)",
}


