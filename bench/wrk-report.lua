-- Used by scripts/bench as `wrk -s bench/wrk-report.lua ...`: prints wrk's summary as
-- one JSON line after wrk's own report. Only done() is defined, so wrk keeps its
-- fast path (no Lua call per request or per response).
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"mib_s":%.2f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"non_2xx_3xx":%d,"socket_errors":%d}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes / secs / 1048576,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
