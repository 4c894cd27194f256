"""Run the real ``terraform`` offline against the stand-in providers.

``Terraform(config_dir)`` makes a private working copy of the configuration (a tree of real
directories and symlinks under ``.tfoffline/work/``), so nothing is written into the source
tree and two instances never share ``.terraform``, the lock file or the state.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tfoffline.install import REPO_ROOT, Installation, installation
from tfoffline.servers import ProviderServers, live_servers

__all__ = ["Installation", "Terraform", "TerraformError", "fmt_check", "terraform"]

# Names never linked into a working copy: Terraform's own files and build output would
# otherwise be written through the link into the source tree.
SKIP_NAMES = {
    ".git",
    ".terraform",
    ".terraform.lock.hcl",
    ".tfoffline",
    "build",
    "node_modules",
    "__pycache__",
}
SKIP_PATTERNS = (
    re.compile(r"^terraform\.tfstate.*"),
    re.compile(r"^\.venv.*"),
    re.compile(r".*\.tfplan$"),
)


class TerraformError(Exception):
    """A terraform command failed; the message is its error output."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.cmd = list(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        detail = stderr.strip() or stdout.strip()
        super().__init__(f"terraform {' '.join(args[:1])} failed (exit {returncode}):\n{detail}")


def _uses_provider_aliases(root: Path, source: Path) -> bool:
    """Whether the configuration (or a local module under ``root``) declares a provider alias."""
    for base in {root, source}:
        for path in base.glob("*.tf"):
            if re.search(r"^\s*alias\s*=", path.read_text(errors="replace"), re.MULTILINE):
                return True
    return False


def _skipped(name: str) -> bool:
    return name in SKIP_NAMES or any(p.match(name) for p in SKIP_PATTERNS)


def _link_farm(root: Path, config: Path, dest: Path) -> Path:
    """Mirror ``root`` into ``dest``: real dirs on the way to ``config``, symlinks elsewhere."""
    rel = config.relative_to(root)
    src, dst = root, dest
    steps = list(rel.parts)
    while True:
        dst.mkdir(parents=True, exist_ok=True)
        nxt = steps[0] if steps else None
        for entry in sorted(os.listdir(src)):
            if entry == nxt or _skipped(entry):
                continue
            (dst / entry).symlink_to(src / entry)
        if not steps:
            return dst
        src, dst = src / steps[0], dst / steps[0]
        steps.pop(0)


class Terraform:
    """One configuration, one private working copy, the real ``terraform`` with stand-in providers.

    >>> tf = Terraform("examples/echo")
    >>> tf.init(); tf.validate()
    >>> plan = tf.plan(variables={"name": "demo"})     # `terraform show -json` of the plan
    >>> outputs = tf.apply(variables={"name": "demo"}) # {"output_name": value}
    >>> tf.destroy(); tf.cleanup()
    """

    _counter = itertools.count()

    def __init__(
        self,
        config_dir: str | os.PathLike[str],
        *,
        root: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
        reattach: bool | None = None,
    ) -> None:
        path = Path(config_dir)
        if not path.is_absolute() and not path.exists() and (REPO_ROOT / path).exists():
            path = REPO_ROOT / path
        self.source = path.resolve()
        if not self.source.is_dir():
            raise FileNotFoundError(f"no Terraform configuration directory at {self.source}")
        if root is not None:
            self.root = Path(root).resolve()
        elif self.source.is_relative_to(REPO_ROOT):
            self.root = REPO_ROOT
        else:
            self.root = self.source
        self.install = installation()
        self.timeout = timeout
        rel = self.source.relative_to(self.root).as_posix()
        label = re.sub(r"[^A-Za-z0-9_-]+", "-", self.source.name if rel == "." else rel)
        self.copy_root = Path(tempfile.mkdtemp(prefix=f"{label[-40:]}-", dir=self.install.work))
        (self.copy_root / "owner.pid").write_text(str(os.getpid()))
        self.workdir = _link_farm(self.root, self.source, self.copy_root / "tree")
        self.env = self.install.base_env()
        self.env["TF_DATA_DIR"] = str(self.workdir / ".terraform")
        # One AWS account per working copy: what its resources hold account-wide (IAM names,
        # API Gateway's CloudWatch role per region); see account.py. env= may share one.
        self.env["TFOFFLINE_ACCOUNT_FILE"] = str(self.copy_root / "account.json")
        if env:
            self.env.update(env)
        self.last_variables: dict[str, Any] | None = None
        self._initialised = False
        # Reattached servers hold one provider configuration at a time, so configurations
        # with provider aliases use the launchers in the mirror instead.
        self.reattach = (
            (not _uses_provider_aliases(self.root, self.source)) if reattach is None else reattach
        )
        self._servers: ProviderServers | None = None

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def binary(self) -> str:
        return self.install.binary

    def _command_env(self, args: Sequence[str]) -> dict[str, str]:
        if not self.reattach or args[:1] == ("init",) or args[:1] == ["init"]:
            return self.env
        if self._servers is None:
            self._servers = ProviderServers(self.env, self.workdir)
            live_servers.append(self._servers)
        return {**self.env, "TF_REATTACH_PROVIDERS": self._servers.reattach}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``terraform <args>`` in the working copy; raise :class:`TerraformError` if failed."""
        proc = subprocess.run(
            [self.binary, *args],
            cwd=self.workdir,
            env=self._command_env(args),
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        if check and proc.returncode != 0:
            raise TerraformError(list(args), proc.returncode, proc.stdout, proc.stderr)
        return proc

    def _var_args(
        self, variables: Mapping[str, Any] | None, var_files: Sequence[str | os.PathLike[str]] = ()
    ) -> list[str]:
        args = [f"-var-file={Path(f).resolve()}" for f in var_files]
        if variables:
            path = self.copy_root / f"vars-{next(self._counter)}.tfvars.json"
            path.write_text(json.dumps(variables))
            args.append(f"-var-file={path}")
        return args

    def _ensure_init(self) -> None:
        if not self._initialised:
            self.init()

    # -- commands ------------------------------------------------------------------------------
    def init(self, *args: str) -> str:
        out = self.run("init", "-input=false", "-no-color", *args).stdout
        self._initialised = True
        return out

    def validate(self) -> dict[str, Any]:
        """``terraform validate -json``; raises with the diagnostics when the config is invalid."""
        self._ensure_init()
        proc = self.run("validate", "-json", "-no-color", check=False)
        try:
            result: dict[str, Any] = json.loads(proc.stdout)
        except ValueError:
            raise TerraformError(["validate"], proc.returncode, proc.stdout, proc.stderr) from None
        if not result.get("valid", False) or proc.returncode != 0:
            raise TerraformError(
                ["validate"], proc.returncode, proc.stdout, format_diagnostics(result)
            )
        return result

    def plan(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        var_files: Sequence[str | os.PathLike[str]] = (),
        destroy: bool = False,
        args: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Plan and return ``terraform show -json`` of the saved plan."""
        self._ensure_init()
        plan_file = self.copy_root / f"plan-{next(self._counter)}.tfplan"
        extra = ["-destroy"] if destroy else []
        self.run(
            "plan",
            "-input=false",
            "-no-color",
            f"-out={plan_file}",
            *extra,
            *self._var_args(variables, var_files),
            *args,
        )
        result: dict[str, Any] = json.loads(
            self.run("show", "-json", "-no-color", str(plan_file)).stdout
        )
        return result

    def apply(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        var_files: Sequence[str | os.PathLike[str]] = (),
        args: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Apply (auto-approved) and return the root module's output values by name."""
        self._ensure_init()
        self.last_variables = dict(variables) if variables else None
        self.run(
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            *self._var_args(variables, var_files),
            *args,
        )
        return self.outputs()

    def outputs(self) -> dict[str, Any]:
        raw = json.loads(self.run("output", "-json", "-no-color").stdout or "{}")
        return {name: o.get("value") for name, o in raw.items()}

    def state(self) -> dict[str, Any]:
        """``terraform show -json`` of the current state."""
        result: dict[str, Any] = json.loads(self.run("show", "-json", "-no-color").stdout)
        return result

    def destroy(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        var_files: Sequence[str | os.PathLike[str]] = (),
    ) -> str:
        """Destroy everything in the state (with the variables of the last apply by default)."""
        self._ensure_init()
        if variables is None:
            variables = self.last_variables
        return self.run(
            "destroy",
            "-input=false",
            "-no-color",
            "-auto-approve",
            *self._var_args(variables, var_files),
        ).stdout

    def test(self, *args: str, variables: Mapping[str, Any] | None = None) -> str:
        """``terraform test`` (``*.tftest.hcl``); returns its output, raises when a run fails."""
        self._ensure_init()
        var_args = [
            f"-var={k}={v if isinstance(v, str) else json.dumps(v)}"
            for k, v in (variables or {}).items()
        ]
        return self.run("test", "-no-color", *var_args, *args).stdout

    def fmt_check(self) -> list[str]:
        """Files under the configuration that ``terraform fmt`` would change; raises if any."""
        return fmt_check(self.source)

    def tftest(self) -> Any:
        """A ``tftest.TerraformTest`` bound to this working copy and environment."""
        import tftest

        return tftest.TerraformTest(
            str(self.workdir), binary=self.binary, env=self._command_env(())
        )

    def cleanup(self) -> None:
        """Stop this copy's provider servers and remove it (state, plans, ``.terraform``)."""
        if self._servers is not None:
            self._servers.stop()
            live_servers.remove(self._servers)
            self._servers = None
        shutil.rmtree(self.copy_root, ignore_errors=True)

    def __enter__(self) -> Terraform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def format_diagnostics(result: Mapping[str, Any]) -> str:
    """Validate/plan JSON diagnostics as readable text: ``Error: summary: detail (file:line)``."""
    lines = []
    for d in result.get("diagnostics", []):
        rng = d.get("range") or {}
        where = f" ({rng.get('filename')}:{rng.get('start', {}).get('line')})" if rng else ""
        lines.append(
            f"{d.get('severity', 'error').capitalize()}: {d.get('summary')}: "
            f"{d.get('detail', '')}{where}"
        )
    return "\n".join(lines)


def fmt_check(path: str | os.PathLike[str], *, recursive: bool = True) -> list[str]:
    """``terraform fmt -check [-recursive]`` on ``path``: raise :class:`TerraformError` listing
    the files that need formatting. Terraform skips hidden directories (``.terraform``); build
    output and dependency folders are ignored too. Returns the files checked clean (empty list).
    """
    inst = installation()
    target = Path(path).resolve()
    args = ["fmt", "-check", "-list=true", "-no-color", *(["-recursive"] if recursive else [])]
    proc = subprocess.run(
        [inst.binary, *args, str(target)],
        capture_output=True,
        text=True,
        env=inst.base_env(),
        timeout=120,
        cwd=target if target.is_dir() else target.parent,
    )
    if proc.returncode == 0:
        return []
    if proc.returncode == 3:  # some files are not formatted
        bad = [
            line
            for line in proc.stdout.splitlines()
            if line.strip() and not any(_skipped(part) for part in Path(line).parts)
        ]
        if not bad:
            return []
        raise TerraformError(
            args, proc.returncode, "\n".join(bad), "needs terraform fmt:\n" + "\n".join(bad)
        )
    raise TerraformError(args, proc.returncode, proc.stdout, proc.stderr)


@contextlib.contextmanager
def terraform(config_dir: str | os.PathLike[str], **kw: Any) -> Iterator[Terraform]:
    """``with terraform("examples/echo") as tf: ...`` — cleans the working copy afterwards."""
    tf = Terraform(config_dir, **kw)
    try:
        yield tf
    finally:
        tf.cleanup()
