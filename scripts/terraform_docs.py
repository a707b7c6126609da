#!/usr/bin/env python3
"""Generate the terraform-docs style reference of a module into its README.md.

    PYTHONPATH=.venv-lint/python-hcl2 python3 scripts/terraform_docs.py          # rewrite
    PYTHONPATH=.venv-lint/python-hcl2 python3 scripts/terraform_docs.py --check  # lint: up to date?

Like `terraform-docs markdown table --output-mode inject` (which is a Go binary
this project's machines cannot install): everything between
<!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> in
infra/terraform/modules/image-janitor/README.md is generated from the .tf files
(requirements, providers, resources, inputs, outputs); the rest of the README
(the example) is written by hand. scripts/lint.sh runs --check.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "infra" / "terraform" / "modules" / "image-janitor"
README = MODULE / "README.md"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def unq(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value[1:-1]
    return value


def expr(value) -> str:
    """An HCL expression as python-hcl2 returns it, back in HCL spelling."""
    if isinstance(value, str):
        m = re.fullmatch(r"\$\{(.*)\}", value, re.S)
        return m.group(1) if m else value
    return json.dumps(value)


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def default(body: dict) -> str:
    if "default" not in body:
        return "n/a"
    value = unq(body["default"])
    if value is None:
        return "`null`"
    if isinstance(value, str) and not value.startswith("${"):
        return f'`"{value}"`'
    return f"`{expr(value) if isinstance(value, str) else json.dumps(value)}`"


def load() -> dict[str, list]:
    merged: dict[str, list] = {}
    for tf in sorted(MODULE.glob("*.tf")):
        with tf.open(encoding="utf-8") as fh:
            for key, value in hcl2.load(fh).items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
    return merged


def render(doc: dict) -> str:
    lines = ["## Requirements", "", "| Name | Version |", "|------|---------|"]
    for block in doc.get("terraform", []):
        lines.append(f"| terraform | {cell(unq(block.get('required_version')))} |")
        for providers in block.get("required_providers", []):
            for name, spec in providers.items():
                if name.startswith("__"):
                    continue
                lines.append(f"| {name} | {cell(unq(spec.get('version')))} |")
    lines += ["", "## Resources", "", "| Name | Type |", "|------|------|"]
    for kind in ("resource", "data"):
        for entry in doc.get(kind, []):
            for rtype, named in entry.items():
                for name in named:
                    prefix = "data." if kind == "data" else ""
                    lines.append(f"| {prefix}{unq(rtype)}.{unq(name)} | {kind if kind == 'resource' else 'data source'} |")
    lines += ["", "## Inputs", "", "| Name | Description | Type | Default | Required |",
              "|------|-------------|------|---------|:--------:|"]
    variables = {}
    for entry in doc.get("variable", []):
        for name, body in entry.items():
            variables[unq(name)] = body
    for name in sorted(variables, key=lambda n: ("default" in variables[n], n)):
        body = variables[name]
        required = "yes" if "default" not in body else "no"
        typ = re.sub(r"\s+", " ", expr(body.get("type", "any")))
        lines.append(
            f"| {name} | {cell(unq(body.get('description', '')))} | `{cell(typ)}` | {cell(default(body))} | {required} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    outputs = {}
    for entry in doc.get("output", []):
        for name, body in entry.items():
            outputs[unq(name)] = body
    for name in sorted(outputs):
        lines.append(f"| {name} | {cell(unq(outputs[name].get('description', '')))} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"terraform_docs: {README.relative_to(ROOT)} lacks {BEGIN} ... {END}", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{render(load())}{END}{tail}"
    if "--check" in sys.argv[1:]:
        if new != text:
            print(f"terraform_docs: {README.relative_to(ROOT)} is out of date: run "
                  "PYTHONPATH=.venv-lint/python-hcl2 python3 scripts/terraform_docs.py", file=sys.stderr)
            return 1
        print(f"terraform_docs: {README.relative_to(ROOT)} matches the module")
        return 0
    README.write_text(new, encoding="utf-8")
    print(f"terraform_docs: wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
