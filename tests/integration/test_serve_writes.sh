# test_serve_writes.sh - `kosearch serve --allow-writes` (docs/http.md,
# "Writes", "Durability and visibility"): PUT/POST/DELETE /docs and POST
# /commit, auth (401/403), media types (415), body limits (413 on
# Content-Length and on a chunked body), visibility after /commit and
# after --refresh-ms, the LOCK message for a concurrent `kosearch add`, a
# read-only server picking up another process's commit, SIGTERM committing
# pending writes, and kill -9 losing nothing committed.
. "$(dirname "$0")/serve_lib.sh"

IDX="$T/w.idx"
ks index --quiet -o "$IDX" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index the corpus"
printf 'sekrit-key-123\n' >"$T/key"
AUTH=(-H 'Authorization: Bearer sekrit-key-123')
JSON=(-H 'Content-Type: application/json')
NDJSON=(-H 'Content-Type: application/x-ndjson')

# hits of a query on the server: their ids, one per line
hits() { curl -s -G --data-urlencode "q=$1" "$SRV_URL/search" | jq -r '.hits[].id'; }

serve_start w "$IDX" --allow-writes --api-key-file "$T/key" --refresh-ms 60000 --max-body-mb 1
check "server with --allow-writes started" test -n "$SRV_URL"

# ---- auth and media types ----
req PUT /docs/cat "${JSON[@]}" -d '{"text":"고양이"}'
expect_error 401 unauthorized "PUT without Authorization"
req PUT /docs/cat "${JSON[@]}" -H 'Authorization: Bearer wrong' -d '{"text":"고양이"}'
expect_error 401 unauthorized "PUT with a wrong key"
req PUT /docs/cat "${JSON[@]}" -H 'Authorization: Bearer sekrit-key-1234' -d '{"text":"고양이"}'
expect_error 401 unauthorized "PUT with a key one byte longer"
req PUT /docs/cat "${AUTH[@]}" -H 'Content-Type: text/plain' -d '{"text":"고양이"}'
expect_error 415 unsupported_media_type "PUT as text/plain"
req POST /docs "${AUTH[@]}" "${JSON[@]}" -d '{"id":"a","text":"고양이"}'
expect_error 415 unsupported_media_type "POST /docs as application/json"
req GET /search -G --data-urlencode 'q=고양이'
expect_status 200 "reads need no key"

# ---- PUT, visibility through /commit ----
req PUT /docs/pets%2Fcat "${AUTH[@]}" "${JSON[@]}" -d '{"title":"고양이 이야기","text":"고양이는 귀엽다","lang":"ko"}'
expect_body '.id == "pets/cat" and .result == "added" and .pending == true' "PUT /docs/pets%2Fcat: added"
check "not visible before the commit (refresh 60 s)" test -z "$(hits 고양이)"
req GET /health
expect_body '.pending == 1 and .writes == true' "/health counts 1 pending write"
req POST /commit "${AUTH[@]}"
expect_body '.committed == true and .generation >= 2' "POST /commit"
check "visible right after /commit" test "$(hits 고양이)" = "pets/cat"
req GET /docs/pets/cat
expect_body '.id == "pets/cat" and .lang == "ko" and .title == "고양이 이야기"' \
  "stored document: the path id added first, other members kept"
req PUT /docs/pets%2Fcat "${AUTH[@]}" "${JSON[@]}" -d '{"id":"pets/cat","text":"강아지와 고양이"}'
expect_body '.result == "replaced"' "PUT of a live id: replaced"
req PUT /docs/x "${AUTH[@]}" "${JSON[@]}" -d '{"id":"y","text":"a"}'
expect_error 400 bad_request "PUT with a different id in the body"
req PUT /docs/x "${AUTH[@]}" "${JSON[@]}" -d '{"text":'
expect_error 400 bad_request "PUT of malformed JSON"
req PUT /docs/x "${AUTH[@]}" "${JSON[@]}" -d '{"text":""}'
expect_error 400 bad_request "PUT of an empty text (the writer's check)"
req PUT /docs/x "${AUTH[@]}" "${JSON[@]}" -d '[1]'
expect_error 400 bad_request "PUT of an array"
req PUT /docs/7 "${AUTH[@]}" "${JSON[@]}" -d '{"id":7,"text":"일곱 번째"}'
expect_body '.result == "added"' "PUT /docs/7 with the integer id 7"

# ---- POST /docs (JSON Lines) ----
printf '%s\n' '{"id":"n1","text":"펭귄 한 마리"}' '{"id":"n2","title":"펭귄"}' 'not json' \
  '' '{"id":"n3","text":"펭귄 두 마리"}' '{"text":"no id"}' '{"id":"n4","text":"펭귄 \u0000"}' \
  '{"id":"n5","text":"펭귄 세 마리"}' >"$T/batch.jsonl"
req POST /docs "${AUTH[@]}" "${NDJSON[@]}" --data-binary @"$T/batch.jsonl"
expect_body '.added == 3 and .rejected == 4 and .lines == 7 and .replaced == 0' \
  "POST /docs: 3 added, 4 rejected, blank line ignored"
expect_body '[.errors[].line] == [2,3,6,7]' "rejected lines are numbered as in the body"
expect_body '.errors[0].message | test("\"text\" is missing")' "reason of a rejected line"
req POST /docs "${AUTH[@]}" "${NDJSON[@]}" --data-binary '{"id":"n1","text":"펭귄 한 마리 (새 판)"}'
expect_body '.added == 1 and .replaced == 1' "POST /docs of a pending id: replaced"
req POST /docs "${AUTH[@]}" "${NDJSON[@]}" --data-binary ''
expect_error 400 bad_request "POST /docs with an empty body"

# ---- DELETE ----
req DELETE /docs/n5 "${AUTH[@]}"
expect_body '.result == "deleted"' "DELETE of a pending document"
req DELETE /docs/n5 "${AUTH[@]}"
expect_error 404 not_found "DELETE of a deleted id"
req DELETE /docs/never "${AUTH[@]}"
expect_error 404 not_found "DELETE of an unknown id"
req DELETE /docs/never
expect_error 401 unauthorized "DELETE without the key"
req POST /commit "${AUTH[@]}"
check "after /commit: n1, n3 visible, n5 deleted" test "$(hits 펭귄 | sort | tr '\n' ' ')" = "n1 n3 "

# ---- body limits (--max-body-mb 1) ----
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
req POST /docs "${AUTH[@]}" "${NDJSON[@]}" --data-binary @"$T/big"
expect_error 413 payload_too_large "body over --max-body-mb (Content-Length)"
req POST /docs "${AUTH[@]}" "${NDJSON[@]}" -H 'Expect:' --data-binary @"$T/big"
expect_error 413 payload_too_large "body over --max-body-mb (Content-Length, no Expect: read and dropped)"
req POST /docs "${AUTH[@]}" "${NDJSON[@]}" -H 'Expect:' -T - <"$T/big"
expect_error 413 payload_too_large "chunked body over --max-body-mb (checked as it arrives)"
head -c 30000000 /dev/zero >"$T/huge"
req POST /docs "${AUTH[@]}" "${NDJSON[@]}" -H 'Expect:' -T - <"$T/huge"
if [ "$STATUS" = 000 ] || [ "$STATUS" = 413 ]; then pass "a chunked body 16 MiB past the limit: connection closed ($STATUS)"
else fail "huge chunked body: HTTP $STATUS"; fi
rm -f "$T/huge"
req GET /health
expect_status 200 "server answers after 413s"

# ---- the LOCK: another writer is refused with a clear message ----
printf '%s\n' '{"id":"z1","text":"얼룩말"}' >"$T/more.jsonl"
ks add "$IDX" "$T/more.jsonl"
if [ "$RC" = 1 ] && err_has "locked by another writer (kosearch serve, pid $SRV_PID)"; then
  pass "kosearch add while serving: 'locked by another writer (kosearch serve, pid N)'"
else
  fail "kosearch add while serving (exit $RC)"; show
fi

# ---- SIGTERM commits pending writes ----
req PUT /docs/term "${AUTH[@]}" "${JSON[@]}" -d '{"text":"종료 직전 문서"}'
expect_status 200 "PUT before SIGTERM (not committed: refresh 60 s)"
serve_stop TERM
if [ "$SRV_RC" = 0 ]; then pass "SIGTERM: exit 0"; else fail "SIGTERM: exit $SRV_RC"; fi
ks get "$IDX" term
expect_rc 0 "the pending write was committed at shutdown"

# ---- SIGTERM with a request in flight: it finishes; new requests get 503 ----
serve_start inflight "$IDX" --allow-writes --refresh-ms 60000
/usr/bin/python3 - "$SRV_URL" "$SRV_PID" >"$T/inflight.out" 2>&1 <<'PY'
import os, signal, socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
pid = int(sys.argv[2])
def answer(s):
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, rest = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(rest) < n:
        rest += s.recv(4096)
    return head.split(b" ")[1].decode(), rest.decode()
b = socket.create_connection((host, int(port)), timeout=10)
b.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
print("keep-alive before", answer(b)[0])
body = '{"text":"종료 중에 도착한 문서"}'.encode()
a = socket.create_connection((host, int(port)), timeout=10)
a.sendall(b"PUT /docs/inflight HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
b.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
st, txt = answer(b)
print("during shutdown", st, txt)
a.sendall(body[5:])
print("in flight", answer(a)[0])
PY
serve_stop TERM
if grep -q '^during shutdown 503 .*"shutting_down"' "$T/inflight.out" && grep -q '^in flight 200' "$T/inflight.out"; then
  pass "SIGTERM: a request in flight completes (200), a new one gets 503 shutting_down"
else
  fail "SIGTERM with a request in flight"; cat "$T/inflight.out"
fi
if [ "$SRV_RC" = 0 ]; then pass "exit 0 after the in-flight request"; else fail "exit $SRV_RC"; fi
ks get "$IDX" inflight
expect_rc 0 "the in-flight write was committed at shutdown"

# ---- --refresh-ms: visible without /commit ----
serve_start r "$IDX" --allow-writes --refresh-ms 200
req PUT /docs/fox "${JSON[@]}" -d '{"text":"여우가 달린다"}'
expect_status 200 "PUT (no API key configured: none needed)"
sleep 1
check "visible within --refresh-ms 200 without /commit" test "$(hits 여우)" = "fox"

# ---- kill -9: committed writes survive, uncommitted ones are lost ----
req PUT /docs/kept "${JSON[@]}" -d '{"text":"커밋된 문서"}'
req POST /commit
expect_status 200 "commit before kill -9"
serve_stop KILL
serve_start k "$IDX" --allow-writes --refresh-ms 60000
req PUT /docs/lost "${JSON[@]}" -d '{"text":"커밋 안 된 문서"}'
serve_stop KILL
ks get "$IDX" kept fox
expect_rc 0 "after kill -9: committed documents are there"
ks get "$IDX" lost
expect_rc 1 "after kill -9: the uncommitted write is lost"
ks check "$IDX"
expect_rc 0 "the index checks clean after kill -9"

# ---- a read-only server picks up another process's commit ----
serve_start ro "$IDX" --refresh-ms 200
check "zebra not there yet" test -z "$(hits 얼룩말)"
ks add "$IDX" "$T/more.jsonl"
expect_rc 0 "kosearch add while a read-only server runs"
sleep 1
check "read-only server sees the other process's commit" test "$(hits 얼룩말)" = "z1"
serve_stop TERM

# ---- --allow-writes on a missing index creates an empty one ----
serve_start new "$T/new.idx" --allow-writes
req GET /health
expect_body '.documents == 0' "new empty index served"
req POST /docs "${NDJSON[@]}" --data-binary '{"id":"q","text":"처음 문서"}'
req POST /commit
check "first document of a new index" test "$(hits 처음)" = "q"
serve_stop TERM
finish
