/*
 * lua_std_io.h — std.io: synchronous file I/O (Rust's std::fs), kept so that
 * pitfall A3 can be committed on purpose: called from a task, it blocks the
 * worker thread that polls it until the file is read.
 */
#ifndef LUA_STD_IO_H
#define LUA_STD_IO_H

#include <lua.h>

/* std.io (in the std table at stack index std): read_file. */
void al_lua_open_std_io(lua_State *L, int std);

#endif
