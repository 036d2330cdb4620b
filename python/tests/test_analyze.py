"""test_analyze.py - kosearch.analyze gives the terms `kosearch analyze
--json` prints (as a document and as a query, with the offsets turned from
UTF-8 bytes into str indexes), and its options work."""
import threading

import pytest

import kosearch
from conftest import HANDWRITTEN, cli

TEXTS = [t for _, _, t in HANDWRITTEN] + [
    "대통령은 1989년 6월 첨단산업 클러스터를 방문했다",
    "임종석을 검거한 장소는 경희대 내 어디인가?",
    "1,500만 원과 (MOU)를 체결했다. ＡＢＣ ｆｕｌｌ-width 㐀 漢字 Ελληνικά",
    "한국어\n줄바꿈\t탭   여러 공백 😀👍🏽 끝",
]


def cli_terms(text, query):
    import json
    args = ["analyze", "--json"] + (["--query"] if query else []) + ["-"]
    out = cli(*args, stdin=text).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("query", [False, True], ids=["document", "query"])
def test_equals_cli(query):
    total = 0
    for text in TEXTS:
        got = kosearch.analyze(text, query=query)
        want = cli_terms(text, query)
        assert len(got) == len(want) and got, text
        data = text.encode("utf-8")
        for t, w in zip(got, want):
            assert (t.pos, t.word, t.kind, t.field, t.term, t.source) == \
                   (w["pos"], w["word"], w["kind"], w["field"], w["term"], w["source"])
            # str indexes here, UTF-8 byte offsets in the CLI
            assert len(text[:t.start].encode()) == w["start"]
            assert len(text[:t.end].encode()) == w["end"]
            assert text[t.start:t.end] == t.source == data[w["start"]:w["end"]].decode()
        total += len(got)
    assert total > 100


def test_kinds_and_options():
    terms = kosearch.analyze("대통령은 1989년에 첨단산업")
    kinds = {t.kind for t in terms}
    assert kinds == {"surface", "stem", "bigram", "counter"}
    assert ("stem", "대통령") in [(t.kind, t.term) for t in terms]
    assert all(isinstance(t, kosearch.Term) for t in terms)
    no_stems = kosearch.analyze("대통령은 첨단산업", stems=False)
    assert "stem" not in {t.kind for t in no_stems}
    no_bigrams = kosearch.analyze("대통령은 첨단산업", bigrams=False)
    assert {t.field for t in no_bigrams} == {"word"}
    # question words give no term in a query
    assert [t.term for t in kosearch.analyze("무엇", query=True)] == []
    assert [t.term for t in kosearch.analyze("무엇")] != []
    assert kosearch.analyze("") == [] and kosearch.analyze("... !!") == []
    with pytest.raises(TypeError):
        kosearch.analyze(b"bytes")
    with pytest.raises(UnicodeEncodeError):
        kosearch.analyze("\ud800")
    with pytest.raises(kosearch.InvalidArgument):
        kosearch.analyze("대통령", min_stem=-1)


def test_threads():
    want = {t: kosearch.analyze(t) for t in TEXTS}
    bad = []

    def run():
        for _ in range(30):
            for t in TEXTS:
                if kosearch.analyze(t) != want[t]:
                    bad.append(t)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert bad == []
