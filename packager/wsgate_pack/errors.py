"""The one error the build reports: its message is what the user reads in `terraform plan`."""


class BuildError(Exception):
    """The package cannot be built; the message says why and what to change."""
