/*
 * lua_help.c — rt.help(): the API at the prompt. rt.help() lists every name
 * by module with one line each; rt.help("rt.sync.Mutex") (or the function
 * itself, rt.help(rt.time.sleep)) shows the full entry with an example.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_help.h"
#include "lua_rt.h"

typedef struct {
    const char *name;    /* "rt.time.sleep" */
    const char *usage;   /* "rt.time.sleep(ms)" */
    const char *summary; /* one line */
    const char *detail;  /* more, with an example; may be NULL */
} al_lua_help_t;

static const al_lua_help_t al_lua_help[] = {
    {"rt.spawn", "h = rt.spawn(fn, ...)",
     "run fn(...) as a task on the runtime's workers; returns a JoinHandle",
     "The function and its arguments are copied into the task's own Lua state\n"
     "(tables, functions with their upvalues; rt/std objects are shared).\n"
     "  h = rt.spawn(function(n) rt.time.sleep(10); return n * 2 end, 21)\n"
     "  h:await()   --> 42"},
    {"rt.task.spawn", "h = rt.task.spawn(fn, ...)", "the same as rt.spawn", NULL},
    {"rt.task.Builder", "rt.task.Builder.new():name(s):spawn(fn, ...)",
     "spawn a named task (names show in every view)",
     "  rt.task.Builder.new():name(\"health\"):spawn(function() ... end)\n"
     ":memory_limit(mb) caps the task's Lua memory (growth past it is its error)."},
    {"JoinHandle:await", "h:await()", "wait for a task; its results, or raises a JoinError",
     "A JoinError has e:is_panic(), e:is_cancelled() and tostring(e).\n"
     "  local ok, e = pcall(h.await, h)"},
    {"JoinHandle:abort", "h:abort()",
     "cancel the task at its next await (guards it holds are released)", NULL},
    {"JoinHandle:is_finished", "h:is_finished()", "true once the task ended (any way)", NULL},
    {"rt.task.JoinSet", "set = rt.task.JoinSet.new()",
     "a set of tasks; set:join_next() returns the results of whichever finishes next",
     "  local set = rt.task.JoinSet.new()\n"
     "  for i = 1, 3 do set:spawn(function() rt.time.sleep(10 * (4 - i)); return i end) end\n"
     "  while set:len() > 0 do print(set:join_next()) end   --> 3, 2, 1\n"
     "join_next() raises the task's JoinError if it panicked or was cancelled, and\n"
     "returns nil when the set is empty; join_next_with_id() returns id, results...\n"
     "set:len(), set:is_empty(), set:abort_all(), set:shutdown() (abort all and wait).\n"
     "Dropping the set aborts its tasks: when its task ends, when `local set <close>`\n"
     "leaves scope, or when it is collected. A set belongs to its task (cannot be sent)."},
    {"rt.task.spawn_local", "h = rt.task.spawn_local(fn, ...)",
     "spawn a local task into the LocalSet being driven here (inside ls:run_until)",
     "A local task runs in the same Lua state as the code that drives the set:\n"
     "fn is not copied, it shares upvalues and globals with its spawner and may\n"
     "capture what rt.spawn refuses (coroutines): Tokio's !Send futures.\n"
     "  local ls, n = rt.runtime.LocalSet.new(), 0\n"
     "  ls:run_until(function() rt.task.spawn_local(function() n = n + 1 end):await() end)\n"
     "  print(n)   --> 1\n"
     "Outside a LocalSet: \"`spawn_local` called from outside of a `task::LocalSet`\"."},
    {"rt.task.yield_now", "rt.task.yield_now()", "let the worker run other tasks, then continue",
     NULL},
    {"rt.task.spawn_blocking", "h = rt.task.spawn_blocking(fn, ...)",
     "run fn on the blocking pool (a thread that may block); returns a JoinHandle",
     "  rt.task.spawn_blocking(function() std.thread.sleep(500) end):await()"},
    {"rt.task.block_in_place", "rt.task.block_in_place(fn, ...)",
     "run fn right here after handing this worker's queue to a new thread (multi-thread only)",
     NULL},
    {"rt.task.id", "rt.task.id()", "the current task's id (nil at the top level)", NULL},
    {"rt.select", "key, ... = rt.select{ k1 = fn1, k2 = fn2 }",
     "run the branches concurrently; the first to finish wins, the others are cancelled",
     "  local k, msg = rt.select{\n"
     "    msg = function() return rx:recv() end,\n"
     "    tick = function() rt.time.sleep(100) end,\n"
     "  }"},
    {"rt.future", "rt.future{ poll = function(cx) ... end }:await()",
     "a hand-written future: return rt.PENDING or a value",
     "cx.waker is valid only during poll: keep cx.waker:clone() and call :wake()\n"
     "on it when progress is possible. Returning PENDING with no clone kept\n"
     "leaves the task pending forever (the lost-waker lint reports it)."},
    {"rt.time.sleep", "rt.time.sleep(ms)", "wait ms milliseconds without blocking the worker",
     "Compare std.thread.sleep(ms), which blocks the whole worker thread."},
    {"rt.time.now", "rt.time.now()", "milliseconds on the runtime's monotonic clock", NULL},
    {"rt.time.timeout", "ok, ... = rt.time.timeout(ms, fn, ...)",
     "run fn with a deadline: true and its results, or false, \"elapsed\"", NULL},
    {"rt.time.interval", "it = rt.time.interval(ms)",
     "a schedule: it:tick() waits for the next tick (the first is immediate)",
     "  local it = rt.time.interval(100)\n"
     "  for i = 1, 5 do it:tick(); print(\"tick\", i) end   -- at 0, 100, 200, ... ms\n"
     "tick() returns the tick's scheduled time (ms on the runtime clock). Missed\n"
     "ticks (after blocking, say) complete at once, one per call, until it has\n"
     "caught up (Tokio's Burst). it:reset() re-bases it to one period from now;\n"
     "it:period()."},
    {"rt.time.Instant", "t = rt.time.Instant.now()",
     "a point on the runtime clock; t:elapsed() is the ms since",
     "  local t = rt.time.Instant.now(); work(); print(t:elapsed())\n"
     "t2 - t1 (ms), t + ms and t - ms (Instants), comparisons, t:duration_since(t0),\n"
     "t:add(ms), t:ms(). While time is paused it reads the paused clock."},
    {"rt.time.sleep_until", "rt.time.sleep_until(instant)",
     "wait until the runtime clock reaches instant",
     "  local deadline = rt.time.Instant.now() + 50; rt.time.sleep_until(deadline)"},
    {"rt.time.pause", "rt.time.pause()",
     "freeze the clock of this current-thread runtime (test time, as Tokio's test-util)",
     "  local r = rt.runtime.Builder.new_current_thread():enable_time():build()\n"
     "  r:block_on(function()\n"
     "    rt.time.pause()\n"
     "    rt.time.sleep(60000)   -- returns at once: with nothing else to run, the\n"
     "  end)                     -- clock jumps to the next timer\n"
     "Only on a current-thread runtime (a multi-thread one raises); the builder's\n"
     ":start_paused() starts that way."},
    {"rt.time.advance", "rt.time.advance(ms)",
     "move the paused clock forward; fires the timers now due, then yields once", NULL},
    {"rt.time.resume", "rt.time.resume()", "let the paused clock run again (from where it was)",
     NULL},
    {"rt.sync.Mutex", "m = rt.sync.Mutex.new(value [, name])",
     "an async mutex guarding a value; lock() waits without blocking the worker",
     "  local g = m:lock()      -- waits (the task yields) while another holds it\n"
     "  g.value = g.value + 1\n"
     "  g:unlock()             -- also released when the task ends or is cancelled\n"
     "m:try_lock() returns a guard or nil; m:is_locked()."},
    {"rt.sync.RwLock", "l = rt.sync.RwLock.new(value [, name])",
     "many readers or one writer; l:read() / l:write() wait and return a guard",
     "  local r = l:read()       -- shares the lock with other readers\n"
     "  print(r.value.x); r:unlock()\n"
     "  local w = l:write()      -- alone: waits for the readers to leave\n"
     "  w.value = {x = 2}; w:unlock()   -- a write guard stores .value on unlock\n"
     "A read guard's value is a copy for reading (assigning it is an error).\n"
     "Waiting is fair: a queued writer holds back readers that come after it.\n"
     "l:try_read() / l:try_write() return a guard or nil; l:readers(), l:is_write_locked().\n"
     "Guards are also released when the task ends or is cancelled."},
    {"rt.sync.Weak", "w = rt.sync.Weak.new(m)",
     "a reference to a Mutex, RwLock or watch / broadcast sender that does not keep it "
     "alive (Rust's Weak)",
     "  -- nodes that point at each other: a strong back reference is a cycle\n"
     "  -- that is never freed (pitfall E2); a weak one breaks it\n"
     "  local g = b:lock(); g.value.prev = rt.sync.Weak.new(a); g:unlock()\n"
     "  local prev = w:upgrade()   -- a, or nil once nothing else holds it\n"
     "w:strong_count() says how many strong references are left. Shared objects\n"
     "still alive when asynclab exits are listed on stderr: a cycle."},
    {"rt.sync.Barrier", "b = rt.sync.Barrier.new(n [, name])",
     "b:wait() returns once n tasks are waiting; true for exactly one of them (the leader)",
     "  local b = rt.sync.Barrier.new(3)\n"
     "  for i = 1, 3 do rt.spawn(function() local leader = b:wait() end) end\n"
     "The barrier then starts over for the next n; b:generation() counts the rounds."},
    {"rt.sync.Semaphore", "s = rt.sync.Semaphore.new(n)", "n permits; s:acquire([k]) waits for one",
     "  local p = s:acquire(); ...; p:release()\n"
     "s:available_permits(), s:add_permits(k), s:close()."},
    {"rt.sync.Notify", "n = rt.sync.Notify.new()",
     "wake one (notify_one) or all (notify_waiters) waiters of n:notified()", NULL},
    {"rt.sync.mpsc", "tx, rx = rt.sync.mpsc.channel(cap) | rt.sync.mpsc.unbounded_channel()",
     "a many-producer channel; tx:send(v) waits when full, rx:recv() waits for a value (nil when "
     "closed)",
     "tx:try_send(v), tx:clone(), tx:is_closed(), rx:close(), rx:len()."},
    {"rt.sync.oneshot", "tx, rx = rt.sync.oneshot.channel()",
     "one value, once: tx:send(v); rx:recv()", NULL},
    {"rt.net.TcpListener", "l = rt.net.TcpListener.bind(\"127.0.0.1:0\")",
     "listen for TCP connections (port 0: any free port); l:local_addr() says which",
     "  local l = rt.net.TcpListener.bind(\"127.0.0.1:0\")\n"
     "  print(l:local_addr())          --> 127.0.0.1:40123\n"
     "  local c, peer = l:accept()     -- waits for a client\n"
     "Addresses are numeric (\"a.b.c.d:port\", \"[::1]:port\") or \"localhost:port\";\n"
     "names are not looked up. l:close() closes it; a task waiting in accept\n"
     "then gets an error."},
    {"TcpListener:accept", "c, peer = l:accept()",
     "wait for the next connection: a TcpStream and the client's address (one accept at a time)",
     "  while true do\n"
     "    local c = l:accept()\n"
     "    rt.spawn(function() c:write(\"hello\\n\"); c:close() end)\n"
     "  end"},
    {"rt.net.TcpStream", "c = rt.net.TcpStream.connect(addr)",
     "connect to a listener; waits until connected (errors: refused, invalid address)",
     "A stream is a shared handle: one task may read while another writes.\n"
     "c:read(n) c:read_line() c:read_to_end() c:write(s) c:shutdown() c:close()\n"
     "c:peer_addr() c:local_addr() c:set_nodelay(on). Using a closed stream raises\n"
     "\"this TcpStream was closed\"; the socket is also closed when the last handle\n"
     "to it is collected (a task's handles when the task ends)."},
    {"TcpStream:read", "data = c:read([n])",
     "wait for data: at most n bytes (default 4096); nil at end of stream",
     "  while true do\n"
     "    local data = c:read(1024)\n"
     "    if data == nil then break end   -- the peer shut down its side\n"
     "    c:write(data)\n"
     "  end\n"
     "c:read_to_end() returns everything up to the end of stream (\"\" if none)."},
    {"TcpStream:read_line", "line = c:read_line()",
     "wait for a line; without its \\n (or \\r\\n); nil at end of stream",
     "A last line without a newline is returned as is; lines up to 1 MiB."},
    {"TcpStream:read_to_end", "s = c:read_to_end()",
     "wait for the end of stream; everything read (\"\" if nothing)", NULL},
    {"TcpStream:write", "c:write(s)", "send all of s; waits while the socket's buffer is full",
     "Fails when the peer closed the connection (\"Broken pipe\")."},
    {"TcpStream:shutdown", "c:shutdown()",
     "close the writing side: the peer reads end of stream, and can still answer", NULL},
    {"TcpStream:close", "c:close()",
     "close the socket now (for every task holding it); a waiting read or write fails", NULL},
    {"rt.net.http_get", "status, body, headers = rt.net.http_get(url [, {timeout = ms}])",
     "a tiny HTTP/1.0 GET for loopback health checks; raises on failure or timeout",
     "  local status, body = rt.net.http_get(\"http://127.0.0.1:8080/health\", {timeout = 500})\n"
     "headers has lower-case names. The response ends at Content-Length, or when\n"
     "the server closes. timeout: default 5000 ms (where timers are enabled);\n"
     "false waits forever. Errors name the URL: \"http_get URL: timed out after\n"
     "500 ms\", \"... connection refused (nothing listens there)\". http:// only."},
    {"rt.sync.broadcast", "tx, rx = rt.sync.broadcast.channel(cap)",
     "every receiver gets every value sent after it subscribed; tx:send(v) never waits",
     "  local rx2 = tx:subscribe()        -- another receiver: values sent from now on\n"
     "  tx:send(v)     --> how many receivers will see v (nil, \"no receivers\" if none)\n"
     "  rx:recv()      --> the next value; nil once every sender is closed and all is seen\n"
     "The channel keeps the last cap values. A receiver more than cap values behind\n"
     "has lost the oldest: its next recv() raises \"lagged: this receiver missed N\n"
     "values ...\" and the one after continues with the oldest value still kept.\n"
     "rx:try_recv() -> v | nil, \"empty\" | \"closed\" | \"lagged\", n; rx:len();\n"
     "tx:clone(), tx:close(), tx:receiver_count()."},
    {"rt.sync.watch", "tx, rx = rt.sync.watch.channel(v)",
     "one current value: tx:send(v) replaces it; rx:changed() waits for a newer one",
     "  while rx:changed() do print(rx:borrow()) end   -- false once the sender is gone\n"
     "rx:borrow() is a copy of the current value (rx:borrow_and_update() also marks it\n"
     "seen); values sent in between may be skipped. tx:send(v) -> true, or nil,\n"
     "\"no receivers\" (not stored); tx:send_replace(v) stores anyway. tx:subscribe(),\n"
     "rx:clone() (one waiting task per receiver), rx:has_changed(), rx:version(),\n"
     "tx:close(), tx:receiver_count()."},
    {"rt.runtime.Builder", "rt.runtime.Builder.new_multi_thread() | new_current_thread()",
     "configure and build a runtime",
     "  local r = rt.runtime.Builder.new_multi_thread():worker_threads(4):enable_all():build()\n"
     "  r:block_on(function() ... end)   -- not inside a task: that is the nested-runtime error\n"
     ":enable_time() :enable_io() :max_blocking_threads(n) :thread_name(s)\n"
     ":event_interval(n) :global_queue_interval(n) :start_paused(); Runtime:spawn,\n"
     ":handle(), :shutdown_timeout(ms), :metrics()."},
    {"rt.runtime.Handle", "rt.runtime.Handle.current() | try_current()",
     "the runtime of the current task (the default one at the top level)", NULL},
    {"rt.runtime.LocalSet", "ls = rt.runtime.LocalSet.new()",
     "a set of local tasks, run by whoever drives it, in that code's Lua state",
     "  ls:run_until(fn, ...)   -- run fn with the set entered (rt.task.spawn_local\n"
     "                          -- works there) and its tasks, until fn returns\n"
     "  ls:spawn_local(fn, ...) -- queue a local task (runs when the set is driven)\n"
     "  ls:await()              -- run the local tasks until none is left\n"
     "  ls:block_on(runtime, fn, ...)   -- top level: run_until under runtime:block_on\n"
     "ls:len(). Local tasks run on the thread driving the set (always the same one\n"
     "at the top level or on a current-thread runtime). A LocalSet belongs to its\n"
     "task (it cannot be sent); dropping it cancels its tasks."},
    {"rt.runtime.default", "rt.runtime.default()", "the REPL's default runtime", NULL},
    {"std.thread.sleep", "std.thread.sleep(ms)",
     "BLOCK the OS thread (a pitfall inside a task: its worker stops)", NULL},
    {"std.sync.Mutex", "m = std.sync.Mutex.new(value)",
     "a blocking mutex: lock() blocks the OS thread (pitfall B1 when held across an await)", NULL},
    {"std.hint.spin", "std.hint.spin(ms)", "burn CPU for ms without yielding (CPU-heavy work)",
     NULL},
    {"std.io.read_file", "local text = std.io.read_file(path)",
     "read a whole file with blocking I/O (pitfall A3 inside a task: its worker stops)",
     "Returns the contents, or nil, \"path: message\", errno (as io.open). The fix in a\n"
     "task: rt.task.spawn_blocking(std.io.read_file, path):await()."},
    {"rt.metrics", "rt.metrics()",
     "the runtime's counters: alive tasks, queue depths, per-worker polls, steals, parks", NULL},
    {"rt.console", "print(rt.console([{sort=, limit=, done=}]))",
     "the console tables: workers, tasks (state, polls, busy/idle), resources",
     "  print(rt.console{sort = \"busy\"})              -- busiest tasks first\n"
     "  print(rt.console{sort = \"polls\", limit = 5})  -- the 5 most polled\n"
     "  print(rt.console{done = false})                 -- only tasks still alive\n"
     "sort: id (default), name, state, polls, wakes, busy, sched, idle, total,\n"
     "poll (poll-time p99); counts and times largest first."},
    {"rt.tasks", "rt.tasks()",
     "the task table as Lua tables (id, name, state, polls, busy_ms, ...)",
     "A Lua task's entry also has traceback: where it waits (the operation, then its Lua "
     "traceback), or \"being polled now\"."},
    {"rt.dump", "print(rt.dump())",
     "a task dump: every worker's state and every live task, what it waits on and its Lua "
     "traceback",
     "Also printed by kill -QUIT <pid>, even while every worker is blocked."},
    {"rt.lints", "rt.lints()",
     "what the lints found: lost-waker, never-yielded, long-poll, deadlock, ...", NULL},
    {"rt.trace.start", "rt.trace.start(path) ... rt.trace.stop()",
     "record the event stream to a trace file",
     "Read it with: asynclab trace info|stats|lints|export --perfetto FILE"},
    {"rt.trace.stop", "rt.trace.stop()",
     "stop recording; returns {path, events, bytes} (nil if not recording)", NULL},
    {"rt.pretty", "rt.pretty(v [, {depth=, items=}])",
     "a value as text, tables included (the prompt prints with it)", NULL},
    {"rt.help", "rt.help([name])", "this help; rt.help(\"rt.sync.Mutex\") for one entry", NULL},
    {"rt.viz.caption", "rt.viz.caption(text)",
     "narration on the visualizer's screen (recorded: replays show it); nil clears",
     "The caption stays until the next one. It is a CAPTION event in the stream,\n"
     "so rt.trace recordings and `asynclab replay` show it at the same moment.\n"
     "  rt.viz.caption(\"worker 0 is stuck in std.thread.sleep: watch its queue\")"},
    {"rt.viz.highlight", "rt.viz.highlight(x, ...)",
     "outline tasks, workers or resources on screen (recorded); none or nil clears",
     "Each x: a JoinHandle (its task), an integer (a worker index), a Mutex,\n"
     "RwLock, Semaphore, Notify, Barrier or channel end, or {task=id},\n"
     "{worker=i}, {resource=id}. A call replaces the previous highlight.\n"
     "  local h = rt.spawn(heartbeat); rt.viz.highlight(h, 0)   -- its task and worker 0\n"
     "  rt.viz.highlight()                                       -- clear"},
    {"rt.viz.marker", "rt.viz.marker(name)",
     "a named point in the recording that playback stops at",
     "The player stops there when \"stop at markers\" is on (key M), and\n"
     "asynclab replay FILE --screenshot out.png --at marker:NAME shows that moment.\n"
     "  rt.viz.marker(\"blocked\")"},
    {"rt.viz.open", "rt.viz.open([runtime] [, opts])",
     "show the visualizer for the current runtime (or the one given), live",
     "opts: step=true (start in step mode), max_events= (history kept, default 1000000), "
     "width=, height=, title=. The prompt keeps working. In the window: Space pause, Left/Right "
     "step through what was "
     "recorded, C catch up to now, S step mode, Enter one poll, Q close. Returns true, or nil "
     "and a message (no display)."},
    {"rt.viz.close", "rt.viz.close()", "close the visualizer window (true if one was open)", NULL},
    {"rt.viz.is_open", "rt.viz.is_open()", "false once the window was closed", NULL},
    {"rt.viz.wait", "rt.viz.wait()", "block until the user closes the window (for scripts)", NULL},
    {"rt.viz.step_mode", "rt.viz.step_mode(on)",
     "step mode: every worker waits before its next poll until a step",
     "On the window's runtime (else the current one). Nothing is simulated: a worker in a "
     "blocking call stays stuck. Do not await at the prompt while it is on: step from the "
     "window (Enter) or with rt.viz.step()."},
    {"rt.viz.step", "rt.viz.step([n])", "in step mode: let n polls (default 1) run", NULL},
    {"rt.viz.gate", "rt.viz.gate()",
     "step mode's state: {on=, waiting= (workers held), steps_left=, passed=}", NULL},
};

#define AL_LUA_HELP_N (sizeof al_lua_help / sizeof *al_lua_help)

static const al_lua_help_t *al_lua_help_find(const char *name)
{
    for (size_t i = 0; i < AL_LUA_HELP_N; i++)
        if (strcmp(al_lua_help[i].name, name) == 0)
            return &al_lua_help[i];
    /* "rt.sync.Mutex.new", "Mutex:lock": the entry that starts the name */
    for (size_t i = 0; i < AL_LUA_HELP_N; i++) {
        size_t n = strlen(al_lua_help[i].name);
        if (strncmp(al_lua_help[i].name, name, n) == 0 && (name[n] == '.' || name[n] == ':'))
            return &al_lua_help[i];
    }
    return NULL;
}

/* The dotted name of a value reachable from rt / std (for rt.help(fn)). */
static bool al_lua_help_name_of(lua_State *L, int v, const char *prefix, int depth, char *out,
                                size_t cap)
{
    if (depth > 3 || lua_type(L, -1) != LUA_TTABLE)
        return false;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            char path[128];
            snprintf(path, sizeof path, "%s.%s", prefix, lua_tostring(L, -2));
            if (lua_rawequal(L, -1, v)) {
                snprintf(out, cap, "%s", path);
                lua_pop(L, 2);
                return true;
            }
            if (al_lua_help_name_of(L, v, path, depth + 1, out, cap)) {
                lua_pop(L, 2);
                return true;
            }
        }
        lua_pop(L, 1);
    }
    return false;
}

static int al_lua_help_fn(lua_State *L)
{
    luaL_Buffer b;
    if (lua_isnoneornil(L, 1)) {
        luaL_buffinit(L, &b);
        luaL_addstring(&b, "asynclab's Lua API (rt.help(\"name\") for details and an example)\n");
        const char *section = "";
        for (size_t i = 0; i < AL_LUA_HELP_N; i++) {
            const char *n = al_lua_help[i].name;
            const char *sec = strncmp(n, "std.", 4) == 0          ? "the blocking world"
                              : strncmp(n, "rt.sync", 7) == 0     ? "sync"
                              : strncmp(n, "rt.time", 7) == 0     ? "time"
                              : strncmp(n, "rt.runtime", 10) == 0 ? "runtimes"
                              : strncmp(n, "rt.viz", 6) == 0      ? "the visualizer"
                              : strncmp(n, "rt.net", 6) == 0 || strncmp(n, "Tcp", 3) == 0
                                  ? "network"
                              : strstr("rt.metrics rt.console rt.tasks rt.dump rt.lints "
                                       "rt.trace.start rt.trace.stop rt.pretty rt.help",
                                       n)
                                  ? "seeing inside"
                                  : "tasks";
            if (strcmp(sec, section) != 0) {
                lua_pushfstring(L, "\n%s\n", sec);
                luaL_addvalue(&b);
                section = sec;
            }
            char line[512];
            snprintf(line, sizeof line, "  %-46s %s\n", al_lua_help[i].usage,
                     al_lua_help[i].summary);
            luaL_addstring(&b, line);
        }
        luaL_pushresult(&b);
        return 1;
    }
    char name[128];
    if (lua_type(L, 1) == LUA_TSTRING) {
        snprintf(name, sizeof name, "%s", lua_tostring(L, 1));
    } else {
        al_lua_rt_open_all(L); /* a task state makes rt's parts on first read */
        lua_getglobal(L, "rt");
        bool found = al_lua_help_name_of(L, 1, "rt", 0, name, sizeof name);
        lua_pop(L, 1);
        if (!found) {
            lua_getglobal(L, "std");
            found = al_lua_help_name_of(L, 1, "std", 0, name, sizeof name);
            lua_pop(L, 1);
        }
        if (!found)
            return luaL_argerror(L, 1,
                                 "not an rt or std function (try a name: rt.help(\"rt.spawn\"))");
    }
    const al_lua_help_t *h = al_lua_help_find(name);
    if (!h) {
        lua_pushfstring(L, "no help for '%s'; rt.help() lists every name", name);
        return 1;
    }
    lua_pushfstring(L, "%s\n  %s\n%s%s", h->usage, h->summary, h->detail ? h->detail : "",
                    h->detail ? "\n" : "");
    return 1;
}

void al_lua_open_help(lua_State *L, int rt)
{
    lua_pushcfunction(L, al_lua_help_fn);
    lua_setfield(L, rt, "help");
}
