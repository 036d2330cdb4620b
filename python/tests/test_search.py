"""test_search.py - Index.search, get and stats give what the kosearch
program gives for the same index: `search --json` (ids, scores, ranks,
titles, snippets, match counts) for every query and option set, `get`,
`stats --json`; and an index built by the Python Writer answers exactly as
one built by `kosearch index` from the same documents."""
import json

import pytest

import kosearch
from conftest import QUERIES, cli, cli_json

OPTION_SETS = [
    ({}, []),
    ({"k": 3}, ["-k", "3"]),
    ({"k": 5, "offset": 4}, ["-k", "5", "--offset", "4"]),
    ({"k": 0}, ["-k", "0"]),
    ({"k1": 1.2, "b": 0.75}, ["--k1", "1.2", "--b", "0.75"]),
    ({"bigram_weight": 0.3, "algorithm": "bmw"}, ["--bigram-weight", "0.3", "--algorithm", "bmw"]),
    ({"algorithm": "exhaustive", "k": 20}, ["--algorithm", "exhaustive", "-k", "20"]),
    ({"ranking": "bm25-xapian", "min_normlen": 0.8}, ["--ranking", "bm25-xapian",
                                                      "--min-normlen", "0.8"]),
    ({"snippet_chars": 40}, ["--snippet-chars", "40"]),
    ({"snippet_chars": 0}, ["--snippet-chars", "0"]),
]


def cli_search(index, query, args):
    return cli_json("search", "--json", *args, index, "--", query)


def json_score(score):
    """A score as `kosearch search --json` writes it: cJSON prints a number
    with 15 significant digits when that reads back as the same number
    within its tolerance, else with 17: so the CLI's value is either the
    exact score or its 15-digit rounding."""
    return float("%.15g" % score)


def assert_same(res, ref):
    assert res.matches == ref["matches"]
    assert res.matches_exact == ref["matches_exact"]
    got = [(h.rank, h.id, h.title, h.snippet) for h in res]
    want = [(h["rank"], h["id"], h["title"], h["snippet"]) for h in ref["hits"]]
    assert got == want
    for h, r in zip(res, ref["hits"]):
        assert r["score"] in (h.score, json_score(h.score)), (h, r)


@pytest.mark.parametrize("opts,args", OPTION_SETS, ids=[a and " ".join(a) or "defaults"
                                                        for _, a in OPTION_SETS])
def test_search_equals_cli(py_index, opts, args):
    with kosearch.Index(py_index) as idx:
        for q in QUERIES:
            res = idx.search(q, **opts)
            assert isinstance(res, kosearch.SearchResults) and isinstance(res, list)
            assert res.query == q and res.offset == opts.get("offset", 0)
            assert_same(res, cli_search(py_index, q, args))


def test_search_finds_something(py_index):
    # the comparison above must not be between two empty lists
    with kosearch.Index(py_index) as idx:
        res = idx.search("대한민국")
        assert [h.id for h in res][:3] and {h.id for h in res} >= {"seoul", "busan", "jeju"}
        assert all(isinstance(h, kosearch.Hit) for h in res)
        assert [h.rank for h in res] == list(range(1, len(res) + 1))
        assert all(a.score >= b.score for a, b in zip(res, res[1:]))
        assert "«대한민국의»" in next(h for h in res if h.id == "seoul").snippet
        assert idx.search("세종", k=20).matches > 5


def test_python_and_cli_indexes_agree(py_index, cli_index):
    with kosearch.Index(py_index) as a, kosearch.Index(cli_index) as b:
        for q in QUERIES:
            # exhaustive: a pruning algorithm's lower bound on the number of
            # matches depends on the segments (two here, one there); the
            # hits never do
            ra, rb = (x.search(q, k=50, algorithm="exhaustive") for x in (a, b))
            assert [(h.id, h.score, h.snippet, h.document) for h in ra] == \
                   [(h.id, h.score, h.snippet, h.document) for h in rb]
            assert ra.matches == rb.matches and ra.matches_exact and rb.matches_exact


def test_documents_and_marks(py_index, docs):
    with kosearch.Index(py_index) as idx:
        res = idx.search("한글 세종대왕이", marks=("<b>", "</b>"))
        top = res[0]
        assert top.id == "hangul"
        assert "<b>세종대왕이</b>" in top.snippet and "«" not in top.snippet
        i = [d[0] for d in docs].index("hangul")
        assert top.document == {"id": "hangul", "title": "한글", "text": docs[i][2], "n": i,
                                "tags": ["t%d" % (i % 3)]}
        assert top.title == "한글"
        bare = idx.search("한글 세종대왕이", documents=False, snippet_chars=0)
        assert [(h.id, h.score) for h in bare] == [(h.id, h.score) for h in res]
        assert all(h.title is None and h.document is None and h.snippet == "" for h in bare)


def test_bytes_query_and_paging(py_index):
    with kosearch.Index(py_index) as idx:
        full = idx.search("경제 금리 물가", k=30)
        assert len(full) == 30
        pages = [idx.search("경제 금리 물가".encode(), k=7, offset=o) for o in range(0, 30, 7)]
        assert [h for p in pages for h in p][:30] == list(full)


def test_get(py_index, docs):
    with kosearch.Index(py_index) as idx:
        for i, (id, title, text) in enumerate(docs[:12] + docs[-3:]):
            got = idx.get(id)
            assert got["id"] == id and got["text"] == text and got["title"] == title
            ref = json.loads(cli("get", py_index, "--", id).stdout)
            assert got == ref
        assert idx.get("no-such-document") is None
        assert idx.get("seoul/") is None and idx.get("") is None


def test_stats(py_index, docs):
    with kosearch.Index(py_index) as idx:
        st = idx.stats()
    ref = cli_json("stats", "--json", py_index)
    assert st["backend"] == ref["backend"] == "native"
    assert st["docs"] == ref["documents"] == len(docs)
    assert st["segments"] == ref["segments"] == 2
    for k, r in (("deleted", "deleted"), ("terms", "terms"), ("postings", "postings"),
                 ("generation", "generation")):
        assert st[k] == ref[r]
    assert st["field_total"] == [ref["word_field_length"], ref["bigram_field_length"]]
    for k in ("tid", "doc", "pos", "len", "sto", "del", "manifest", "total"):
        assert st["bytes_" + k] == ref["bytes"][k]


def test_unicode_ids(tmp_path):
    ids = ["a/b", "/leading", "trailing/", "한국어/문서/첫째", "x" * 1024, "공백 있는 id",
           "tab\tid", "😀/🇰🇷", "%2F", "..", "."]
    with kosearch.Writer(tmp_path / "u.idx", fsync=False) as w:
        for i, id in enumerate(ids):
            w.add(id, "유니코드 식별자 문서 %d 번" % i)
    with kosearch.Index(tmp_path / "u.idx") as idx:
        res = idx.search("유니코드", k=100)
        assert sorted(h.id for h in res) == sorted(ids)
        for id in ids:
            assert idx.get(id)["id"] == id
        ref = cli_json("search", "--json", "-k", "100", tmp_path / "u.idx", "유니코드")
        assert [h.id for h in res] == [h["id"] for h in ref["hits"]]
    with kosearch.Writer(tmp_path / "u.idx", fsync=False) as w:
        with pytest.raises(kosearch.InvalidInput):
            w.add("y" * 1025, "너무 긴 식별자")
        with pytest.raises(kosearch.InvalidInput):
            w.add("nul\0id", "널 문자")


def test_check_index(py_index):
    lines = kosearch.check_index(py_index)
    assert lines[-1].endswith(": ok") and any("segment" in l for l in lines)
