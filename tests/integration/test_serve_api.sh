# test_serve_api.sh - `kosearch serve` read endpoints and errors
# (docs/http.md): /search (the shape and hits of `search --json`), /docs/{id}
# with '/' and percent-encoded ids, /analyze, /stats, /health, the page,
# every error status of a read-only server with its code, and the limits
# on queries, k + offset and parameters.
. "$(dirname "$0")/serve_lib.sh"

cat >"$T/docs.jsonl" <<'EOF'
{"id":"autorag/finance/x.pdf/4","title":"금융 보고서","text":"대통령은 금융 정책을 발표했다"}
{"id":"a b%c?d#e","title":"특수","text":"사과는 맛있다"}
{"id":"한글/문서","title":"한글","text":"한글 문서의 본문이다 대통령"}
{"id":42,"title":"number","text":"숫자 아이디 문서"}
EOF
ks index --quiet -o "$T/a.idx" "$T/docs.jsonl" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index the test corpus"
ks search "$T/a.idx" --json -k 5 대통령
cp "$T/out" "$T/cli.json"

serve_start ro "$T/a.idx" --max-hits 1000 --max-query-bytes 64
check "server started (listening on ... printed)" test -n "$SRV_URL"
check "the first line is exactly 'listening on http://127.0.0.1:PORT'" \
  grep -qxE 'listening on http://127\.0\.0\.1:[0-9]+' "$SRV_LOG"

# ---- /search ----
req GET /search -G --data-urlencode 'q=대통령' -d k=5
expect_status 200 "GET /search"
expect_body 'keys_unsorted == ["query","took_ms","matches","matches_exact","offset","k","hits"]' \
  "search answer has exactly the documented members, in order"
expect_body '[.hits[] | keys_unsorted] | all(. == ["rank","id","score","title","snippet"])' \
  "every hit has rank, id, score, title, snippet"
if [ "$(jq -c '[.hits[] | [.rank, .id, .score, .title, .snippet]]' "$T/body")" = \
     "$(jq -c '[.hits[] | [.rank, .id, .score, .title, .snippet]]' "$T/cli.json")" ] &&
   [ "$(jq -c '[.matches, .matches_exact, .k, .offset]' "$T/body")" = \
     "$(jq -c '[.matches, .matches_exact, .k, .offset]' "$T/cli.json")" ]; then
  pass "hits, scores, titles and snippets equal kosearch search --json"
else
  fail "server hits differ from kosearch search --json"; show_body; head -c 600 "$T/cli.json"
fi
expect_body '[.hits[].snippet | select(test("«대통령"))] | length > 0' "snippets mark matched words with « »"
req GET /search -G --data-urlencode 'q=대통령' -d k=1 -d offset=1
expect_body '.hits | length == 1 and .[0].rank == 2' "offset=1 k=1 gives rank 2"
req GET '/search?q=%EB%8C%80%ED%86%B5%EB%A0%B9+%EA%B8%88%EC%9C%B5&algorithm=exhaustive&k=0'
expect_body '.matches_exact == true and .matches >= 1 and (.hits | length) == 0 and .query == "대통령 금융"' \
  "'+' is a space in q; k=0 counts only; algorithm=exhaustive"
req GET /search -G --data-urlencode 'q=대통령' -d k=5 -d stored=0
expect_body '(.hits | length) > 0 and ([.hits[] | select(.title != "" or .snippet != "")] | length) == 0' \
  "stored=0: hits without title and snippet"
req GET '/search?q=a&stored=2'
expect_error 400 bad_request "stored=2"
req GET '/search?q=x&k1=0.9&b=0.5&bigram_weight=0.5&ranking=bm25&snippet_chars=0'
expect_status 200 "ranking parameters accepted"

# ---- /docs/{id} ----
req GET /docs/autorag/finance/x.pdf/4
expect_body '.id == "autorag/finance/x.pdf/4" and .title == "금융 보고서"' "GET /docs/ with '/' in the id"
req GET /docs/autorag%2Ffinance%2Fx.pdf%2F4
expect_body '.id == "autorag/finance/x.pdf/4"' "GET /docs/ with %2F in the id"
req GET '/docs/a%20b%25c%3Fd%23e'
expect_body '.id == "a b%c?d#e"' "GET /docs/ with space, %, ?, # escaped"
req GET '/docs/%ED%95%9C%EA%B8%80/%EB%AC%B8%EC%84%9C'
expect_body '.id == "한글/문서"' "GET /docs/ with a percent-encoded Hangul id"
req GET /docs/42
expect_body '.id == 42' "GET /docs/42 (an integer id)"
req GET /docs/nope
expect_error 404 not_found "GET /docs/ of an unknown id"
req GET '/docs/%zz'
expect_error 400 bad_request "invalid percent-encoding in the id"
req GET '/docs/%C3%28'
expect_error 400 bad_request "invalid UTF-8 in the id"
req GET '/docs/a%00b'
expect_error 400 bad_request "%00 in the id"
req GET '/docs/42?x=1'
expect_error 400 bad_request "unknown parameter on /docs/{id}"

# ---- errors of /search ----
req GET /search
expect_error 400 bad_request "missing q"
req GET '/search?q=%FF'
expect_error 400 bad_request "invalid UTF-8 in q"
req GET '/search?q=%4'
expect_error 400 bad_request "truncated percent-escape in q"
req GET '/search?q=a&kk=3'
expect_error 400 bad_request "unknown parameter"
req GET '/search?q=a&q=b'
expect_error 400 bad_request "parameter given twice"
req GET '/search?q=a&k=abc'
expect_error 400 bad_request "k not a number"
req GET '/search?q=a&k=-1'
expect_error 400 bad_request "negative k"
req GET '/search?q=a&k=600&offset=500'
expect_error 400 bad_request "k + offset over --max-hits 1000"
req GET '/search?q=a&k=500&offset=500'
expect_status 200 "k + offset = --max-hits is accepted"
req GET "/search?q=$(printf 'a%.0s' $(seq 1 65))"
expect_error 400 bad_request "q over --max-query-bytes 64"
req GET '/search?q=%2B'
expect_error 400 bad_request "malformed query '+' (KS_EQUERY)"
req GET '/search?q=a&ranking=foo'
expect_error 400 bad_request "unknown ranking"
req GET '/search?q=a&b=nan'
expect_error 400 bad_request "b=nan"

# ---- /analyze, /stats, /health, the page ----
req GET /analyze -G --data-urlencode 'text=사과를 먹었다'
expect_body '.reason == "document" and ([.terms[] | select(.kind == "stem" and .term == "사과")] | length == 1)' \
  "/analyze: the stem 사과 of 사과를"
"$KOSEARCH" analyze --json '사과를 먹었다' | jq -s -c '.' >"$T/an.json"
if [ "$(jq -c '.terms' "$T/body")" = "$(cat "$T/an.json")" ]; then pass "/analyze terms equal kosearch analyze --json"
else fail "/analyze terms differ from kosearch analyze --json"; fi
req GET /analyze -G --data-urlencode 'text=무엇' -d query=1
expect_body '.reason == "query" and (.terms | length) == 0' "/analyze query=1 drops question words"
req GET /analyze
expect_error 400 bad_request "/analyze without text"
req GET /stats
ks stats --json "$T/a.idx"
if [ "$(jq -c 'del(.index)' "$T/body")" = "$(jq -c 'del(.index)' "$T/out")" ]; then pass "/stats equals kosearch stats --json"
else fail "/stats differs from kosearch stats --json"; show_body; fi
req GET /health
expect_body '.status == "ok" and .writes == false and .pending == 0' "/health"
req GET /
if [ "$STATUS" = 200 ] && grep -qi '^content-type: text/html; charset=utf-8' "$T/headers" &&
   cmp -s "$T/body" "$KS_SOURCE_DIR/server/page.html"; then
  pass "GET / serves server/page.html as text/html"
else
  fail "GET / does not serve server/page.html"; show_body
fi
check "GET / carries a Content-Security-Policy that allows nothing from elsewhere" \
  grep -qi "^content-security-policy: default-src 'none'; script-src 'unsafe-inline'" "$T/headers"
req GET /index.html
expect_status 200 "GET /index.html"

# ---- routing errors ----
req GET /nope
expect_error 404 not_found "unknown path"
req DELETE /search
expect_error 405 method_not_allowed "DELETE /search"
check "405 carries Allow: GET, HEAD" grep -qi '^allow: GET, HEAD' "$T/headers"
req POST /docs/x -H 'Content-Type: application/json' -d '{}'
expect_error 405 method_not_allowed "POST /docs/{id}"
req PUT /docs/x -H 'Content-Type: application/json' -d '{"text":"a"}'
expect_error 403 forbidden "PUT without --allow-writes"
req POST /commit
expect_error 403 forbidden "POST /commit without --allow-writes"
req HEAD /health
expect_status 200 "HEAD /health"

# keep-alive: several requests on one connection
n=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "$SRV_URL/health" "$SRV_URL/nope" "$SRV_URL/health" | awk '{s += $1} END {print s}')
if [ "$n" = 1 ]; then pass "three requests reuse one connection (keep-alive)"; else fail "keep-alive: $n connects"; fi

grep -q '^GET /search?q=%EB%8C%80%ED%86%B5%EB%A0%B9+%EA%B8%88%EC%9C%B5&algorithm=exhaustive&k=0 200 [0-9.]*$' "$SRV_LOG" &&
  pass "access log line: METHOD PATH STATUS MS" || { fail "access log line missing"; tail -5 "$SRV_LOG"; }

serve_stop TERM
if [ "$SRV_RC" = 0 ]; then pass "SIGTERM: exit 0"; else fail "SIGTERM: exit $SRV_RC"; fi

# --quiet: no access log
serve_start quiet "$T/a.idx" --quiet
req GET /health
serve_stop INT
if [ "$SRV_RC" = 0 ] && ! grep -q '^GET ' "$SRV_LOG"; then pass "--quiet: no access log; SIGINT: exit 0"
else fail "--quiet / SIGINT (exit $SRV_RC)"; cat "$SRV_LOG"; fi

# command-line errors
ks serve "$T/missing.idx"
expect_rc 1 "serve a missing index without --allow-writes"
ks serve --shard "$T/a.idx" --allow-writes
expect_rc 2 "--allow-writes with --shard"
ks serve "$T/a.idx" --listen nonsense
expect_rc 1 "--listen without a port"
ks serve --help
expect_rc 0 "serve --help"
finish
