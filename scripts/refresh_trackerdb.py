#!/usr/bin/env python3
"""Regenerate the vendored tracker database under generator/data/trackerdb/.

    python scripts/refresh_trackerdb.py                 # latest published version
    python scripts/refresh_trackerdb.py --version 1.0.945

Runs `npm pack @ghostery/trackerdb@<version>` in a temporary directory (the only step that
touches the network; tests and the build never call this script), reads `dist/trackerdb.json`,
`LICENSE` and `package.json` straight out of the tarball (nothing is extracted to disk) and
writes three files:

- trackerdb.json  compact derived data: domain -> pattern, pattern -> name/organization/category,
                  organization -> name, category -> name. Sorted keys, 2-space indent, LF,
                  trailing newline: the same input version always gives the same bytes.
- LICENSE         the package's licence notice, verbatim, with the attribution header.
- SOURCE.md       package, version, tarball integrity and what was changed in the derivation.

Review the result as a diff and commit it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@ghostery/trackerdb"
OUT_DIR = Path(__file__).resolve().parent.parent / "generator" / "data" / "trackerdb"
FORMAT = 1

# An adblock filter that names a whole host and nothing else ("||host^" or "||host^$3p") is a
# domain rule in all but name: these are added to the domain table when no domain entry covers them.
HOST_FILTER_RE = re.compile(r"^\|\|([a-z0-9-]+(?:\.[a-z0-9-]+)+)\^(?:\$3p)?$")


def npm_pack(version: str, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """Download the package tarball with npm; return its path and npm's description of it."""
    spec = f"{PACKAGE}@{version}"
    result = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(result.stdout)[0]
    return workdir / info["filename"], info


def read_member(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.getmember(name)
    handle = tar.extractfile(member)
    if handle is None:
        raise SystemExit(f"{name}: not a regular file in the tarball")
    return handle.read()


def covered(host: str, domains: dict[str, str]) -> bool:
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def derive(raw: dict[str, Any], version: str, integrity: str) -> dict[str, Any]:
    """The compact table that generator/trackers.py reads."""
    patterns_in: dict[str, dict[str, Any]] = raw["patterns"]
    domains: dict[str, str] = {}
    for domain, pattern in raw["domains"].items():
        if pattern in patterns_in:
            domains[domain.lower()] = pattern
    host_filters: dict[str, str] = {}
    for rule, pattern in sorted(raw["filters"].items()):
        match = HOST_FILTER_RE.match(rule)
        if match and pattern in patterns_in and not covered(match.group(1), domains):
            host_filters.setdefault(match.group(1), pattern)
    domains.update(host_filters)

    used = set(domains.values())
    patterns = {
        key: {
            "category": value.get("category") or None,
            "name": value.get("name") or key,
            "organization": value.get("organization") or None,
        }
        for key, value in patterns_in.items()
        if key in used
    }
    org_keys = {p["organization"] for p in patterns.values() if p["organization"]}
    organizations = {
        key: {"country": value.get("country") or None, "name": value.get("name") or key,
              "website_url": value.get("website_url") or None}
        for key, value in raw["organizations"].items()
        if key in org_keys
    }
    for p in patterns.values():
        if p["organization"] not in organizations:
            p["organization"] = None
    categories = {
        key: {"description": value.get("description") or "", "name": value.get("name") or key}
        for key, value in raw["categories"].items()
    }
    return {
        "categories": categories,
        "domains": domains,
        "format": FORMAT,
        "organizations": organizations,
        "patterns": patterns,
        "source": {
            "integrity": integrity,
            "license": "CC-BY-NC-SA-4.0",
            "package": PACKAGE,
            "url": "https://github.com/ghostery/trackerdb",
            "version": version,
        },
    }


def source_md(data: dict[str, Any], info: dict[str, Any], raw: dict[str, Any]) -> str:
    src = data["source"]
    return f"""# Tracker database (vendored, derived)

- Package: `{PACKAGE}` version **{src["version"]}** (npm), tarball `{info["filename"]}`
- Tarball integrity: `{src["integrity"]}`
- Upstream: <https://github.com/ghostery/trackerdb> — Ghostery Tracker Database, © Ghostery GmbH
- Licence: Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International
  (CC BY-NC-SA 4.0), <https://creativecommons.org/licenses/by-nc-sa/4.0/>; see `LICENSE`.
  `trackerdb.json` here is an adaptation and is shared under the same licence.
- Regenerate: `python scripts/refresh_trackerdb.py [--version X.Y.Z]` (needs `npm`; network).

## Changes made to the upstream data

`trackerdb.json` is derived from the package's `dist/trackerdb.json`:

- kept: the domain table (domain → pattern), and of each pattern its name, organization and
  category; of each organization its name, country and website; of each category its name and
  description;
- added to the domain table: hosts named by whole-host filters (`||host^`, `||host^$3p`) that no
  domain entry already covers;
- dropped: URL and path filters, descriptions of organizations and patterns, privacy contacts,
  tags, Ghostery ids, patterns that own no domain, organizations that own no kept pattern.

Counts: {len(data["domains"])} domains, {len(data["patterns"])} patterns, \
{len(data["organizations"])} organizations, {len(data["categories"])} categories \
(upstream: {len(raw["domains"])} domains, {len(raw["patterns"])} patterns, \
{len(raw["organizations"])} organizations).
"""


LICENSE_HEADER = """\
Ghostery Tracker Database (@ghostery/trackerdb {version}), https://github.com/ghostery/trackerdb
Copyright Ghostery GmbH. Licensed under CC BY-NC-SA 4.0:
https://creativecommons.org/licenses/by-nc-sa/4.0/ (legal code:
https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode).
trackerdb.json in this folder is adapted from it (see SOURCE.md for the changes) and is
shared under the same licence. The rest of this repository keeps its own licence.

The package's LICENSE file, verbatim:
----------------------------------------------------------------------------------------
"""


def dump_json(data: object) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default="latest", help="package version or dist-tag (default: latest)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default: {OUT_DIR})")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="trackerdb-") as tmp:
        tarball, info = npm_pack(args.version, Path(tmp))
        with tarfile.open(tarball, "r:gz") as tar:
            raw = json.loads(read_member(tar, "package/dist/trackerdb.json"))
            licence = read_member(tar, "package/LICENSE").decode("utf-8")
            package_json = json.loads(read_member(tar, "package/package.json"))

    if package_json.get("license") != "CC-BY-NC-SA-4.0":
        print(f"warning: the package licence is now {package_json.get('license')!r}: update LICENSE_HEADER, "
              "SOURCE.md and generator/trackers.py", file=sys.stderr)
    version = str(package_json["version"])
    data = derive(raw, version, str(info.get("integrity", "")))
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "trackerdb.json", dump_json(data))
    write(args.out / "LICENSE", LICENSE_HEADER.format(version=version) + licence.rstrip() + "\n")
    write(args.out / "SOURCE.md", source_md(data, info, raw))
    size = (args.out / "trackerdb.json").stat().st_size
    print(f"{PACKAGE}@{version}: {len(data['domains'])} domains, {len(data['patterns'])} patterns, "
          f"{size} bytes -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
