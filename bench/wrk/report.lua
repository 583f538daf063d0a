-- Shared wrk reporting: prints one machine-readable line that bench/run.sh parses.
-- Latency values from wrk are in microseconds.
local M = {}

function M.done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d non2xx=%d sockerr=%d timeouts=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.status, e.connect + e.read + e.write, e.timeout))
end

-- Adds "Authorization: Bearer $CARECHART_BEARER" (the access token the bench scripts get with
-- `carechart token`) to a header table; unchanged when the variable is unset (nginx runs).
local bearer = os.getenv("CARECHART_BEARER")
function M.auth(headers)
  if bearer and #bearer > 0 then headers["Authorization"] = "Bearer " .. bearer end
  return headers
end

return M
