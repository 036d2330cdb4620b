"""conftest.py - shared fixtures of the Python package's tests.

Environment (set by tests/CMakeLists.txt; defaults for a manual run from
the repository root after building into build/):
  KOSEARCH_LIBRARY  the libkosearch.so.0 under test (read by the package)
  KOSEARCH          the kosearch program of the same build (default
                    build/kosearch): the reference the package's results
                    are compared with
  KS_PY_ABI_DUMP    build/tests/py_abi_dump (test_api.py)
  KS_DATA_DIR       ../shared/data (test_example_rag.py)
  KS_WITH_XAPIAN    1 when the build has the Xapian backend
  KS_PYTEST_SKIP_RC when set (by run_ctest.sh): the exit status to use when
                    every collected test skipped itself, so that CTest
                    reports the file as skipped rather than passed

Manual run: PYTHONPATH=python KOSEARCH_LIBRARY=build/libkosearch.so.0 \\
            /usr/bin/python3 -m pytest -q python/tests
"""
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KOSEARCH = os.environ.get("KOSEARCH") or str(REPO / "build" / "kosearch")


def pytest_sessionfinish(session, exitstatus):
    rc = os.environ.get("KS_PYTEST_SKIP_RC")
    if not rc or exitstatus != 0 or session.testscollected == 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    if stats.get("skipped") and not stats.get("passed"):
        session.exitstatus = int(rc)


def cli(*args, check=True, stdin=None):
    """Run the kosearch program; CompletedProcess with text output."""
    p = subprocess.run([KOSEARCH, *map(str, args)], capture_output=True, text=True,
                       input=stdin)
    if check and p.returncode != 0:
        raise AssertionError("kosearch %s failed (%d): %s" % (" ".join(map(str, args)),
                                                             p.returncode, p.stderr))
    return p


def cli_json(*args):
    return json.loads(cli(*args).stdout)


# ---- a test corpus --------------------------------------------------------
HANDWRITTEN = [
    ("seoul", "서울", "서울은 대한민국의 수도이며 한강이 도시 한가운데를 흐른다."),
    ("busan", "부산", "부산은 대한민국 제2의 도시이자 가장 큰 항구 도시이다."),
    ("jeju", "제주도", "제주도는 대한민국에서 가장 큰 섬이며 한라산이 있다."),
    ("hangul", "한글", "한글은 세종대왕이 만든 문자이다. 1443년에 창제되었다."),
    ("문서/한글/1", "훈민정음", "훈민정음은 백성을 가르치는 바른 소리라는 뜻이다."),
    ("a/b/c", "", "첨단산업 클러스터를 방문한 대통령은 보스턴에서 연설했다."),
    ("ünï/çødé/ß", "Mixed 문서", "Python과 C로 만든 검색 엔진 kosearch는 BM25로 순위를 매긴다."),
    ("emoji-😀", "이모지", "이모지 😀 가 들어간 문서도 검색된다. 대통령의 연설."),
]

_WORDS = ("대통령 정부 국회 경제 산업 첨단 반도체 기술 연구 대학 학생 교수 서울 부산 도시 "
          "항구 바다 섬 산 강 역사 왕 조선 고려 문자 한글 세종 전쟁 평화 외교 미국 중국 "
          "일본 회의 협력 클러스터 바이오 제약 병원 의사 환자 음악 영화 배우 감독 축구 "
          "야구 선수 경기 우승 시장 가격 주식 은행 금리 물가 날씨 비 눈 바람 봄 여름").split()
_PARTICLES = ("", "은", "는", "이", "가", "을", "를", "의", "에", "에서", "으로", "와", "과", "도")
_ENDINGS = ("했다.", "이다.", "있다.", "된다.", "였다.", "한다.")


def generated_docs(n=400, seed=12):
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        words = []
        for _ in range(rng.randint(6, 40)):
            w = rng.choice(_WORDS)
            if rng.random() < 0.2:
                w += rng.choice(_WORDS)          # compounds: 첨단산업
            words.append(w + rng.choice(_PARTICLES))
            if rng.random() < 0.15:
                words.append(rng.choice(_ENDINGS))
        if rng.random() < 0.1:
            words.append("%d년" % rng.randint(1900, 2025))
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 3)))
        docs.append(("gen/%04d" % i, title, " ".join(words)))
    return docs


def all_docs():
    return HANDWRITTEN + generated_docs()


QUERIES = ["대한민국", "대통령", "대통령은", "첨단 산업", "첨단산업 클러스터", "\"첨단 산업\"",
           "+대통령 -미국", "산업 +\"반도체 기술\"", "한글 +세종대왕이", "바다 섬 산 강",
           "경제 금리 물가 주식", "1443년", "kosearch BM25", "😀", "없는단어xyz",
           "서울 부산 제주도", "-대통령 경제", "우승 선수 경기 야구 축구", "조선의 역사",
           "세종", "영화 배우 감독 음악"]


@pytest.fixture(scope="session")
def docs():
    return all_docs()


@pytest.fixture(scope="session")
def py_index(tmp_path_factory, docs):
    """An index of docs() built by the Python package (two commits, so
    there are two segments), with an extra field on every document."""
    import kosearch
    path = tmp_path_factory.mktemp("py") / "py.idx"
    with kosearch.Writer(path, mode="replace", fsync=False, merge=False) as w:
        for i, (id, title, text) in enumerate(docs):
            w.add(id, text, title=title, n=i, tags=["t%d" % (i % 3)])
            if i == len(docs) // 2:
                w.commit()
    return path


@pytest.fixture(scope="session")
def cli_index(tmp_path_factory, docs):
    """The same documents indexed by `kosearch index` from JSON Lines."""
    d = tmp_path_factory.mktemp("cli")
    src = d / "docs.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i, (id, title, text) in enumerate(docs):
            f.write(json.dumps({"id": id, "title": title, "text": text, "n": i,
                                "tags": ["t%d" % (i % 3)]}, ensure_ascii=False) + "\n")
    path = d / "cli.idx"
    cli("index", "-o", path, src)
    return path
