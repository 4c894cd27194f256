"""Assemble the Lambda package: the wsgate runtime, the user's code, the dependencies.

Layout of the zip (Lambda adds its root, ``/var/task``, to ``sys.path``):

- ``wsgate/...``: the runtime package, from ``lambda/wsgate``;
- the files of ``source_dir`` at the root, byte for byte, less what ``source_excludes`` matches;
- the requirements' installed files at the root, next to the user's code;
- with a runtime-version interpreter, ``__pycache__/*.cpython-3XX.pyc`` beside every module.

The zip is written to ``<output_dir>/<name>-<hash>.zip``, named by its own content, so a
saved plan names exactly the bytes it was planned with. Only paths, sizes and hashes leave
this module: file contents never reach Terraform's plan or state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wsgate_pack import bytecode, deps
from wsgate_pack.errors import BuildError
from wsgate_pack.zipper import Member, base64sha256, normalised_mode, write_zip

#: The name the requirements file has when nobody chose one: its absence is not an error.
DEFAULT_REQUIREMENTS = "requirements.txt"
#: Bump when the zip layout changes, so recorded builds are not reused.
RECIPE_FORMAT = "1"
#: Older zips of the same name kept in the output directory (a missing one is rebuilt at apply
#: time anyway, so this only bounds the disk the directory takes).
KEEP_OLD_ZIPS = 2


@dataclass
class Request:
    """What to build; every field comes from the module's variables."""

    name: str
    runtime_dir: Path
    source_dir: Path
    output_dir: str
    runtime: str = "python3.12"
    architecture: str = "arm64"
    excludes: list[str] = field(default_factory=list)
    #: Relative paths resolve against source_dir; None installs nothing.
    requirements_file: str | None = DEFAULT_REQUIREMENTS
    #: "auto" (when an interpreter of the runtime's version is found), "true" or "false".
    compile_bytecode: str = "auto"
    #: "function": the layout above. "layer": only the runtime, under python/ (a Lambda layer is
    #: extracted to /opt, and /opt/python is on the Python runtimes' sys.path).
    layout: str = "function"

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Request:
        """The ``data "external"`` query: a flat map of strings (lists as JSON)."""
        try:
            return cls(
                name=query["name"],
                runtime_dir=Path(query["runtime_dir"]),
                source_dir=Path(query["source_dir"]),
                output_dir=query["output_dir"],
                runtime=query.get("runtime", "python3.12"),
                architecture=query.get("architecture", "arm64"),
                excludes=json.loads(query.get("excludes", "[]")),
                requirements_file=query.get("requirements_file", DEFAULT_REQUIREMENTS) or None,
                compile_bytecode=query.get("compile_bytecode", "auto"),
                layout=query.get("layout", "function"),
            )
        except KeyError as exc:
            raise BuildError(f"the build query lacks {exc.args[0]!r}") from None
        except ValueError as exc:
            raise BuildError(f"the build query's excludes are not a JSON list: {exc}") from None

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir)

    def requirements(self) -> Path | None:
        if self.requirements_file is None:
            return None
        path = Path(self.requirements_file)
        if not path.is_absolute():
            path = self.source_dir / path
        if path.is_file():
            return path
        if self.requirements_file == DEFAULT_REQUIREMENTS:
            return None  # no requirements.txt in source_dir: nothing to install
        raise BuildError(
            f"requirements_file {self.requirements_file!r} does not exist (looked for {path}); "
            "give a path relative to source_dir or an absolute one, or null to install nothing"
        )


def _walk(root: Path, skip: Path | None) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, file) for every file below root, sorted, links followed."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        st = here.stat()
        if (st.st_dev, st.st_ino) in seen:  # a link back up the tree
            dirnames.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        if skip is not None and here.resolve() == skip:
            dirnames.clear()
            continue
        dirnames.sort()
        for fname in sorted(filenames):
            full = here / fname
            if full.is_file():
                yield full.relative_to(root).as_posix(), full


def _kept(files: Iterator[tuple[str, Path]], excludes: list[str]) -> list[tuple[str, Path]]:
    try:
        patterns = [re.compile(p) for p in excludes]
    except re.error as exc:
        raise BuildError(f"source_excludes holds an invalid regular expression: {exc}") from None
    return [(rel, p) for rel, p in files if not any(pat.search(rel) for pat in patterns)]


def collect(req: Request) -> tuple[list[Member], dict[str, Any]]:
    """Every member of the package, and facts about it for the result."""
    if req.layout == "layer":
        return _collect_layer(req)
    if req.layout != "function":
        raise BuildError(f"layout {req.layout!r} must be function or layer")
    if not req.source_dir.is_dir():
        raise BuildError(f"source_dir {req.source_dir} is not a directory")
    if not (req.runtime_dir / "__init__.py").is_file():
        raise BuildError(f"the wsgate runtime is missing from {req.runtime_dir}")
    out_dir = req.output_path.resolve()
    user = _kept(_walk(req.source_dir, out_dir), req.excludes)
    runtime = [(f"wsgate/{rel}", p) for rel, p in _kept(_walk(req.runtime_dir, None), req.excludes)]
    clash = [rel for rel, _ in user if rel.startswith("wsgate/")]
    if clash:
        raise BuildError(
            f"source_dir holds {clash[0]}: the package keeps the wsgate runtime under wsgate/, "
            "so source_dir must not have a wsgate/ directory"
        )
    installed: list[tuple[str, Path]] = []
    requirements = req.requirements()
    if requirements is not None:
        site = deps.install(
            requirements, req.runtime, req.architecture, out_dir / ".cache" / "deps"
        )
        installed = [
            (rel, p)
            for rel, p in _walk(site, None)
            if rel != ".complete" and "/__pycache__/" not in f"/{rel}"
        ]
        mine = {rel for rel, _ in user}
        taken = sorted(mine & {rel for rel, _ in installed})
        if taken:
            raise BuildError(
                f"{taken[0]} is both in source_dir and installed from {requirements.name}: "
                "rename the file in source_dir or drop the requirement"
            )
    files = runtime + user + installed
    members = [Member(rel, p, normalised_mode(p)) for rel, p in files]
    facts: dict[str, Any] = {
        "requirements": _shown(requirements, req.source_dir),
        "dependency_files": len(installed),
        "bytecode": "",
    }
    members += _bytecode(req, runtime, user, installed, out_dir, facts)
    return members, facts


def _collect_layer(req: Request) -> tuple[list[Member], dict[str, Any]]:
    if not (req.runtime_dir / "__init__.py").is_file():
        raise BuildError(f"the wsgate runtime is missing from {req.runtime_dir}")
    runtime = [
        (f"python/wsgate/{rel}", p) for rel, p in _kept(_walk(req.runtime_dir, None), req.excludes)
    ]
    facts: dict[str, Any] = {"requirements": "", "dependency_files": 0, "bytecode": ""}
    members = [Member(rel, p, normalised_mode(p)) for rel, p in runtime]
    out_dir = req.output_path.resolve()
    members += _bytecode(req, runtime, [], [], out_dir, facts, prefix="python/")
    return members, facts


def _bytecode(
    req: Request,
    runtime: list[tuple[str, Path]],
    user: list[tuple[str, Path]],
    installed: list[tuple[str, Path]],
    out_dir: Path,
    facts: dict[str, Any],
    prefix: str = "",
) -> list[Member]:
    if req.compile_bytecode == "false":
        return []
    version = deps.python_version(req.runtime)
    interpreter = bytecode.find_interpreter(version)
    if interpreter is None:
        if req.compile_bytecode == "true":
            raise BuildError(
                f"compile_bytecode = true needs a Python {version} interpreter "
                f"(python{version} on PATH) where Terraform runs; install one, or set "
                "compile_bytecode = false (or null: compile only where one is found)"
            )
        return []
    # Compiled under their import path (what /var/task or /opt/python holds).
    own = [(rel.removeprefix(prefix), p) for rel, p in runtime + user if rel.endswith(".py")]
    theirs = [(rel, p) for rel, p in installed if rel.endswith(".py")]
    compiled, failed = bytecode.compile_all(
        own + theirs,
        version,
        interpreter,
        out_dir / ".cache" / "pyc",
        root="/opt/python" if prefix else "/var/task",
    )
    mine = [rel for rel, _ in own if rel in failed]
    if mine:
        raise BuildError(
            f"{mine[0]} does not compile with Python {version}: {failed[mine[0]]}. "
            "Lambda would fail the same way when it imports it."
        )
    facts["bytecode"] = bytecode.cache_tag(version)
    return [Member(prefix + name, path) for name, path in compiled.items()]


def _shown(path: Path | None, base: Path) -> str:
    """A path for the result, relative to source_dir when inside it (no checkout paths)."""
    if path is None:
        return ""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.name


def _recipe(members: list[Member]) -> str:
    h = hashlib.sha256(RECIPE_FORMAT.encode())
    for m in sorted(members, key=lambda m: m.name):
        h.update(f"{m.name}\0{int(m.executable)}\0".encode())
        h.update(hashlib.sha256(m.read()).digest())
    return h.hexdigest()


def _prune(out_dir: Path, name: str, current: Path) -> None:
    """Delete all but the newest KEEP_OLD_ZIPS zips of this package besides ``current``."""
    os.utime(current)  # the one in use is the newest
    pattern = re.compile(re.escape(name) + r"-[0-9a-f]{16}\.zip")
    old = sorted(
        (p for p in out_dir.iterdir() if pattern.fullmatch(p.name) and p.name != current.name),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for p in old[KEEP_OLD_ZIPS:]:
        p.unlink(missing_ok=True)


def build(req: Request) -> dict[str, str]:
    """Build (or find) the package; returns the result map ``data "external"`` hands back."""
    members, facts = collect(req)
    unzipped = sum(m.source.stat().st_size for m in members)
    out_dir = req.output_path
    recipe = _recipe(members)
    record = out_dir / ".cache" / "recipes" / f"{recipe}.json"
    zip_path: Path | None = None
    digest = ""
    if record.is_file():
        known = json.loads(record.read_text())
        candidate = out_dir / known["zip"]
        if candidate.is_file() and base64sha256(candidate) == known["base64sha256"]:
            zip_path, digest = candidate, known["base64sha256"]
    if zip_path is None:
        tmp = out_dir / f".{req.name}.{os.getpid()}.zip"
        write_zip(members, tmp)
        digest = base64sha256(tmp)
        hexdigest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        zip_path = out_dir / f"{req.name}-{hexdigest[:16]}.zip"
        os.replace(tmp, zip_path)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"zip": zip_path.name, "base64sha256": digest}))
    _prune(out_dir, req.name, zip_path)
    return {
        # The path as the caller spelled the output directory (relative stays relative, so
        # the plan reads the same in every checkout).
        "filename": f"{req.output_dir.rstrip('/')}/{zip_path.name}",
        "base64sha256": digest,
        "size": str(zip_path.stat().st_size),
        "unzipped_size": str(unzipped),
        "files": str(len(members)),
        "dependency_files": str(facts["dependency_files"]),
        "requirements": facts["requirements"],
        "bytecode": facts["bytecode"],
    }
