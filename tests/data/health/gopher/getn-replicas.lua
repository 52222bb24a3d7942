-- table.getn (Lua 5.0 style) and number concatenation printed without ".0"
local hs = {}
local ready = 0
if obj.status ~= nil and obj.status.replicas ~= nil then
  for _, r in pairs(obj.status.replicas) do
    if r.ready then ready = ready + 1 end
  end
  if ready == table.getn(obj.status.replicas) then
    hs.status = "Healthy"
  else
    hs.status = "Progressing"
  end
  hs.message = ready .. "/" .. table.getn(obj.status.replicas) .. " ready, ratio " .. tostring(ready / table.getn(obj.status.replicas))
  return hs
end
hs.status = "Suspended"
hs.message = "no replicas"
return hs
