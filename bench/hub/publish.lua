-- wrk script for bench/hub_api.py: every request is POST /api/publish of a small JSON report
-- to one channel, with the benchmark config's API key, on keep-alive connections.
wrk.method = "POST"
wrk.path = "/api/publish"
wrk.headers["X-API-Key"] = os.getenv("WSHUB_API_KEY") or "bench-api-key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"channel":"' .. (os.getenv("WSHUB_CHANNEL") or "bench") .. '","data":{"device":"d-1","temp":21.5,"seq":1}}'

-- Any answer but 200 is counted, so a refused key or a bad body cannot pass for throughput.
local refused = 0
function response(status, headers, body)
  if status ~= 200 then refused = refused + 1 end
end
