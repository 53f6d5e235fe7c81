-- wrk: POST a blind transfer for call ids c0 .. c(N-1) in turn, N from the CALLS env var.
local calls = tonumber(os.getenv("CALLS") or "1000")
local counter = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"transferTarget": {"endpointType": "default", "identity": {"user": {"id": "u-target", "displayName": "Target"}}}}'

request = function()
  counter = counter + 1
  return wrk.format(nil, "/v1.0/communications/calls/c" .. (counter % calls) .. "/transfer")
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d non2xx=%d errors=%d duration_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration))
end
