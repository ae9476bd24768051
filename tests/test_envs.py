"""The conda environments of `--sdm conda` (envs/*.yaml): third-party packages only, pinned
to the same releases as the local stack (envs/requirements.txt)."""

import re
from pathlib import Path

import pytest
import yaml

ENVS = Path(__file__).resolve().parents[1] / "envs"
PIN = re.compile(r"([A-Za-z0-9_.-]+)==?([^+]+)(\+\w+)?")  # conda `name=ver`, pip `name==ver[+local]`


def pins(specs):
    """name -> version of the pinned specs; conda's matplotlib-base is pip's matplotlib."""
    return {m[1].lower().removesuffix("-base"): m[2] for spec in specs if (m := PIN.fullmatch(spec))}


def env_specs(path):
    env = yaml.safe_load(path.read_text())
    assert set(env) == {"channels", "dependencies"}
    (pip,) = [dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict)]
    return [dep for dep in env["dependencies"] if isinstance(dep, str)] + pip


@pytest.mark.parametrize("path", sorted(ENVS.glob("*.yaml")), ids=lambda path: path.name)
def test_env_holds_third_party_packages_pinned_like_the_local_stack(path):
    specs = env_specs(path)
    # an env builds wherever its file is (Snakemake may copy it): no local path, no editable install
    assert not [spec for spec in specs if spec.startswith(("-e", "--editable", ".", "/", "file:"))]
    local = pins((ENVS / "requirements.txt").read_text().splitlines())
    shared = pins(specs).keys() & local.keys()
    assert len(shared) >= 5 and {name: pins(specs)[name] for name in shared} == {name: local[name] for name in shared}
