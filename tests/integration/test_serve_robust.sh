# test_serve_robust.sh - `kosearch serve` under hostile clients
# (docs/http.md, "Limits"): a short run of scripts/http_robustness.py fuzz
# (random bytes, malformed request lines, bad percent-encoding, invalid
# UTF-8, huge headers, broken framing, bodies dropped midway, random
# documents to the write endpoints) after which the server must still
# answer; slow clients (headers or body one byte at a time) cut by
# --request-timeout-s while other clients are served at once; headers and
# request lines over --max-header-kb refused; a connection over
# --max-connections waiting until another closes; an idle connection
# closed by --idle-timeout-s. scripts/http_robustness.py fuzz
# --seconds 120 is the longer run (README, "Serving over HTTP").
. "$(dirname "$0")/serve_lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "skip: /usr/bin/python3 is not installed"; exit 77; }
ROB="$KS_SOURCE_DIR/scripts/http_robustness.py"

ks index --quiet -o "$T/r.idx" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index the corpus"
printf 'k3y\n' >"$T/key"
serve_start fuzz "$T/r.idx" --allow-writes --api-key-file "$T/key" --refresh-ms 300 \
  --request-timeout-s 2 --idle-timeout-s 5 --max-header-kb 16 --max-body-mb 1 --quiet
check "server started" test -n "$SRV_URL"
if "$PY" "$ROB" fuzz "$SRV_URL" --seconds 8 --seed "${KS_SEED:-7}" --key k3y >"$T/fuzz.out" 2>&1; then
  pass "8 s of hostile requests: the server kept answering ($(head -1 "$T/fuzz.out"))"
else
  fail "server stopped answering under hostile requests"; cat "$T/fuzz.out"
fi
for mode in headers body; do
  if "$PY" "$ROB" slow "$SRV_URL" --mode "$mode" --within 4 --key k3y >"$T/slow.out" 2>&1; then
    pass "slow $mode (a byte every 0.3 s) cut by --request-timeout-s 2: $(cat "$T/slow.out")"
  else
    fail "slow $mode client"; cat "$T/slow.out"
  fi
done
req GET /search -G --data-urlencode 'q=대통령'
expect_body '.hits | length > 0' "searches still answered after the hostile clients"
t0=$(date +%s)
serve_stop TERM
t1=$(date +%s)
if [ "$SRV_RC" = 0 ]; then pass "clean exit after the hostile clients"; else fail "exit $SRV_RC"; fi
if [ $((t1 - t0)) -le 5 ]; then pass "SIGTERM: stopped in $((t1 - t0)) s (no request left hanging)"
else fail "SIGTERM took $((t1 - t0)) s"; fi
ks check "$T/r.idx"
expect_rc 0 "index checks clean after random writes"

# ---- header size (--max-header-kb) and connection count (--max-connections) ----
serve_start lim "$T/r.idx" --max-header-kb 16 --max-connections 4 --threads 1 --quiet
big=$(head -c 20000 /dev/zero | tr '\0' 'x')
req GET /health -H "X-Big: $big"
if [ "$STATUS" = 431 ] || [ "$STATUS" = 413 ] || [ "$STATUS" = 400 ]; then
  pass "a 20 KB header over --max-header-kb 16 is refused (HTTP $STATUS)"
else
  fail "a 20 KB header: HTTP $STATUS"
fi
req GET "/search?q=$(head -c 20000 /dev/zero | tr '\0' 'a')"
if [ "$STATUS" = 414 ] || [ "$STATUS" = 431 ] || [ "$STATUS" = 400 ]; then
  pass "a 20 KB request line is refused (HTTP $STATUS)"
else
  fail "a 20 KB request line: HTTP $STATUS"
fi
"$PY" - "$SRV_URL" >"$T/conns.out" 2>&1 <<'PY'
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
addr = (host, int(port))
def get(s):
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        data = s.recv(4096)
    except OSError:
        return "reset"
    return data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "closed"
held = [socket.create_connection(addr, timeout=3) for _ in range(4)]
print("held 4:", [get(s) for s in held])
extra = socket.create_connection(addr, timeout=1)
extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    data = extra.recv(4096)
    print("fifth:", "answered" if data else "closed")
except socket.timeout:
    print("fifth: waiting")
held[0].close()
extra.settimeout(3)
try:
    data = extra.recv(4096)
    print("fifth after one closed:", data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "closed")
except OSError as e:
    print("fifth after one closed:", e)
PY
if grep -q "^held 4: \['200', '200', '200', '200'\]" "$T/conns.out" &&
   grep -q "^fifth: waiting" "$T/conns.out" && grep -q "^fifth after one closed: 200" "$T/conns.out"; then
  pass "--max-connections 4 (--threads 1): a fifth connection waits, and is served once one closes"
else
  fail "--max-connections"; cat "$T/conns.out"
fi
req GET /health
expect_status 200 "server answers after the limit checks"
serve_stop TERM

serve_start idle "$T/r.idx" --request-timeout-s 0 --idle-timeout-s 1 --quiet
if "$PY" "$ROB" slow "$SRV_URL" --mode idle --within 3 >"$T/slow.out" 2>&1; then
  pass "idle connection closed by --idle-timeout-s 1: $(cat "$T/slow.out")"
else
  fail "idle connection not closed"; cat "$T/slow.out"
fi
serve_stop TERM
finish
