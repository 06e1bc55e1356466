-- test_future.lua — hand-written futures, wakers, and the lost-waker lint.
local function check(cond, msg) if not cond then error(msg or "check failed", 2) end end

-- a future that is ready at once
check(rt.future{ poll = function(cx) return 42 end }:await() == 42)

-- a future woken by another task through a cloned waker
local tx, rx = rt.sync.mpsc.unbounded_channel()
local h = rt.spawn(function(wtx)
  local polls, ready = 0, false
  local v = rt.future{ poll = function(cx)
    polls = polls + 1
    if ready then return "done", polls end
    ready = true
    wtx:try_send(cx.waker:clone()) -- whoever holds the clone wakes us (poll cannot await)
    return rt.PENDING
  end }:await()
  return v
end, tx)
local w = rx:recv()
w:wake()
check(h:await() == "done")

-- the borrowed waker cannot outlive its poll
local kept
rt.future{ poll = function(cx) kept = cx.waker; return true end }:await()
local ok, err = pcall(kept.wake, kept)
check(not ok and err:find("valid only during poll", 1, true), err)

-- pitfall D1, the classic bug: Pending with no waker kept; the task never runs again
local lost = rt.task.Builder.new():name("forgetful"):spawn(function()
  rt.future{ poll = function(cx) return rt.PENDING end }:await()
end)
local fired
for _ = 1, 200 do
  for _, l in ipairs(rt.lints()) do
    if l.lint == "lost-waker" and l.message:find('"forgetful"') then fired = l end
  end
  if fired then break end
  rt.time.sleep(5)
end
check(fired, "lost-waker did not fire")
check(not lost:is_finished())
lost:abort()
-- errors inside poll surface at the await
local ok2, err2 = pcall(function() return rt.future{ poll = function() error("bad poll") end }:await() end)
check(not ok2 and tostring(err2):find("bad poll", 1, true), tostring(err2))
print("test_future: ok")
