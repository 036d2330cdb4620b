# test_serve_robust.sh - `kosearch serve` under hostile clients
# (docs/http.md, "Limits"): a short run of scripts/http_robustness.py fuzz
# (random bytes, malformed request lines, bad percent-encoding, invalid
# UTF-8, huge headers, broken framing, bodies dropped midway, random
# documents to the write endpoints) after which the server must still
# answer; slow clients (headers or body one byte at a time) cut by
# --request-timeout-s while other clients are served at once; an idle
# connection closed by --idle-timeout-s. scripts/http_robustness.py fuzz
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

serve_start idle "$T/r.idx" --request-timeout-s 0 --idle-timeout-s 1 --quiet
if "$PY" "$ROB" slow "$SRV_URL" --mode idle --within 3 >"$T/slow.out" 2>&1; then
  pass "idle connection closed by --idle-timeout-s 1: $(cat "$T/slow.out")"
else
  fail "idle connection not closed"; cat "$T/slow.out"
fi
serve_stop TERM
finish
