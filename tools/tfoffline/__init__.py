"""Offline Terraform for tests: the real ``terraform`` with stand-in aws and archive providers.

Public API (imported lazily so the provider processes start fast)::

    from tfoffline import Terraform, TerraformError, fmt_check

See ``tools/tfoffline/README.md``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Installation", "Terraform", "TerraformError", "fmt_check", "terraform"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tfoffline import harness

        return getattr(harness, name)
    raise AttributeError(name)
