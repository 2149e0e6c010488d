-- wrk script: like ingest.lua, but every request carries a distinct
-- webhook-id header, so each one takes the dedup path (lookup + key insert).
local body_file = os.getenv("REFIR_BENCH_BODY") or "bench/ingest_body.json"
local f = assert(io.open(body_file, "r"))
local body = f:read("*a"):gsub("%s+$", "")
f:close()

local next_thread = 0
function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local counter = 0
function request()
  counter = counter + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["webhook-id"] = string.format("bench-%d-%d", thread_id, counter),
  }, body)
end
