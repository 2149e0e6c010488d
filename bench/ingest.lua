-- wrk script: POST a realistic ~300-byte Refir referral webhook.
local body_file = os.getenv("REFIR_BENCH_BODY") or "bench/ingest_body.json"
local f = assert(io.open(body_file, "r"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = f:read("*a"):gsub("%s+$", "")
f:close()
