-- os.time() and os.time{...}: age checks like Argo CD scripts do
-- the sandbox has no string library, so the object carries the date parts
local function parse(ts)
  return os.time({ year = ts.year, month = ts.month, day = ts.day, hour = ts.hour, min = ts.min, sec = ts.sec })
end
local hs = { status = "Healthy", message = "fresh" }
local t = parse(obj.status.lastSeen)
if os.time() - t > 3600 then
  hs.status = "Degraded"
  hs.message = "stale since " .. os.date("!%Y", t)
end
return hs
