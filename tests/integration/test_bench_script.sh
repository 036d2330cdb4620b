#!/usr/bin/env bash
# test_bench_script.sh - benchmarks/run.sh end to end on a tiny generated
# data directory laid out like ../shared/data (so it needs no shared data):
# full-mode pipeline with both backends, then checks that results.jsonl is
# well-formed with every expected record, that the per-query latency files
# match the bench counts, that summary.md has its tables and that both SVG
# pictures are well-formed SVG with their curves; then --reuse (indexes not
# rebuilt), the skip when the data is absent, and usage errors. No timing
# assertions: speed is measured, not tested.
source "$(dirname "$0")/cli_lib.sh"
require_xapian  # run.sh benchmarks native vs Xapian
command -v python3 >/dev/null 2>&1 || { echo "python3 is not installed: skipping"; exit 77; }

RUN="$KS_SOURCE_DIR/benchmarks/run.sh"
GEN="$KS_SOURCE_DIR/tests/support"
D="$T/data"
mkdir -p "$D/queries"
awk -v seed=11 -v ndocs=400 -f "$GEN/gen_corpus.awk" | gzip -n >"$D/kowiki-sample.jsonl.gz"
awk -v seed=12 -v ndocs=300 -f "$GEN/gen_corpus.awk" | gzip -n >"$D/nsmc-reviews.jsonl.gz"
gzip -dc "$D/kowiki-sample.jsonl.gz" | awk -v seed=13 -v nq=30 -f "$GEN/gen_queries.awk" >"$D/queries/kowiki-tune.tsv"
O="$T/results"  # ($T/out is the stdout of the last command)

run_script() { bash "$RUN" "$@" >"$T/out" 2>"$T/err"; RC=$?; return 0; }

run_script --kosearch "$KOSEARCH" --data "$D" --out "$O" --repeat 2 --warmup 0
expect_rc 0 "run.sh on the generated data"
for f in results.jsonl summary.md latency-cdf.svg latency-vs-size.svg; do
  check "$f written" test -s "$O/$f"
done
check "results.jsonl: one JSON value per line" json_lines_valid "$O/results.jsonl"
check "no temporary results file left" test ! -e "$O/results.jsonl.tmp"
check "25% prefix has 100 of the 400 lines" test "$(wc -l <"$O/data/kowiki-25.jsonl")" -eq 100
check "50% prefix has 200 lines" test "$(wc -l <"$O/data/kowiki-50.jsonl")" -eq 200

# Record structure: 4 corpora x 2 backends; 10 bench runs, each with its
# latency file holding queries x repeat lines per engine.
cat >"$T/check.py" <<'EOF'
import json, os, sys
out = sys.argv[1]
recs = [json.loads(l) for l in open(os.path.join(out, "results.jsonl"), encoding="utf-8")]
def need(cond, msg):
    if not cond:
        print("  " + msg)
        sys.exit(1)
idx = [r for r in recs if r["record"] == "index"]
bench = [r for r in recs if r["record"] == "bench"]
meta = [r for r in recs if r["record"] == "meta"]
need(len(meta) == 1 and meta[0]["mode"] == "full" and meta[0]["repeat"] == 2, "one meta record (full, repeat 2)")
need(sorted((r["corpus"], r["backend"]) for r in idx) ==
     sorted((c, b) for c in ("kowiki-25", "kowiki-50", "kowiki-100", "nsmc") for b in ("native", "xapian")),
     "an index record per corpus and backend")
for r in idx:
    s = r["summary"]
    need(s["backend"] == r["backend"] and s["documents_live"] > 0 and s["text_bytes"] > 0, "index summary " + r["corpus"])
    need(r["wall_s"] > 0 and r["du_bytes"] > 0 and s["peak_rss_bytes"] > 0, "wall, du, rss " + r["corpus"])
live = {(r["corpus"], r["backend"]): r["summary"]["documents_live"] for r in idx}
need(live[("kowiki-25", "native")] < live[("kowiki-50", "native")] < live[("kowiki-100", "native")], "prefixes grow")
runs = {r["run"]: r for r in bench}
want = ["kowiki-100.k10.t1", "kowiki-100.k10.t2", "kowiki-100.k100.t1", "kowiki-100.k100.t2",
        "kowiki-25.k10.t1", "kowiki-50.k10.t1", "nsmc.k10.t1", "nsmc-derived.k10.t1",
        "kowiki-100.k10.t1.default-vs-exhaustive", "kowiki-100.k10.t1.bmw-vs-maxscore"]
need(sorted(runs) == sorted(want), "bench runs: %s" % sorted(runs))
for name, b in runs.items():
    r = b["result"]
    need(r["repeat"] == 2 and r["warmup"] == 0, name + ": repeat/warmup passed on")
    need(r["ours"]["backend"] == "native" and r["ours"]["measured"] > 0, name + ": ours native, measured")
    want_theirs = "xapian" if b["kind"] == "vs-xapian" else "native"
    need(r["theirs"]["backend"] == want_theirs, name + ": theirs " + want_theirs)
    need(r["ours"]["docs"] == live[(b["corpus"], "native")], name + ": docs of its corpus")
    lines = open(os.path.join(out, b["latencies"]), encoding="utf-8").read().splitlines()
    need(lines[0].split("\t") == ["pass", "query", "qid", "ours_ms", "theirs_ms"], name + ": latency header")
    need(len(lines) - 1 == r["queries"] * 2, name + ": one latency line per job")
    nums = [l.split("\t")[3] for l in lines[1:] if l.split("\t")[3] != "-"]
    need(len(nums) == r["ours"]["measured"], name + ": measured latencies = measured")
    v = sorted(float(x) for x in nums)
    need(abs(v[-1] - r["ours"]["max_ms"]) < 1e-5, name + ": max of the file = max_ms")
need(runs["kowiki-100.k100.t2"]["result"]["k"] == 100 and runs["kowiki-100.k100.t2"]["result"]["threads"] == 2, "k/threads")
need(runs["kowiki-100.k10.t1.default-vs-exhaustive"]["result"]["theirs"]["algorithm"] == "exhaustive", "exhaustive run")
need(runs["nsmc-derived.k10.t1"]["query_set"] == "nsmc-derived", "derived query set")
EOF
check "records: every corpus, backend and bench run, latency files consistent" python3 "$T/check.py" "$O"

cat >"$T/svg.py" <<'EOF'
import sys, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
root = E.parse(sys.argv[1]).getroot()
assert root.tag == ns + "svg", root.tag
lines = root.findall(ns + "polyline")
assert len(lines) >= int(sys.argv[2]), len(lines)
for l in lines:
    pts = l.get("points").split()
    assert len(pts) >= 2 and all(len(p.split(",")) == 2 for p in pts)
EOF
check "latency-cdf.svg: SVG with 2 curves" python3 "$T/svg.py" "$O/latency-cdf.svg" 2
check "latency-vs-size.svg: SVG with 4 lines" python3 "$T/svg.py" "$O/latency-vs-size.svg" 4
S="$O/summary.md"
for h in "## Indexing" "## Query latency: native vs Xapian" "## Top-k algorithms" \
         "## Latency vs collection size" "## Issue 4 targets" "(latency-cdf.svg)" "(latency-vs-size.svg)" \
         "| kowiki-100.k100.t2 |" "| nsmc-derived.k10.t1 |" "| nsmc | xapian |"; do
  check "summary.md has '$h'" grep -qF -- "$h" "$S"
done

echo "# --reuse"
stamp() { stat -c %Y "$O/idx/kowiki-100.native/"* "$O/idx/nsmc.xapian/"* | md5sum; }
before=$(stamp)
sleep 1
run_script --kosearch "$KOSEARCH" --data "$D" --out "$O" --repeat 1 --warmup 0 --reuse
expect_rc 0 "run.sh --reuse"
check "indexes not rebuilt" test "$before" = "$(stamp)"
check "index records marked reused" test "$(grep -c '"record":"index".*"reused":true' "$O/results.jsonl")" -eq 8
check "reuse is said" grep -q "reusing the native index of kowiki-100" "$T/err"

echo "# skip and errors"
run_script --kosearch "$KOSEARCH" --data "$T/nodata" --out "$T/o2"
expect_rc 77 "absent data: skipped"
check "names the missing file" grep -q "skipped: .*nodata/kowiki-sample.jsonl.gz is absent" "$T/err"
run_script --kosearch "$T/no-such-binary" --data "$D" --out "$T/o3"
expect_rc 1 "missing kosearch binary"
check "says so" grep -q "is not an executable" "$T/err"
run_script --bogus
expect_rc 2 "unknown argument"
run_script --help
expect_rc 0 "--help"
check "--help shows the usage" grep -q "^Usage: benchmarks/run.sh" "$T/out"
finish
