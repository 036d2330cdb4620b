#!/usr/bin/env bash
# test_xap_shards.sh - sharded search over the network (docs/xapian.md,
# README "Xapian backend"): a corpus is split by `kosearch index --backend
# xapian --shards 2`, each half is served by its own xapian-tcpsrv on
# 127.0.0.1 (free ports, lifetime bounded by `timeout`, killed by the EXIT
# trap also when a check fails), and
#   kosearch search --shard tcp://... --shard tcp://... --json
# must return exactly the same ids, in the same order up to ties, with the
# same scores (1e-12 relative: only the summation order differs) and the
# same number of matches as one local database holding every document.
# Exit 77 (skip) when xapian-tcpsrv is not installed.
DIR="$(cd "$(dirname "$0")" && pwd)"
. "$DIR/cli_lib.sh"
require_xapian
SUP="$KS_SOURCE_DIR/tests/support"
command -v xapian-tcpsrv >/dev/null || { echo "skip: xapian-tcpsrv not installed (Debian xapian-tools)"; exit 77; }
command -v timeout >/dev/null || { echo "skip: timeout (coreutils) not found"; exit 77; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# is something listening on 127.0.0.1:$1?
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# serve DB: start a xapian-tcpsrv for DB on a free port; sets PORT.
serve() {
  local db="$1" tries p pid
  for tries in $(seq 1 30); do
    p=$((20000 + RANDOM % 40000))
    listening "$p" && continue
    timeout 300 xapian-tcpsrv --interface 127.0.0.1 --port "$p" --idle-timeout 60000 "$db" \
      >"$T/srv-$p.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      if listening "$p"; then PORT=$p; return 0; fi
      sleep 0.05
    done
    kill "$pid" 2>/dev/null
  done
  return 1
}

awk -v seed=11 -v ndocs=300 -f "$SUP/gen_corpus.awk" >"$T/c.jsonl"
awk -v seed=11 -v nq=120 -f "$SUP/gen_queries.awk" "$T/c.jsonl" >"$T/q.tsv"
cat "$SUP/xap_seed_queries.tsv" >>"$T/q.tsv"

ks index --quiet --backend xapian --shards 2 -o "$T/sh" "$T/c.jsonl" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index --backend xapian --shards 2"
check "shard layout: shard-0, shard-1, marker" test -d "$T/sh/shard-0" -a -d "$T/sh/shard-1" -a -f "$T/sh/KOSEARCH-SHARDS"
ks index --quiet --backend xapian -o "$T/one" "$T/c.jsonl" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index --backend xapian (one database)"
ks stats "$T/sh/shard-0"; n0=$(sed -n 's/^documents: //p' "$T/out")
ks stats "$T/sh/shard-1"; n1=$(sed -n 's/^documents: //p' "$T/out")
ks stats "$T/one"; n=$(sed -n 's/^documents: //p' "$T/out")
if [ -n "$n0" ] && [ "$n0" -gt 0 ] && [ "$n1" -gt 0 ] && [ $((n0 + n1)) -eq "$n" ]; then
  pass "shards hold $n0 + $n1 = $n documents"
else
  fail "shard document counts: '$n0' + '$n1' vs '$n'"
fi

serve "$T/sh/shard-0" || { fail "could not start xapian-tcpsrv for shard 0"; finish; }
P0=$PORT
serve "$T/sh/shard-1" || { fail "could not start xapian-tcpsrv for shard 1"; finish; }
P1=$PORT
pass "two xapian-tcpsrv on 127.0.0.1:$P0 and :$P1"
S=(--shard "tcp://127.0.0.1:$P0" --shard "tcp://127.0.0.1:$P1")

# batch: every query, all matches (k larger than the corpus)
ks search "${S[@]}" --queries "$T/q.tsv" -k 100000 --json --run "$T/remote.run"
expect_rc 0 "remote batch search"
ks search "$T/one" --queries "$T/q.tsv" -k 100000 --json --run "$T/one.run"
expect_rc 0 "local batch search"
if awk -v tol=1e-12 -f "$SUP/xap_compare.awk" "$T/one.run" "$T/remote.run" >"$T/cmp"; then
  pass "remote shards = one database: $(tail -1 "$T/cmp")"
else
  fail "remote shards differ from one database"; head -20 "$T/cmp"
fi
[ "$(wc -l <"$T/one.run")" -gt 100 ] || fail "too few hits to be meaningful"
# the local shard layout gives the same too
ks search "$T/sh" --queries "$T/q.tsv" -k 100000 --json --run "$T/layout.run"
if awk -v tol=1e-12 -f "$SUP/xap_compare.awk" "$T/one.run" "$T/layout.run" >"$T/cmp2"; then
  pass "local shard layout = one database"
else
  fail "local shard layout differs"; head -20 "$T/cmp2"
fi

# single queries with --json (snippets fetched remotely) and text output;
# took_ms differs from run to run, so it is left out of the comparison
ks search "${S[@]}" --json -k 5 '+대통령 "첨단 산업" -보스턴'
jq -c 'del(.took_ms)' "$T/out" >"$T/r.json"
ks search "$T/one" --json -k 5 '+대통령 "첨단 산업" -보스턴'
jq -c 'del(.took_ms)' "$T/out" >"$T/o.json"
if [ "$(jq '.hits | length' "$T/o.json")" -gt 0 ] && cmp -s "$T/r.json" "$T/o.json"; then
  pass "--json output (matches, ids, scores, titles, snippets) equal"
else
  # scores may differ in the last digit: compare all but the scores
  noscore='.hits |= map(del(.score))'
  if [ -s "$T/r.json" ] && [ "$(jq -c "$noscore" "$T/r.json")" = "$(jq -c "$noscore" "$T/o.json")" ]; then
    pass "--json output equal (scores to the last bits)"
  else
    fail "--json output differs"; diff "$T/r.json" "$T/o.json" | head
  fi
fi
ks search "${S[@]}" -k 3 대통령
expect_rc 0 "remote text search"
check "text output lists hits and a match count" out_has "matching document"
ks search "${S[@]}" --ranking bm25 대통령
expect_rc 2 "--ranking bm25 is refused on Xapian"

# a dead shard fails the whole search with a message naming it
kill "${PIDS[1]}" 2>/dev/null; wait "${PIDS[1]}" 2>/dev/null
ks search "${S[@]}" 대통령
expect_rc 1 "a dead shard is an error"
check "the error names the shard" err_has "127.0.0.1:$P1"
finish
