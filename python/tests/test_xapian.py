"""test_xapian.py - Xapian indexes through the package (when this build has
the Xapian backend; test_errors.py checks the refusal without it): a
Writer with backend="xapian", search equal to `kosearch search --json`,
get, stats, updates with reopen, shards, and threads sharing the Index."""
import os
import threading

import pytest

import kosearch
from conftest import QUERIES, cli_json
from test_search import assert_same

pytestmark = pytest.mark.skipif(
    not kosearch.XAPIAN and os.environ.get("KS_WITH_XAPIAN") != "1",
    reason="built without the Xapian backend (KS_WITH_XAPIAN=OFF)")


@pytest.fixture(scope="module")
def xap_index(tmp_path_factory, docs):
    assert kosearch.XAPIAN, kosearch.XAPIAN_ERROR
    p = tmp_path_factory.mktemp("xap") / "x.xap"
    with kosearch.Writer(p, backend="xapian") as w:
        for i, (id, title, text) in enumerate(docs):
            w.add(id, text, title=title, n=i)
    return p


def test_search_equals_cli(xap_index):
    with kosearch.Index(xap_index) as idx:
        assert idx.backend == "xapian"
        for q in QUERIES:
            for opts, args in (({}, []), ({"k": 4, "offset": 2}, ["-k", "4", "--offset", "2"])):
                assert_same(idx.search(q, **opts),
                            cli_json("search", "--json", *args, xap_index, "--", q))
        assert len(idx.search("대한민국")) == 3
        with pytest.raises(kosearch.InvalidArgument):
            idx.search("대한민국", ranking="bm25")     # not a Xapian ranking


def test_same_hits_as_native(xap_index, py_index):
    with kosearch.Index(xap_index) as x, kosearch.Index(py_index) as n:
        for q in QUERIES:
            a = x.search(q, k=20)
            b = n.search(q, k=20, ranking="bm25-xapian")
            assert [h.id for h in a] == [h.id for h in b]
            assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-9)


def test_get_stats(xap_index, docs):
    with kosearch.Index(xap_index) as idx:
        assert idx.get("seoul")["text"] == docs[0][2] and idx.get("seoul")["n"] == 0
        assert idx.get("nope") is None
        st = idx.stats()
        ref = cli_json("stats", "--json", xap_index)
        assert st["backend"] == "xapian" and st["docs"] == ref["documents"] == len(docs)
        assert (st["terms_word"], st["terms_bigram"], st["shards"]) == \
            (ref["terms_word"], ref["terms_bigram"], ref["shards"])


def test_updates_and_shards(tmp_path):
    p = tmp_path / "s.xap"
    with kosearch.Writer(p, backend="xapian", shards=2) as w:
        for i in range(20):
            w.add("d%d" % i, "샤드 문서 %d" % i)
    idx = kosearch.Index(p)
    assert idx.stats()["shards"] == 2 and idx.search("샤드", k=0).matches == 20
    with kosearch.Writer(p, backend="xapian", shards=2) as w:
        assert w.delete("d0")
        w.add("d1", "바뀐 내용")
    assert idx.reopen() is True
    assert idx.search("샤드", k=0).matches == 18
    assert idx.get("d1")["text"] == "바뀐 내용"
    idx.close()
    with kosearch.Index([p / "shard-0", p / "shard-1"]) as both:
        assert both.search("샤드", k=0).matches == 18


def test_threads(xap_index):
    with kosearch.Index(xap_index) as idx:
        want = {q: idx.search(q) for q in QUERIES}
        bad = []

        def worker():
            for _ in range(3):
                for q in QUERIES:
                    if idx.search(q) != want[q]:
                        bad.append(q)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert bad == []
