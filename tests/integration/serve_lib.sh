# serve_lib.sh - helpers sourced by tests/integration/test_serve_*.sh, on
# top of cli_lib.sh (not a test itself: CTest only registers test_*.sh).
#
#   serve_start NAME ARGS...   start `kosearch serve ARGS --listen
#                              127.0.0.1:0` in the background, wait for its
#                              "listening on" line; sets PID_NAME... (see
#                              below): SRV_PID, SRV_URL, SRV_LOG
#   serve_stop [SIGNAL]        stop it (default TERM), wait; SRV_RC = its
#                              exit status
#   req METHOD PATH [CURL ARGS...]   one request; STATUS = the status code
#                              (000: no answer), body in $T/body, headers in
#                              $T/headers
#   expect_status N WHAT       check STATUS (shows the body on failure)
#   body_is JQ-EXPR            the jq expression is true for $T/body
#   expect_error N CODE WHAT   status N and {"error":{"code":CODE}}
. "$(dirname "$0")/cli_lib.sh"

command -v curl >/dev/null 2>&1 || { echo "skip: curl is not installed (scripts/install-deps.sh)"; exit 77; }

SRV_PID=""
trap '[ -n "$SRV_PID" ] && kill -9 "$SRV_PID" 2>/dev/null' EXIT

serve_start() {
  local name="$1"; shift
  SRV_LOG="$T/$name.log"
  "$KOSEARCH" serve "$@" --listen 127.0.0.1:0 2>"$SRV_LOG" &
  SRV_PID=$!
  local i
  for i in $(seq 1 300); do
    if grep -q '^listening on http://' "$SRV_LOG" 2>/dev/null; then
      SRV_URL=$(sed -n 's|^listening on \(http://[^ ]*\).*|\1|p' "$SRV_LOG" | head -1)
      return 0
    fi
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "  server did not start:"; sed 's/^/  | /' "$SRV_LOG" | head -20
  SRV_URL=""
  return 1
}

serve_stop() {
  local sig="${1:-TERM}"
  [ -n "$SRV_PID" ] || return 0
  kill -s "$sig" "$SRV_PID" 2>/dev/null
  wait "$SRV_PID" 2>/dev/null
  SRV_RC=$?
  SRV_PID=""
}

req() {
  local method="$1" path="$2"; shift 2
  STATUS=$(curl -s -g -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$method" \
    --max-time 20 "$@" "$SRV_URL$path")
  [ -n "$STATUS" ] || STATUS=000
}

show_body() { echo "  --- status $STATUS, body:"; head -c 600 "$T/body" | sed 's/^/  | /'; echo; }

expect_status() {
  if [ "$STATUS" = "$1" ]; then pass "$2 (HTTP $1)"; else fail "$2 (expected HTTP $1, got $STATUS)"; show_body; fi
}

body_is() { jq -e "$1" "$T/body" >/dev/null 2>&1; }

expect_error() {
  if [ "$STATUS" = "$1" ] && body_is ".error.code == \"$2\" and (.error.message | length > 0)"; then
    pass "$3 (HTTP $1 $2)"
  else
    fail "$3 (expected HTTP $1 $2)"; show_body
  fi
}

expect_body() {
  if body_is "$1"; then pass "$2"; else fail "$2 (jq: $1)"; show_body; fi
}
