-- GET {prefix}{id} with ids drawn at random from a file (one id per line).
-- usage: wrk ... -s read.lua http://host:port -- IDS_FILE /fhir/Patient/
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local ids = {}
local prefix = "/fhir/Patient/"

function init(args)
  local file = args[1]
  if args[2] then prefix = args[2] end
  for line in io.lines(file) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  if #ids == 0 then error("no ids in " .. tostring(file)) end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

function request()
  return wrk.format("GET", prefix .. ids[math.random(#ids)], report.auth({ ["Accept"] = "application/fhir+json" }))
end

done = report.done
