-- search.lua - wrk script for `kosearch serve` (scripts/bench_http.sh):
-- GET /search with the questions of a TSV query file (2nd column), cycled
-- in file order, each thread starting at its own offset.
--
-- Environment:
--   KS_QUERIES  the TSV file (qid<TAB>query[<TAB>...])
--   KS_PARAMS   extra parameters appended to every request (default "&k=10")
--   KS_COUNT    1: count answers that are not 2xx in the `response` hook
--               (costs a Lua call per answer; used for the run under writes)
-- done() prints one line "RESULT key=value ..." for the driver script.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  queries = {}
  local params = os.getenv("KS_PARAMS") or "&k=10"
  for line in io.lines(os.getenv("KS_QUERIES")) do
    local q = line:match("^[^\t]*\t([^\t]*)")
    if q and #q > 0 then
      table.insert(queries, "/search?q=" .. encode(q) .. params)
    end
  end
  nq = #queries
  pos = (id * 397) % nq
  bad = 0
  counted = 0
  if os.getenv("KS_COUNT") == "1" then
    response = function(status, headers, body)
      counted = counted + 1
      if status < 200 or status > 299 then bad = bad + 1 end
    end
  end
end

function request()
  pos = pos % nq + 1
  return wrk.format("GET", queries[pos])
end

function done(summary, latency, requests)
  local nbad, ncounted = 0, 0
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    ncounted = ncounted + (t:get("counted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f qps=%.1f mean_ms=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      .. "non2xx_counted=%d counted=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, nbad, ncounted,
    e.connect, e.read, e.write, e.status, e.timeout))
end
