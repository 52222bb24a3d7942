-- local os = require("os") works in the sandbox; other modules do not
local os = require("os")
local ok = pcall(require, "io")
local hs = {}
if ok then
  hs.status = "Degraded"
  hs.message = "io must not load"
  return hs
end
if type(os.time()) == "number" and obj.spec.wanted == true then
  hs.status = "Healthy"
  hs.message = "os.time ok"
else
  hs.status = "Progressing"
  hs.message = "not wanted"
end
return hs
