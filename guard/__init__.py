"""replace-guard: stop Terraform plans that destroy or replace resources nobody asked to."""

__version__ = "0.1.0"
