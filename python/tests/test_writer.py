"""test_writer.py - Writer: upserts, replacements, deletions and commits,
seen by an Index only after reopen(); the context manager commits on
success and discards on an exception; stats; modes; stored fields."""
import pytest

import kosearch
from conftest import cli, cli_json


def ids(idx, q="문서", k=100):
    return sorted(h.id for h in idx.search(q, k=k))


def test_commit_visibility_and_reopen(tmp_path):
    p = tmp_path / "live.idx"
    with kosearch.Writer(p, fsync=False) as w:
        w.add("d1", "첫째 문서 사과")
        w.add("d2", "둘째 문서 배")
    idx = kosearch.Index(p)
    assert ids(idx) == ["d1", "d2"]
    assert idx.reopen() is False                       # nothing newer

    w = kosearch.Writer(p, fsync=False)
    w.add("d3", "셋째 문서 포도")
    w.add("d1", "첫째 문서 바뀐 내용 수박")          # upsert: replaces d1
    assert w.delete("d2") is True
    assert w.delete("d2") is False                     # already gone in this writer
    assert w.delete("never-existed") is False
    assert ids(idx) == ["d1", "d2"]                    # nothing committed yet
    w.commit()
    assert ids(idx) == ["d1", "d2"]                    # the snapshot is kept...
    assert idx.get("d2")["text"] == "둘째 문서 배"
    assert idx.reopen() is True                        # ...until reopen
    assert ids(idx) == ["d1", "d3"]
    assert idx.get("d2") is None
    assert idx.get("d1")["text"] == "첫째 문서 바뀐 내용 수박"
    assert [h.id for h in idx.search("사과")] == []
    assert [h.id for h in idx.search("수박")] == ["d1"]
    st = w.stats()
    assert st["docs_added"] == 2 and st["docs_replaced"] == 1 and st["docs_deleted"] == 1
    assert st["docs_live"] == 2
    # the commit number: the reader's snapshot is the writer's last commit
    # (a background merge may publish a commit of its own, so no constant)
    assert st["generation"] == idx.stats()["generation"] >= 2
    # more changes after a commit, same writer
    w.add("d4", "넷째 문서")
    w.commit()
    generation = w.stats()["generation"]
    w.close()
    assert w.closed
    assert idx.reopen() is True and ids(idx) == ["d1", "d3", "d4"]
    # close() may publish a background merge as one more commit that changes
    # no document (docs/live.md, "Close without commit")
    assert idx.stats()["generation"] >= generation > st["generation"]
    # the CLI sees the same
    assert sorted(h["id"] for h in cli_json("search", "--json", p, "문서")["hits"]) == \
        ["d1", "d3", "d4"]
    idx.close()


def test_context_manager_exception_discards(tmp_path):
    p = tmp_path / "cm.idx"
    with kosearch.Writer(p, fsync=False) as w:
        w.add("keep", "남는 문서")
    with pytest.raises(RuntimeError, match="boom"):
        with kosearch.Writer(p, fsync=False) as w:
            w.add("lost", "사라지는 문서")
            w.delete("keep")
            raise RuntimeError("boom")
    assert w.closed
    with kosearch.Index(p) as idx:
        assert ids(idx) == ["keep"]
    # changes committed inside the block stay, later ones do not
    with pytest.raises(KeyError):
        with kosearch.Writer(p, fsync=False) as w:
            w.add("kept2", "커밋된 문서")
            w.commit()
            w.add("lost2", "버려지는 문서")
            {}["x"]
    with kosearch.Index(p) as idx:
        assert ids(idx) == ["keep", "kept2"]
    # close() without commit discards too
    w = kosearch.Writer(p, fsync=False)
    w.add("lost3", "닫기만 한 문서")
    w.close()
    w.close()                                          # idempotent
    with kosearch.Index(p) as idx:
        assert ids(idx) == ["keep", "kept2"]
    with pytest.raises(kosearch.InvalidArgument, match="closed"):
        w.add("x", "닫힌 writer")


def test_replace_mode_and_merge(tmp_path):
    p = tmp_path / "rep.idx"
    with kosearch.Writer(p, fsync=False, merge=False) as w:
        for i in range(30):
            w.add("old%d" % i, "예전 문서 %d" % i)
            if i % 10 == 9:
                w.commit()
    with kosearch.Index(p) as idx:
        assert idx.stats()["segments"] == 3
    with kosearch.Writer(p, fsync=False) as w:
        assert w.delete("old0")
        w.merge(1)
    with kosearch.Index(p) as idx:
        st = idx.stats()
        assert st["segments"] == 1 and st["docs"] == 29 and st["deleted"] == 0
    with kosearch.Writer(p, mode="replace", fsync=False) as w:
        w.add("new", "새 문서")
    with kosearch.Index(p) as idx:
        assert ids(idx) == ["new"] and idx.stats()["docs"] == 1
    with pytest.raises(kosearch.InvalidArgument):
        kosearch.Writer(p, mode="append")
    with kosearch.Writer(p, fsync=False) as w:
        with pytest.raises(kosearch.InvalidArgument):
            w.merge(0)


def test_stored_fields_and_title(tmp_path):
    p = tmp_path / "f.idx"
    with kosearch.Writer(p, fsync=False) as w:
        w.add("a", "본문 텍스트", title="제목", url="https://example.org/가", year=2024,
              score=0.5, tags=["x", "한"], nested={"k": [1, None, True]})
        w.add("b", "제목 없는 본문")
        with pytest.raises(TypeError):
            w.add("c", "직렬화 안 되는 값", bad=object())
        with pytest.raises(TypeError):
            w.add(7, "정수 id")
    with kosearch.Index(p) as idx:
        a = idx.get("a")
        assert a == {"id": "a", "title": "제목", "text": "본문 텍스트",
                     "url": "https://example.org/가", "year": 2024, "score": 0.5,
                     "tags": ["x", "한"], "nested": {"k": [1, None, True]}}
        assert idx.get("b") == {"id": "b", "title": "", "text": "제목 없는 본문"}
        assert idx.get("c") is None
        # the title is indexed: found by a word only in the title
        assert sorted(h.id for h in idx.search("제목")) == ["a", "b"]
        assert {h.id: h.title for h in idx.search("제목")} == {"a": "제목", "b": ""}
    assert cli("get", p, "a").stdout.strip().startswith("{")


def test_refused_documents_keep_writer_usable(tmp_path):
    p = tmp_path / "bad.idx"
    with kosearch.Writer(p, fsync=False, max_doc_bytes=1000) as w:
        with pytest.raises(kosearch.InvalidInput) as e:
            w.add("empty", "")
        assert e.value.code == -7 and e.value.name == "KS_EINPUT" and str(e.value)
        with pytest.raises(kosearch.InvalidInput):
            w.add("", "빈 id")
        with pytest.raises(kosearch.LimitExceeded):
            w.add("big", "가" * 1000)
        with pytest.raises(UnicodeEncodeError):
            w.add("surrogate", "\udc80")
        w.add("ok", "정상 문서")
        w.commit()
        st = w.stats()
    assert st["docs_added"] == 1
    with kosearch.Index(p) as idx:
        assert ids(idx, "정상") == ["ok"]


def test_writer_options(tmp_path):
    p = tmp_path / "opt.idx"
    with kosearch.Writer(p, fsync=False, threads=1, mem_budget=1 << 20, stems=False,
                         bigrams=False) as w:
        w.add("a", "대통령은 첨단산업 클러스터를 방문했다")
    with kosearch.Index(p) as idx:
        # without stems and bigrams only the surface forms match
        assert [h.id for h in idx.search("대통령은")] == ["a"]
        assert [h.id for h in idx.search("대통령")] == []
        assert [h.id for h in idx.search("산업")] == []
    for bad in ({"threads": -1}, {"mem_budget": "big"}, {"shards": 1.5}, {"min_stem": True}):
        with pytest.raises(kosearch.InvalidArgument):
            kosearch.Writer(tmp_path / "never.idx", **bad)
    with pytest.raises(kosearch.InvalidArgument):
        kosearch.Writer(tmp_path / "never.idx", shards=2)    # shards need xapian
