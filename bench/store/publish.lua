-- wrk: POST /api/publish with the API key, each request to one of 64 channels of the durable
-- namespace (so channels are not one hot lock), over wrk's keep-alive connections.
-- The key comes from the environment: WSHUB_API_KEY.
local counter = 0
local key = os.getenv("WSHUB_API_KEY") or "bench-key"

request = function()
  counter = counter + 1
  local body = string.format('{"channel":"bench-%d","data":{"n":%d,"text":"a device report of about sixty bytes"}}',
                             counter % 64, counter)
  return wrk.format("POST", "/api/publish",
                    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end

local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
end
