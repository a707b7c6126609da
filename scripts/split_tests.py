#!/usr/bin/env python3
"""Move a file's trailing inline `#[cfg(test)] mod tests { ... }` into its sibling file.

The house places unit tests beside their module, never inline:

    src/foo.rs      ->  src/foo_tests.rs, declared in foo.rs as
                        #[cfg(test)]
                        #[path = "foo_tests.rs"]
                        mod tests;
    src/bar/mod.rs  ->  src/bar/tests.rs, declared in mod.rs as
                        #[cfg(test)]
                        mod tests;

The module stays `tests` (a child of foo), so `use super::*;` and private access keep working
unchanged. The block's body is dedented by one level (lines inside a multi-line string literal
are left exactly as they are), and the new file opens with a `//!` line (the block's own inner
doc comment when it has one). Idempotent: a file without a trailing inline `mod tests` block
is left alone, and an existing sibling file is never overwritten.

    python3 scripts/split_tests.py src/foo.rs src/bar/mod.rs   # split these
    python3 scripts/split_tests.py --check src                 # list files still inline; exit 1 if any
    python3 scripts/split_tests.py --all src                   # split every file under src/

Run `cargo fmt --all` afterwards (the moved code keeps its own formatting). Standard library only.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

INDENT = "    "


def scan(text: str) -> tuple[list[int], dict[int, int]]:
    """Lex Rust just enough for braces: returns the offsets of line starts that lie inside a
    string literal or block comment, and the matching close-brace offset of every open brace
    outside literals and comments."""
    inside_literal_lines: list[int] = []
    matches: dict[int, int] = {}
    stack: list[int] = []
    i, n = 0, len(text)
    state = None  # None, "str", "raw", "block"
    raw_hashes = 0
    depth_block = 0
    while i < n:
        c = text[i]
        if c == "\n" and state is not None and i + 1 < n:
            inside_literal_lines.append(i + 1)
        if state == "str":
            if c == "\\":
                i += 2
                continue
            if c == '"':
                state = None
        elif state == "raw":
            if c == '"' and text.startswith("#" * raw_hashes, i + 1):
                state = None
                i += 1 + raw_hashes
                continue
        elif state == "block":
            if text.startswith("*/", i):
                depth_block -= 1
                i += 2
                if depth_block == 0:
                    state = None
                continue
            if text.startswith("/*", i):
                depth_block += 1
                i += 2
                continue
        else:
            if text.startswith("//", i):
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if text.startswith("/*", i):
                state, depth_block = "block", 1
                i += 2
                continue
            m = re.match(r'b?r(#*)"', text[i:i + 300])
            if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
                state, raw_hashes = "raw", len(m.group(1))
                i += m.end()
                continue
            if c == '"':
                state = "str"
            elif c == "'":
                # A char literal ('{', '\'', '\u{7f}'), else a lifetime or label: skip it.
                m = re.match(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'", text[i:i + 12])
                if m:
                    i += m.end()
                    continue
            elif c == "{":
                stack.append(i)
            elif c == "}":
                if stack:
                    matches[stack.pop()] = i
        i += 1
    return inside_literal_lines, matches


BLOCK = re.compile(
    r"(?P<attrs>^#\[cfg\(test\)\]\n(?:#\[[^\n]*\]\n)*)mod tests \{",
    re.M,
)


def sibling(path: Path) -> tuple[Path, str | None]:
    """The test file for `path`, and the #[path] it needs (None for a mod.rs's tests.rs)."""
    if path.name == "mod.rs":
        return path.with_name("tests.rs"), None
    name = f"{path.stem}_tests.rs"
    return path.with_name(name), name


def split(path: Path) -> str:
    """Split one file; returns what was done (one line)."""
    if path.name in ("lib.rs", "main.rs"):
        return f"{path}: skipped (crate root)"
    if path.name == "tests.rs" or path.stem.endswith("_tests"):
        return f"{path}: skipped (already a test file)"
    text = path.read_text(encoding="utf-8")
    literal_lines, matches = scan(text)
    block = None
    for m in BLOCK.finditer(text):
        open_brace = m.end() - 1
        close = matches.get(open_brace)
        if close is not None and text[close + 1:].strip() == "":
            block = (m, open_brace, close)
    if block is None:
        return f"{path}: no trailing inline `mod tests {{ ... }}`; left alone"
    m, open_brace, close = block
    target, path_attr = sibling(path)
    if target.exists():
        return f"{path}: {target.name} exists already; left alone (merge by hand)"

    body = text[open_brace + 1:close]
    body_start = open_brace + 1
    skip = set(literal_lines)
    out_lines = []
    offset = body_start
    for line in body.split("\n"):
        if offset in skip:
            out_lines.append(line)  # inside a string literal: its text, not indentation
        elif not line.strip():
            out_lines.append("")
        elif line.startswith(INDENT):
            out_lines.append(line[len(INDENT):])
        else:
            out_lines.append(line)
        offset += len(line) + 1
    moved = "\n".join(out_lines).strip("\n") + "\n"
    if not moved.lstrip().startswith("//!"):
        module = path.with_suffix("").as_posix()
        module = re.sub(r"^.*?src/", "", module).replace("/mod", "").replace("/", "::")
        moved = f"//! Unit tests of `{module}`.\n\n" + moved

    attrs = m.group("attrs")
    decl = attrs + (f'#[path = "{path_attr}"]\n' if path_attr else "") + "mod tests;\n"
    head = text[:m.start()].rstrip("\n")
    target.write_text(moved, encoding="utf-8")
    path.write_text(head + "\n\n" + decl, encoding="utf-8")
    return f"{path}: tests moved to {target.name} ({moved.count(chr(10))} lines)"


def inline(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    _, matches = scan(text)
    return any(
        matches.get(m.end() - 1) is not None for m in BLOCK.finditer(text)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="files, or directories with --check/--all")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="list files with an inline mod tests; exit 1 if any")
    mode.add_argument("--all", action="store_true", help="split every .rs file under the given directories")
    args = parser.parse_args()
    files: list[Path] = []
    for p in args.paths:
        files += sorted(p.rglob("*.rs")) if p.is_dir() else [p]
    if args.check:
        found = [f for f in files if inline(f)]
        for f in found:
            print(f"{f}: inline `mod tests {{ ... }}` (scripts/split_tests.py {f})")
        return 1 if found else 0
    if not args.all and any(p.is_dir() for p in args.paths):
        parser.error("a directory needs --check or --all")
    for f in files:
        print(split(f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
