"""environment.yml (conda) and pyproject.toml (pip) must declare the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple[str, str]:
    name, bounds = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return name.lower().replace("_", "-"), bounds.replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda, pip = [], []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip += [r for r in item["pip"] if not r.startswith("-e")]
        else:
            conda.append(item)
    listed = dict(_split(r) for r in conda + pip)
    assert listed.pop("python") == "=3.11"
    assert listed.pop("pip") == ""
    assert listed == declared
    assert project["requires-python"].startswith(">=3.11")
