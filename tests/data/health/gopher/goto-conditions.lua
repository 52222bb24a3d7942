-- gopher-lua style (Lua 5.1 + goto): skip conditions with goto continue
hs = {}
hs.status = "Progressing"
hs.message = "Waiting for conditions"
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
for i, condition in ipairs(obj.status.conditions) do
  if condition.type ~= "Ready" then
    goto continue
  end
  if condition.status == "True" then
    hs.status = "Healthy"
    hs.message = "Ready after " .. i .. " conditions"
    return hs
  elseif condition.status == "False" then
    hs.status = "Degraded"
    hs.message = condition.reason .. ": " .. condition.message
    return hs
  end
  ::continue::
end
return hs
