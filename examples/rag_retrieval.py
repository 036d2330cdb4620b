#!/usr/bin/python3
"""rag_retrieval.py - kosearch as the retriever of a small Korean
retrieval-augmented generation (RAG) setup, evaluated on KorQuAD.

    PYTHONPATH=python KOSEARCH_LIBRARY=build/libkosearch.so.0 \\
        /usr/bin/python3 examples/rag_retrieval.py [DATA_DIR]

1. Index the KorQuAD 1.0 dev paragraphs (DATA_DIR/korquad-paragraphs.jsonl.gz,
   read with Python's gzip and json modules) with kosearch.Writer.
2. Retrieve the top 10 paragraphs for every tuning question
   (DATA_DIR/queries/korquad-paragraphs-tune.tsv: qid<TAB>question<TAB>
   relevant paragraph id) with kosearch.Index.search, and print MRR@10 and
   Recall@10 as docs/eval.md defines them (the numbers `kosearch eval`
   prints for the same index and questions).
3. Show what a generator model would be given for one question: the
   question and the top passages as a prompt context.

DATA_DIR defaults to ../shared/data next to the repository. Options:
--corpus FILE and --queries FILE instead of the DATA_DIR files, --index DIR
to keep the index (default: a temporary directory), --show QID (the
question whose context is printed; default the first), --passages N (in
that context, default 3), --json (the metrics as one JSON object).
"""
import argparse
import gzip
import json
import os
import sys
import tempfile
import time

import kosearch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))


def read_passages(path):
    """The {"id", "title", "text"} records of a JSON Lines file (.gz or not)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read_questions(path):
    """{qid: (question, set of relevant ids)} in file order; a question with
    several relevant documents has several lines."""
    questions = {}
    with open(path, encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            cols = line.split("\t")
            if len(cols) < 3 or not cols[2]:
                sys.exit("%s:%d: expected qid<TAB>question<TAB>relevant_doc_id" % (path, n))
            q = questions.setdefault(cols[0], (cols[1], set()))
            q[1].add(cols[2])
    return questions


def build_index(path, passages):
    with kosearch.Writer(path, mode="replace") as w:   # commits at the end of the block
        n = 0
        for p in passages:
            w.add(str(p["id"]), p["text"], title=p.get("title", ""))
            n += 1
    return n


def evaluate(idx, questions, k=10):
    """MRR@10 and Recall@10 over all questions (a question the query parser
    rejects scores 0), and the rank of each question's first relevant hit."""
    mrr = recall = 0.0
    first = {}
    for qid, (question, relevant) in questions.items():
        try:
            hits = idx.search(question, k=k, documents=False, snippet_chars=0)
        except kosearch.QueryError:
            first[qid] = None
            continue
        ranks = [h.rank for h in hits if h.id in relevant]
        first[qid] = ranks[0] if ranks else None
        if ranks and ranks[0] <= 10:
            mrr += 1.0 / ranks[0]
        recall += sum(1 for r in ranks if r <= 10) / len(relevant)
    n = len(questions)
    return mrr / n, recall / n, first


def show_context(idx, qid, question, relevant, passages=3):
    hits = idx.search(question, k=passages, snippet_chars=120)
    print("\nquestion %s: %s" % (qid, question))
    print("relevant passage: %s" % ", ".join(sorted(relevant)))
    print("context given to the generator (top %d passages):" % passages)
    for h in hits:
        text = h.document["text"]
        print("  [%d] %s  %s  (score %.4f)%s" % (h.rank, h.id, h.title, h.score,
                                               "  <- relevant" if h.id in relevant else ""))
        print("      %s%s" % (text[:200].replace("\n", " "), "…" if len(text) > 200 else ""))
    if hits:
        print("  snippet of [1], matched words in « »: %s" % hits[0].snippet)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default=DEFAULT_DATA,
                    help="directory of the shared data (default: %(default)s)")
    ap.add_argument("--corpus", help="JSON Lines passages (default DATA/korquad-paragraphs.jsonl.gz)")
    ap.add_argument("--queries", help="questions TSV (default "
                    "DATA/queries/korquad-paragraphs-tune.tsv)")
    ap.add_argument("--index", help="index directory to build and keep (default: temporary)")
    ap.add_argument("--show", help="question id whose RAG context is printed (default: first)")
    ap.add_argument("--passages", type=int, default=3, help="passages in that context")
    ap.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    a = ap.parse_args()
    corpus = a.corpus or os.path.join(a.data, "korquad-paragraphs.jsonl.gz")
    queries = a.queries or os.path.join(a.data, "queries", "korquad-paragraphs-tune.tsv")
    for f in (corpus, queries):
        if not os.path.exists(f):
            sys.exit("rag_retrieval: %s does not exist (give the data directory or "
                     "--corpus/--queries)" % f)
    tmp = None
    if a.index is None:
        tmp = tempfile.TemporaryDirectory(prefix="kosearch-rag-")
        a.index = os.path.join(tmp.name, "korquad.idx")

    t0 = time.perf_counter()
    n = build_index(a.index, read_passages(corpus))
    t_index = time.perf_counter() - t0
    questions = read_questions(queries)
    with kosearch.Index(a.index) as idx:
        t0 = time.perf_counter()
        mrr, recall, first = evaluate(idx, questions)
        t_search = time.perf_counter() - t0
        if a.json:
            print(json.dumps({"passages": n, "queries": len(questions), "mrr@10": mrr,
                              "recall@10": recall, "index_seconds": round(t_index, 3),
                              "ms_per_query": round(1000 * t_search / len(questions), 3)}))
        else:
            print("indexed %d passages from %s in %.2f s" % (n, os.path.basename(corpus), t_index))
            print("%d questions from %s, top 10 each: %.2f ms per question"
                  % (len(questions), os.path.basename(queries),
                     1000 * t_search / len(questions)))
            print("MRR@10     %.4f" % mrr)
            print("Recall@10  %.4f" % recall)
            found = sum(1 for r in first.values() if r == 1)
            print("relevant passage ranked first for %d of %d questions" % (found, len(questions)))
            qid = a.show or next(iter(questions))
            if qid not in questions:
                sys.exit("rag_retrieval: no question with id %s" % qid)
            show_context(idx, qid, questions[qid][0], questions[qid][1], a.passages)
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
