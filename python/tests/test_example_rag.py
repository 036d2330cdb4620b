"""test_example_rag.py - examples/rag_retrieval.py runs on the shared
KorQuAD data and its MRR@10 and Recall@10 are those of `kosearch eval` on
the index it built, and on an index `kosearch index` builds from the same
file. Skipped (CTest: exit 77) when ../shared/data is absent."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, cli, cli_json

DATA = Path(os.environ.get("KS_DATA_DIR") or REPO.parent / "shared" / "data")
CORPUS = DATA / "korquad-paragraphs.jsonl.gz"
QUERIES = DATA / "queries" / "korquad-paragraphs-tune.tsv"
EXAMPLE = REPO / "examples" / "rag_retrieval.py"

pytestmark = pytest.mark.skipif(not (CORPUS.exists() and QUERIES.exists()),
                                reason="%s or %s is absent" % (CORPUS, QUERIES))


def run_example(*args):
    p = subprocess.run([sys.executable, str(EXAMPLE), *map(str, args)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_metrics_equal_kosearch_eval(tmp_path):
    idx = tmp_path / "kq.idx"
    got = json.loads(run_example(DATA, "--index", idx, "--json"))
    assert got["passages"] == 961 and got["queries"] == 1567
    ref = cli_json("eval", idx, "--queries", QUERIES, "--json")
    assert ref["queries"] == got["queries"] and ref["skipped"] == 0
    assert got["mrr@10"] == pytest.approx(ref["mrr@10"], abs=1e-12)
    assert got["recall@10"] == pytest.approx(ref["recall@10"], abs=1e-12)
    assert 0.5 < got["mrr@10"] < 1 and 0.5 < got["recall@10"] <= 1
    # the same numbers from an index the kosearch program builds
    cli("index", "-o", tmp_path / "cli.idx", CORPUS)
    ref2 = cli_json("eval", tmp_path / "cli.idx", "--queries", QUERIES, "--json")
    assert (ref2["mrr@10"], ref2["recall@10"]) == (ref["mrr@10"], ref["recall@10"])


def test_text_output_and_context(tmp_path):
    out = run_example("--corpus", CORPUS, "--queries", QUERIES, "--show", "6548850-0-1",
                      "--passages", "2")
    assert "indexed 961 passages" in out and "MRR@10 " in out and "Recall@10 " in out
    assert "question 6548850-0-1: 1989년 6월 30일 평양축전에 대표로 파견 된 인물은?" in out
    assert "[1] korquad-dev-0-0" in out and "<- relevant" in out and "[3]" not in out
