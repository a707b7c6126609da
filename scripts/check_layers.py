#!/usr/bin/env python3
"""Dependencies point down: no src/ module imports one of a higher layer, and no cycle
between top-level modules.

Reads every `crate::MODULE` path in src/ (`use crate::{a, b::c}` groups included, and
`image_janitor::MODULE` in main.rs), maps each file to its top-level module (src/foo.rs,
src/foo/**, and the sibling test files src/foo_tests.rs that foo.rs includes with
`#[path]`), and holds the edges against LAYERS below: an edge may stay in its layer or go
down, never up; and the graph of top-level modules must have no cycle (same-layer edges
included). A module missing from the table is an error too: a new module takes a place
in the table on purpose.

    python3 scripts/check_layers.py            # check; exit 1 with one line per problem
    python3 scripts/check_layers.py --graph    # also print every edge and where it comes from

Run by scripts/lint.sh (section check_layers). Standard library only.

Unit-test placement (the house convention; scripts/split_tests.py applies it): a module's
unit tests live in a sibling file, `foo_tests.rs` beside `foo.rs` (declared in foo.rs as
`#[cfg(test)] #[path = "foo_tests.rs"] mod tests;`), or `tests.rs` beside a `mod.rs`
(`#[cfg(test)] mod tests;`). Such files belong to their module's layer here.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# Highest layer first. Derived from the code as it stands and from DESIGN.md's layout:
# entry points wire everything; features are the commands and long-lived tasks; config and
# dead-lettering serve several features; adapters and runtime plumbing talk to AWS, the
# process and the metrics registry; the domain is pure (message, URLs, reasons); the
# foundations import nothing of the crate at all.
LAYERS: list[tuple[str, list[str]]] = [
    ("entry", ["main", "app"]),
    ("features", ["worker", "sweeper", "dlq", "preflight", "publish", "depth"]),
    # config sits above the adapters only because it names queue::QueueId and
    # telemetry::LogFormat; with those two types moved down it could join the domain.
    # fakes (test-only) implement the adapters' traits for the features' unit tests.
    ("services", ["config", "deadletter", "fakes"]),
    ("adapters", ["aws", "queue", "store", "telemetry", "shutdown"]),
    ("domain", ["message", "s3url", "reason"]),
    ("foundations", ["aws_error", "retry", "timestamp", "redact", "cli"]),
]

# Known upward imports, each (file, module it imports). Being removed on the "super" branch
# (issue 11: DLQ resolution moves from app.rs into the queue adapter). Empty this list when
# that branch is merged: an entry that no longer matches anything fails the check, so the
# list cannot outlive its reason.
ALLOWED_UPWARD: list[tuple[str, str]] = [
    ("src/dlq/command.rs", "app"),
    ("src/preflight/command.rs", "app"),
]

PATH_ATTR = re.compile(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*;')
GROUP = re.compile(r"\b(?:crate|image_janitor)::\{")
PLAIN = re.compile(r"\b(?:crate|image_janitor)::(\w+)")
SUPER_TOP = re.compile(r"\bsuper::(\w+)")


def strip_comments(text: str) -> str:
    """Drop `//` comments (doc comments included: intra-doc links are not imports) and
    `/* */` blocks; string literals are left alone (a `//` inside "http://" is kept)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|[\s;{}(),])//[^\n]*", r"\1", text)


def group_items(text: str, start: int) -> list[str]:
    """The first path segment of each item of the `{...}` group opening at `start`."""
    depth, i, items, cur = 0, start, [], ""
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
            if depth > 1:
                cur += c
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
            cur += c
        elif c == "," and depth == 1:
            items.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    items.append(cur)
    out = []
    for item in items:
        m = re.match(r"\s*(\w+)", item)
        if m and m.group(1) not in ("self",):
            out.append(m.group(1))
    return out


def owners() -> dict[Path, str]:
    """Each .rs file under src/ → its top-level module."""
    files = sorted(SRC.rglob("*.rs"))
    owner: dict[Path, str] = {}
    for f in files:
        rel = f.relative_to(SRC)
        if len(rel.parts) > 1:
            owner[f] = rel.parts[0]
        elif f.name != "lib.rs":
            owner[f] = f.stem
    # Files included with #[path] (sibling test files) belong to the includer's module.
    for f in files:
        if f not in owner:
            continue
        for m in PATH_ATTR.finditer(f.read_text(encoding="utf-8")):
            target = (f.parent / m.group(1)).resolve()
            if target in owner:
                owner[target] = owner[f]
    return owner


def edges(owner: dict[Path, str]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    known = set(owner.values())
    for f, src in owner.items():
        text = strip_comments(f.read_text(encoding="utf-8"))
        rel = str(f.relative_to(ROOT))
        targets = [m.group(1) for m in PLAIN.finditer(text)]
        for m in GROUP.finditer(text):
            targets += group_items(text, m.end() - 1)
        # `super::x` in a top-level file (src/foo.rs) names the crate root's x.
        if f.parent == SRC and owner[f] == f.stem:
            targets += [t for t in (m.group(1) for m in SUPER_TOP.finditer(text)) if t in known]
        for dst in targets:
            if dst != src and dst in known:
                found[(src, dst)].add(rel)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(show_graph: bool) -> list[str]:
    rank: dict[str, int] = {}
    problems: list[str] = []
    for i, (name, modules) in enumerate(LAYERS):
        for mod in modules:
            if mod in rank:
                problems.append(f"layer table: {mod} is listed twice")
            rank[mod] = len(LAYERS) - i
    layer_name = {m: name for name, mods in LAYERS for m in mods}
    owner = owners()
    for mod in sorted(set(owner.values()) - set(rank)):
        problems.append(
            f"src/{mod}: module not in the layer table of scripts/check_layers.py; give it a layer"
        )
    for mod in sorted(set(rank) - set(owner.values())):
        problems.append(f"layer table names {mod}, which is not a module of src/; remove it")
    found = edges(owner)
    used_allowances: set[tuple[str, str]] = set()
    graph: dict[str, set[str]] = defaultdict(set)
    for (src, dst), files in sorted(found.items()):
        graph[src].add(dst)
        if show_graph:
            print(f"{src} ({layer_name.get(src, '?')}) -> {dst} ({layer_name.get(dst, '?')}): {', '.join(sorted(files))}")
        if src not in rank or dst not in rank or rank[dst] <= rank[src]:
            continue
        for f in sorted(files):
            if (f, dst) in ALLOWED_UPWARD:
                used_allowances.add((f, dst))
                continue
            problems.append(
                f"{f}: upward import: {src} ({layer_name[src]}) uses crate::{dst} ({layer_name[dst]})"
            )
    for f, dst in ALLOWED_UPWARD:
        if (f, dst) not in used_allowances:
            problems.append(
                f"scripts/check_layers.py: ALLOWED_UPWARD entry ({f}, {dst}) matches no import any more; remove it"
            )
    for comp in cycles(graph):
        detail = "; ".join(
            f"{a} -> {b} ({', '.join(sorted(found[(a, b)]))})"
            for a in comp
            for b in comp
            if (a, b) in found
        )
        problems.append(f"import cycle between {', '.join(comp)}: {detail}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", action="store_true", help="print every module edge")
    args = parser.parse_args()
    problems = check(args.graph)
    for p in problems:
        print(p)
    if problems:
        return 1
    layers = " > ".join(f"{name} ({', '.join(mods)})" for name, mods in LAYERS)
    print(f"layers ok: {layers}; allowed upward imports: {len(ALLOWED_UPWARD)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
