"""The documentation stays true: generated pages match their sources, links between pages
resolve, and the repository paths the pages name exist."""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", REPO / "config" / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_spec = importlib.util.spec_from_file_location("gen_docs", REPO / "tools" / "gen_docs.py")
gen_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_docs)

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# `path` in backticks that names a file or directory of the repository (not an output or a pattern)
REPO_PATH = re.compile(
    r"`((?:Snakefile|Makefile|pyproject\.toml|src|tools|tests|rules|workflow|config|envs|report|slurm|docs)(?:/[^`\s]*)?)`"
)


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", page.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_slug_follows_github():
    page = REPO / "docs" / "tables.md"
    assert {"table-columns", "activation_frequency", "english_overlap"} <= anchors(page)


@pytest.mark.parametrize("rel", [gen_docs.CONFIG_PAGE, gen_docs.TABLES_PAGE])
def test_generated_page_is_current(rel):
    assert (REPO / rel).read_text() == gen_docs.pages()[rel], f"{rel} is stale: run .venv/bin/python tools/gen_docs.py"


def test_config_page_lists_every_schema_key():
    text = (REPO / gen_docs.CONFIG_PAGE).read_text()
    for key in ("data.local_dir", "models[].random_init.like", "snapshot.batch_cost", "cluster.gpu_model"):
        assert f"| `{key}` |" in text
    # type, schema default and the paper's value where it differs
    assert "| `metrics.methods` | list of `paper` \\| `authors_code` | `[paper]` | `[paper, authors_code]` |" in text
    assert "| `sampling.n_sentences` | integer ≥ 1 | *required* | `1500` |" in text


def test_every_schema_key_has_a_description():
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    assert [name for name, node, _, _ in gen_docs.schema_keys(schema, "", ()) if not node.get("description")] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_links_resolve(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # external
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_named_repository_paths_exist(page):
    named = {p for p in REPO_PATH.findall(page.read_text()) if not re.search(r"[{}*<>…]", p)}
    assert sorted(p for p in named if not (REPO / p).exists()) == []
