"""``python -m tfoffline env``: shell exports that let a plain ``terraform`` use the stand-ins.

    eval "$(PYTHONPATH=tools .venv/bin/python -m tfoffline env)"
    cd examples/echo && terraform init && terraform plan

Terraform then installs the stand-in providers from the git-ignored mirror and runs them with
this interpreter. (It writes ``.terraform/`` and the lock file where it runs, as always.)
"""

from __future__ import annotations

import shlex
import sys

from tfoffline.install import installation

KEYS = (
    "TF_CLI_CONFIG_FILE",
    "CHECKPOINT_DISABLE",
    "TFOFFLINE_PYTHON",
    "TFOFFLINE_PATH",
    "TFOFFLINE_CACHE",
)


def main(argv: list[str]) -> int:
    if argv != ["env"]:
        print(__doc__, file=sys.stderr)
        return 2
    env = installation().base_env()
    for key in KEYS:
        print(f"export {key}={shlex.quote(env[key])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
