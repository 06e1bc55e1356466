/*
 * lua_pretty.c — rt.pretty(value [, {depth=, items=}]): values as a Lua user
 * reads them. Tables print as constructors, nested up to `depth` levels (3)
 * and `items` entries per table (20), with cycles marked; strings are quoted;
 * handles use their own description (JoinHandle #12 "health" running). The
 * REPL prints every result with it.
 */
#include <lauxlib.h>

#include "lua_pretty.h"
#include "lua_run.h"

static const char al_lua_pretty_src[] =
    "local type, tostring, pairs, next, fmt, concat, sort, math_type =\n"
    "      type, tostring, pairs, next, string.format, table.concat, table.sort, math.type\n"
    "local function is_ident(k)\n"
    "  return type(k) == 'string' and k:match('^[%a_][%w_]*$') ~= nil\n"
    "end\n"
    "local function scalar(v)\n"
    "  local t = type(v)\n"
    "  if t == 'string' then return fmt('%q', v):gsub('\\\\\\n', '\\\\n') end\n"
    "  if t == 'number' and math_type(v) == 'float' and v == math.floor(v) and v < 1e15 and v > "
    "-1e15 then\n"
    "    return fmt('%.1f', v)\n"
    "  end\n"
    "  return tostring(v)\n"
    "end\n"
    "local function key_order(a, b)\n"
    "  local ta, tb = type(a), type(b)\n"
    "  if ta ~= tb then return ta < tb end\n"
    "  if ta == 'number' or ta == 'string' then return a < b end\n"
    "  return tostring(a) < tostring(b)\n"
    "end\n"
    "local function pretty(v, depth, items, seen)\n"
    "  if type(v) ~= 'table' or getmetatable(v) and getmetatable(v).__tostring then return "
    "scalar(v) end\n"
    "  if seen[v] then return '<cycle>' end\n"
    "  if depth <= 0 then return '{...}' end\n"
    "  seen[v] = true\n"
    "  local out, n = {}, #v\n"
    "  for i = 1, n do\n"
    "    if #out >= items then out[#out + 1] = fmt('... (%d more)', n - i + 1); break end\n"
    "    out[#out + 1] = pretty(v[i], depth - 1, items, seen)\n"
    "  end\n"
    "  local keys = {}\n"
    "  for k in pairs(v) do\n"
    "    if not (math_type(k) == 'integer' and k >= 1 and k <= n) then keys[#keys + 1] = k end\n"
    "  end\n"
    "  sort(keys, key_order)\n"
    "  for i, k in ipairs(keys) do\n"
    "    if #out >= items then out[#out + 1] = fmt('... (%d more)', #keys - i + 1); break end\n"
    "    local ks = is_ident(k) and k or '[' .. pretty(k, depth - 1, items, seen) .. ']'\n"
    "    out[#out + 1] = ks .. ' = ' .. pretty(v[k], depth - 1, items, seen)\n"
    "  end\n"
    "  seen[v] = nil\n"
    "  if #out == 0 then return '{}' end\n"
    "  return '{' .. concat(out, ', ') .. '}'\n"
    "end\n"
    "return function(v, opts)\n"
    "  local depth = opts and opts.depth or 3\n"
    "  local items = opts and opts.items or 20\n"
    "  return pretty(v, depth, items, {})\n"
    "end\n";

static al_lua_chunk_t al_lua_pretty_chunk = AL_LUA_CHUNK(al_lua_pretty_src, "=rt.pretty");

void al_lua_open_pretty(lua_State *L, int rt)
{
    al_lua_load_chunk(L, &al_lua_pretty_chunk);
    lua_call(L, 0, 1);
    lua_setfield(L, rt, "pretty");
}
