-- GET one of the request paths listed in a file (one per line, e.g. "/fhir/Patient?name=lopez"),
-- drawn at random for each request, so that a scenario covers many values rather than one.
-- usage: wrk ... -s paths.lua http://host:port -- PATHS_FILE
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  if #paths == 0 then error("no paths in " .. tostring(args[1])) end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], report.auth({ ["Accept"] = "application/fhir+json" }))
end

done = report.done
