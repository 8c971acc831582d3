-- wrk: POST /api/send with the API key, filling the inboxes of WSHUB_DEVICES devices
-- ("bench-dev-0" ...) with WSHUB_PER_DEVICE messages each, round-robin, over wrk's keep-alive
-- connections. Thread i of n sends messages i, i + n, i + 2n, ...; a thread stops once it has
-- its share answered 200. Requests already in flight then go to the device "bench-spill", which
-- the benchmark leaves out. The key comes from WSHUB_API_KEY; WSHUB_WRK_THREADS is wrk's -t.
local key = os.getenv("WSHUB_API_KEY") or "bench-key"
local devices = tonumber(os.getenv("WSHUB_DEVICES") or "10000")
local total = devices * tonumber(os.getenv("WSHUB_PER_DEVICE") or "10")
local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}

-- Must equal wrk's -t: each thread's Lua state sees only itself.
local stride = tonumber(os.getenv("WSHUB_WRK_THREADS") or "1")

local next_index = 0
function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
end

function init(args)
  -- wrk calls request() once more in thread 0 to check the script (before any connection):
  -- that call gets a number below 0, which is never sent.
  message = index
  if index == 0 then message = -stride end
  answered = 0
  share = 0
  for m = index, total - 1, stride do share = share + 1 end
  others = 0
end

request = function()
  local device
  if message >= 0 and message < total then
    device = "bench-dev-" .. (message % devices)
  else
    device = "bench-spill"
  end
  local body = string.format('{"device":"%s","data":{"n":%d,"text":"a message for one device of about sixty bytes"}}',
                             device, message)
  message = message + stride
  return wrk.format("POST", "/api/send", headers, body)
end

response = function(status, headers, body)
  if status == 200 then
    answered = answered + 1
  else
    others = others + 1
  end
  if answered >= share then wrk.thread:stop() end
end

done = function(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
end
