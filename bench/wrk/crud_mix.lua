-- A CRUD/search mix over seeded Patients, spread over several API nodes (bench/multinode_bench.sh):
-- 50% read by id, 25% search (family, gender + _count), 15% update (PUT), 10% create (POST).
-- Thread i sends to node i mod N: BENCH_NODES="host:port,host:port,..." (default: the URL's).
-- usage: BENCH_NODES=... wrk -t T ... -s crud_mix.lua http://host:port -- IDS_FILE
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local counter = 0
function setup(thread)
  local list = os.getenv("BENCH_NODES") or ""
  local nodes = {}
  for hp in list:gmatch("[^,]+") do nodes[#nodes + 1] = hp end
  if #nodes > 0 then
    local host, port = nodes[(counter % #nodes) + 1]:match("^(.*):(%d+)$")
    thread.addr = wrk.lookup(host, port)[1]
  end
  counter = counter + 1
  thread:set("thread_no", counter)
end

local ids = {}
local families = { "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson" }

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  if #ids == 0 then error("no ids in " .. tostring(args[1])) end
  math.randomseed(os.time() + (thread_no or 0) * 7919)
end

local json_headers = { ["Accept"] = "application/fhir+json", ["Content-Type"] = "application/fhir+json" }

function request()
  local r = math.random(100)
  local id = ids[math.random(#ids)]
  if r <= 50 then
    return wrk.format("GET", "/fhir/Patient/" .. id, report.auth({ ["Accept"] = "application/fhir+json" }))
  elseif r <= 75 then
    local q = "/fhir/Patient?family=" .. families[math.random(#families)] .. "&gender=female&_count=10"
    return wrk.format("GET", q, report.auth({ ["Accept"] = "application/fhir+json" }))
  elseif r <= 90 then
    local body = '{"resourceType":"Patient","id":"' .. id .. '","gender":"female","name":[{"family":"'
      .. families[math.random(#families)] .. '","given":["Bench"]}]}'
    return wrk.format("PUT", "/fhir/Patient/" .. id, report.auth(json_headers), body)
  else
    local body = '{"resourceType":"Patient","gender":"male","name":[{"family":"'
      .. families[math.random(#families)] .. '","given":["New"]}]}'
    return wrk.format("POST", "/fhir/Patient", report.auth(json_headers), body)
  end
end

done = report.done
