"""Build the Lambda package of a wsgate app: reproducible, with dependencies, no Docker.

Terraform runs ``packager/build.py`` (the protocol of the hashicorp/external data source) at
plan time and again, if the zip is missing, at apply time; ``wsgate local`` uses
:func:`host_site` to run handlers with the same requirements installed for this machine.
"""

from wsgate_pack.build import Request, build
from wsgate_pack.errors import BuildError
from wsgate_pack.local import host_site

__all__ = ["BuildError", "Request", "build", "host_site"]
