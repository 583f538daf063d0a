-- POST {path} with a Patient body. usage: wrk ... -s create.lua http://host:port -- /fhir/Patient
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local path = "/fhir/Patient"
local counter = 0
local body_fmt = '{"resourceType":"Patient","active":true,"identifier":[{"system":"urn:carechart-bench","value":"%s"}],' ..
  '"name":[{"family":"Bench","given":["Create","%s"]}],"gender":"female","birthDate":"1980-05-17",' ..
  '"address":[{"line":["1 Main Street"],"city":"Springfield","postalCode":"12345","country":"US"}]}'
local tag = ""

function init(args)
  if args[1] then path = args[1] end
  tag = tostring({}):match("0x(%x+)") or tostring(math.random(1e9))
end

function request()
  counter = counter + 1
  local id = tag .. "-" .. counter
  return wrk.format("POST", path, report.auth({ ["Content-Type"] = "application/fhir+json", ["Accept"] = "application/fhir+json" }),
    string.format(body_fmt, id, id))
end

done = report.done
