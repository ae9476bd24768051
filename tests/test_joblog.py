"""Rule scripts log to their rule's `log:` file: a failing job's log holds its traceback."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "workflow" / "scripts").glob("*.py"))

SNAKEFILE = """
rule fail:
    output:
        "out.txt",
    log:
        "logs/fail.log",
    script:
        "fail.py"
"""

FAILING_SCRIPT = """
from ffnscope.joblog import log_to

log_to(snakemake.log[0])

import logging
import os

logging.info("reading %s", snakemake.output[0])
os.write(2, b"written by C code to file descriptor 2\\n")
raise ValueError("no sentences in the test set")
"""


def test_failing_script_leaves_its_traceback_in_the_log(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    (tmp_path / "fail.py").write_text(FAILING_SCRIPT)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--snakefile", str(tmp_path / "Snakefile")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    log = (tmp_path / "logs/fail.log").read_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} reading out.txt", log.splitlines()[0])
    assert "written by C code to file descriptor 2" in log
    assert "Traceback (most recent call last):" in log
    assert log.rstrip().endswith("ValueError: no sentences in the test set")
    # the error is in the log, not on the console, which names the log
    assert "no sentences in the test set" not in result.stdout + result.stderr
    assert "logs/fail.log" in result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_rule_script_logs_before_anything_else(script):
    body = ast.parse(script.read_text(encoding="utf-8")).body
    assert ast.get_docstring(ast.Module(body=body, type_ignores=[])), "a rule script starts with its docstring"
    assert [ast.unparse(node) for node in body[1:3]] == [
        "from ffnscope.joblog import log_to",
        "log_to(snakemake.log[0])",
    ]
