# test_serve_xapian.sh - `kosearch serve` on the Xapian backend
# (docs/http.md, docs/xapian.md): a Xapian database answers /search like
# `kosearch search --json`, /docs, /stats; writes with --allow-writes;
# a sharded layout served as INDEX (with writes) and as --shard SPECs like
# `kosearch search --shard`. Registered only when built with Xapian.
. "$(dirname "$0")/serve_lib.sh"
require_xapian

cat >"$T/docs.jsonl" <<'JL'
{"id":"autorag/finance/x.pdf/4","title":"금융 보고서","text":"대통령은 금융 정책을 발표했다"}
{"id":"한글/문서","title":"한글","text":"한글 문서의 본문이다 대통령"}
JL
ks index --quiet --backend xapian -o "$T/x.xap" "$T/docs.jsonl" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index --backend xapian"
ks search "$T/x.xap" --json -k 5 대통령
cp "$T/out" "$T/cli.json"
hits() { curl -s -G --data-urlencode "q=$1" "$SRV_URL/search" | jq -r '.hits[].id' | sort | tr '\n' ' '; }
same_as_cli() {
  [ "$(jq -c '[.matches, [.hits[] | [.rank, .id, .score, .title, .snippet]]]' "$T/body")" = \
    "$(jq -c '[.matches, [.hits[] | [.rank, .id, .score, .title, .snippet]]]' "$T/cli.json")" ]
}

serve_start x "$T/x.xap" --allow-writes --refresh-ms 60000
req GET /search -G --data-urlencode 'q=대통령' -d k=5
if same_as_cli; then pass "xapian: /search equals kosearch search --json"; else fail "xapian: /search differs"; show_body; fi
req GET /docs/autorag/finance/x.pdf/4
expect_body '.id == "autorag/finance/x.pdf/4"' "xapian: GET /docs/ with '/'"
req GET /stats
expect_body '.backend == "xapian" and .documents > 2' "xapian: /stats"
req GET '/search?q=a&ranking=bm25'
expect_error 400 bad_request "xapian: ranking=bm25 is the native scheme (KS_EINVAL)"
req PUT /docs/new -H 'Content-Type: application/json' -d '{"text":"코끼리 문서"}'
expect_body '.result == "added"' "xapian: PUT"
req POST /commit
check "xapian: visible after /commit" test "$(hits 코끼리)" = "new "
ks add "$T/x.xap" "$T/docs.jsonl"
if [ "$RC" = 1 ] && err_has "locked"; then pass "xapian: kosearch add while serving is refused (locked)"
else fail "xapian: kosearch add while serving (exit $RC)"; show; fi
serve_stop TERM
if [ "$SRV_RC" = 0 ]; then pass "xapian: SIGTERM exit 0"; else fail "xapian: exit $SRV_RC"; fi

# ---- an engine failure is a 500 "internal" with the library's message ----
# (a Xapian handle for a request is opened again from the path, ks_db_dup:
# remove the database under a server that has not answered yet)
cp -r "$T/x.xap" "$T/gone.xap"
serve_start gone "$T/gone.xap" --refresh-ms 60000
rm -rf "$T/gone.xap"
req GET /search -G --data-urlencode 'q=대통령'
expect_error 500 internal "engine failure (database removed) on /search"
req GET /docs/new
expect_error 500 internal "engine failure on /docs/{id} (not a 404)"
req GET /health
expect_status 500 "engine failure on /health"
serve_stop TERM
if [ "$SRV_RC" = 0 ]; then pass "exit 0 after engine failures"; else fail "exit $SRV_RC after engine failures"; fi

# ---- shards ----
ks index --quiet --backend xapian --shards 2 -o "$T/sh" "$T/docs.jsonl" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index --backend xapian --shards 2"
ks search --shard "$T/sh/shard-0" --shard "$T/sh/shard-1" --json -k 5 대통령
cp "$T/out" "$T/cli.json"
serve_start s --shard "$T/sh/shard-0" --shard "$T/sh/shard-1"
req GET /search -G --data-urlencode 'q=대통령' -d k=5
if same_as_cli; then pass "--shard x2: /search equals kosearch search --shard --json"; else fail "--shard: /search differs"; show_body; fi
req GET /stats
expect_body '.shards == 2' "--shard: /stats counts 2 databases"
req PUT /docs/a -H 'Content-Type: application/json' -d '{"text":"x"}'
expect_error 403 forbidden "--shard: read-only"
serve_stop TERM

serve_start sw "$T/sh" --allow-writes --refresh-ms 60000
req POST /docs -H 'Content-Type: application/x-ndjson' --data-binary $'{"id":"s1","text":"기린 한 마리"}\n{"id":"s2","text":"기린 두 마리"}'
expect_body '.added == 2' "sharded INDEX: POST /docs"
req POST /commit
check "sharded INDEX: both visible after /commit" test "$(hits 기린)" = "s1 s2 "
serve_stop TERM
ks stats "$T/sh"
check "sharded INDEX keeps its 2 shards" grep -q "2 databases" "$T/out"
finish
