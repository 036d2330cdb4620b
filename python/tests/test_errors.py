"""test_errors.py - every failure surfaces as the kosearch.Error subclass of
its code, with the library's message: a bad path, a foreign directory, a
locked index (by Python and by the kosearch program), a corrupt index,
bad queries and options, a closed Index."""
import os
import pickle
import subprocess

import pytest

import kosearch
from conftest import KOSEARCH

CODES = {kosearch.NotFound: 2, kosearch.NoMemory: -1, kosearch.IOError: -2,
         kosearch.Corrupt: -3, kosearch.InvalidArgument: -4, kosearch.UnsupportedVersion: -5,
         kosearch.InvalidUTF8: -6, kosearch.InvalidInput: -7, kosearch.QueryError: -8,
         kosearch.LimitExceeded: -9, kosearch.ICUError: -10, kosearch.Locked: -11,
         kosearch.XapianError: -12, kosearch.Unsupported: -13}


def test_classes():
    assert len(CODES) == 14
    for cls, code in CODES.items():
        assert issubclass(cls, kosearch.Error) and cls.code == code
        e = cls("[x][y] detail")
        assert str(e) == "[x][y] detail" and e.message == "[x][y] detail"
        assert e.name.startswith("KS_") and e.code == code
        assert kosearch.strerror(code) and kosearch.strerror(code) != kosearch.strerror(0)
        assert repr(e).startswith(cls.__name__) and cls.__module__ == "kosearch"
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is cls and back.code == code and str(back) == str(e)
    assert issubclass(kosearch.NoMemory, MemoryError)
    assert issubclass(kosearch.IOError, OSError) and kosearch.IOError is not IOError
    assert issubclass(kosearch.NotFound, LookupError)
    for cls in (kosearch.InvalidArgument, kosearch.InvalidUTF8, kosearch.InvalidInput,
                kosearch.QueryError):
        assert issubclass(cls, ValueError)
    assert kosearch.IOError("[a][b] c").name == "KS_EIO"


def test_bad_paths(tmp_path):
    with pytest.raises(kosearch.NotFound) as e:
        kosearch.Index(tmp_path / "missing")
    assert "no such directory" in str(e.value) and str(tmp_path / "missing") in str(e.value)
    assert e.value.code == 2 and e.value.name == "KS_NOTFOUND"
    (tmp_path / "empty").mkdir()
    with pytest.raises(kosearch.NotFound) as e:
        kosearch.Index(tmp_path / "empty")
    assert str(e.value)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(kosearch.InvalidArgument) as e:
        kosearch.Writer(tmp_path / "foreign")
    assert "notes.txt" in str(e.value) or "not" in str(e.value)
    assert (tmp_path / "foreign" / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(kosearch.Error) as e:
        kosearch.Index(tmp_path / "file")
    assert str(e.value)


def test_locked(tmp_path):
    p = tmp_path / "lock.idx"
    w = kosearch.Writer(p, fsync=False)
    w.add("a", "잠긴 색인")
    w.commit()
    with pytest.raises(kosearch.Locked) as e:
        kosearch.Writer(p, fsync=False)
    assert e.value.code == -11 and str(e.value)
    # another process: the kosearch program is refused too
    src = tmp_path / "doc.jsonl"
    src.write_text('{"id": "b", "text": "다른 프로세스"}\n', encoding="utf-8")
    r = subprocess.run([KOSEARCH, "add", str(p), str(src)], capture_output=True, text=True)
    assert r.returncode == 1 and "lock" in r.stderr.lower(), r.stderr
    # readers are not blocked by the writer
    with kosearch.Index(p) as idx:
        assert [h.id for h in idx.search("색인")] == ["a"]
    w.close()
    with kosearch.Writer(p, fsync=False) as w2:     # the lock is released by close
        w2.add("c", "다시 열린 색인")
    with kosearch.Index(p) as idx:
        assert sorted(h.id for h in idx.search("색인")) == ["a", "c"]


def test_bad_queries_and_options(py_index):
    with kosearch.Index(py_index) as idx:
        for q in ("+", "-", "대통령 +", '+""'):
            with pytest.raises(kosearch.QueryError) as e:
                idx.search(q)
            assert e.value.code == -8 and str(e.value)
        with pytest.raises(kosearch.QueryError):
            idx.search(b"\xff\xfe invalid utf-8")
        with pytest.raises(kosearch.InvalidArgument) as e:
            idx.search("대통령", k=kosearch.MAX_HITS + 1)
        assert e.value.code == -4 and str(e.value)
        with pytest.raises(kosearch.InvalidArgument):
            idx.search("대통령", k=kosearch.MAX_HITS, offset=1)
        assert idx.search("대통령", k=kosearch.MAX_HITS - 5, offset=5).matches > 0
        for bad in ({"k": -1}, {"k": 1.5}, {"k": True}, {"k": 2**32}, {"offset": -3},
                    {"k1": float("nan")}, {"b": -0.5}, {"k1": "1.2"},
                    {"algorithm": "wand"}, {"ranking": "tfidf"}, {"snippet_chars": -1},
                    {"marks": ("[",)}, {"min_normlen": -1.0}):
            with pytest.raises(kosearch.InvalidArgument) as e:
                idx.search("대통령", **bad)
            assert str(e.value), bad
        with pytest.raises(TypeError):
            idx.search(None)
        with pytest.raises(TypeError):
            idx.get(12)
        # the index still works after all that
        assert len(idx.search("대통령")) == 10


def test_corrupt_index(tmp_path, docs):
    p = tmp_path / "c.idx"
    with kosearch.Writer(p, fsync=False) as w:
        for id, title, text in docs[:50]:
            w.add(id, text, title=title)
    assert kosearch.check_index(p)
    sto = next(f for f in os.listdir(p) if f.endswith(".sto"))
    data = bytearray((p / sto).read_bytes())
    data[len(data) // 2] ^= 0x5A
    (p / sto).write_bytes(bytes(data))
    with pytest.raises(kosearch.Corrupt) as e:
        kosearch.check_index(p)
    assert sto in str(e.value) and e.value.report
    with pytest.raises(kosearch.Corrupt):
        with kosearch.Index(p) as idx:
            for id, _, _ in docs[:50]:
                idx.get(id)
    # a MANIFEST that is not one
    (p / "MANIFEST").write_bytes(b"garbage")
    with pytest.raises((kosearch.Corrupt, kosearch.UnsupportedVersion)) as e:
        kosearch.Index(p)
    assert "MANIFEST" in str(e.value)


def test_closed_index(py_index):
    idx = kosearch.Index(py_index)
    assert len(idx.search("대통령")) == 10
    idx.close()
    idx.close()
    assert idx.closed and "closed" in repr(idx)
    for call in (lambda: idx.search("대통령"), lambda: idx.get("seoul"), idx.stats,
                 idx.reopen):
        with pytest.raises(kosearch.InvalidArgument, match="closed"):
            call()


def test_xapian_unavailable_or_available(tmp_path):
    """Without libkosearch-xapian, the Xapian backend is refused with
    Unsupported; a build with it must have found and registered it."""
    if os.environ.get("KS_WITH_XAPIAN") == "1":
        assert kosearch.XAPIAN, kosearch.XAPIAN_ERROR
    if kosearch.XAPIAN:
        return  # test_xapian.py covers it
    with pytest.raises(kosearch.Unsupported) as e:
        kosearch.Writer(tmp_path / "x.xap", backend="xapian")
    assert "xapian" in str(e.value).lower()
