"""Discover the signature files in patterns/, order them by declared precedence, and version them.

Usage:
  1. Each signature lives in ``patterns/<area>/<slug>.yml`` and its id is ``<area>/<slug>``.
  2. ``patterns/catalog.yml`` lists every id under ``precedence``, most specific cause first:
     when several signatures match one entry, the earliest listed is the primary match.
  3. ``load_catalog()`` parses and checks everything (ConfigError lists every problem) and
     returns a Catalog whose ``version`` is a hash of the files, stored with each match.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forensics.errors import ConfigError
from forensics.paths import patterns_dir
from forensics.signatures.model import Signature, parse_signature

__all__ = ["CATALOG_FILE", "Catalog", "CatalogScan", "Problem", "load_catalog", "scan_catalog"]

CATALOG_FILE = "catalog.yml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


@dataclass(frozen=True)
class Problem:
    """Something wrong in the catalog: where, which key, what."""

    path: str
    key: str
    message: str
    fatal: bool = True  # fatal problems stop loading; the others only fail `patterns lint`

    def __str__(self) -> str:
        return f"{self.path}: {self.key}: {self.message}"


@dataclass(frozen=True)
class Catalog:
    """The signatures in precedence order (primary first) and the catalog's version hash."""

    signatures: tuple[Signature, ...]
    version: str
    directory: Path

    def get(self, signature_id: str) -> Signature:
        """The signature with this id; ConfigError listing the known ids if there is none."""
        for sig in self.signatures:
            if sig.id == signature_id:
                return sig
        raise ConfigError(
            f"no signature {signature_id!r} (known: {', '.join(s.id for s in self.signatures)})"
        )

    def active(self) -> list[Signature]:
        """Signatures used for classification (deprecated ones stay only for old reports)."""
        return [s for s in self.signatures if s.status != "deprecated"]

    def select(self, pattern: str) -> list[Signature]:
        """Signatures whose id matches a glob such as ``cloudrun/*``."""
        return [s for s in self.signatures if fnmatch.fnmatchcase(s.id, pattern)]

    def logging_filter(self) -> str:
        """One Cloud Logging clause matching a superset of every active signature's entries."""
        clauses = [c for s in self.active() if (c := s.logging_filter())]
        return " OR ".join(f"({c})" for c in clauses)


@dataclass
class CatalogScan:
    """Everything read from a patterns directory, with the problems found on the way."""

    directory: Path
    raw: dict[Path, Any] = field(default_factory=dict)
    signatures: list[Signature] = field(default_factory=list)
    precedence: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    version: str = ""

    def add(self, path: Path | str, key: str, message: str, fatal: bool = True) -> None:
        self.problems.append(Problem(str(path), key, message, fatal))


def signature_files(directory: Path) -> list[Path]:
    """``<area>/<slug>.yml`` files (top-level files such as catalog.yml are not signatures)."""
    return sorted(p for p in directory.glob("*/*.yml") if p.is_file())


def _read_yaml(path: Path, scan: CatalogScan) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        scan.add(path, where, f"not valid YAML: {getattr(err, 'problem', err)}")
    except OSError as err:
        scan.add(path, "(file)", f"cannot read: {err.strerror}")
    return None


def _read_precedence(scan: CatalogScan) -> None:
    path = scan.directory / CATALOG_FILE
    if not path.is_file():
        scan.add(path, "(file)", "missing: it must list every signature id under `precedence`")
        return
    data = _read_yaml(path, scan)
    order = data.get("precedence") if isinstance(data, dict) else None
    if not isinstance(order, list) or not all(isinstance(i, str) for i in order):
        scan.add(path, "precedence", "expected a list of signature ids, primary first")
        return
    scan.precedence = list(order)


def _version(files: list[Path], directory: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"")
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def scan_catalog(directory: Path | None = None) -> CatalogScan:
    """Read and parse every pattern file, collecting problems instead of stopping at one."""
    root = Path(directory) if directory is not None else patterns_dir()
    scan = CatalogScan(root)
    if not root.is_dir():
        scan.add(root, "(directory)", "no patterns directory here")
        return scan
    files = signature_files(root)
    scan.version = _version([root / CATALOG_FILE, *files], root)
    _read_precedence(scan)
    for path in files:
        data = _read_yaml(path, scan)
        if data is None:
            continue
        scan.raw[path] = data
        try:
            scan.signatures.append(parse_signature(data, path))
        except ConfigError as err:
            scan.add(path, "(signature)", str(err).split(": ", 1)[-1])
    return scan


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load the catalog in ``directory`` (default: patterns/), checked, in precedence order.

    Raises:
        ConfigError: listing every fatal problem (bad YAML, bad field, id not matching its
            path, duplicate id, precedence not listing every signature, invalid RE2 regex).

    Example:
        >>> catalog = load_catalog()
        >>> catalog.get("startup/exit-code-3").level
        'high'
    """
    from forensics.signatures.validators import structural_problems

    scan = scan_catalog(directory)
    structural_problems(scan)
    fatal = [p for p in scan.problems if p.fatal]
    if fatal:
        raise ConfigError("invalid signature catalog:\n  " + "\n  ".join(map(str, fatal)))
    rank = {sig_id: i for i, sig_id in enumerate(scan.precedence)}
    ordered = sorted(scan.signatures, key=lambda s: rank[s.id])
    return Catalog(tuple(ordered), scan.version, scan.directory)
