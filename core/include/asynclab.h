/*
 * asynclab.h — the asynclab runtime, a work-stealing async runtime in C11
 * built on the design of Tokio's scheduler, instrumented so that every
 * scheduling decision is an event.
 *
 * One header per concept; this one includes them all:
 *   al_error.h    error codes and messages
 *   al_future.h   futures, wakers, poll context, cooperative budget
 *   al_task.h     spawn, JoinHandle, yield
 *   al_runtime.h  building, block_on, shutdown, metrics, the event hook
 *   al_event.h    the instrumentation events
 *   al_stream.h   the recorded event stream: per-thread rings, collector, consumers
 *   al_log.h      the text logger (ASYNCLAB_LOG=trace)
 *   al_dump.h     task dumps on SIGQUIT
 *   al_tracefile.h  trace files: write the stream to disk, read it back
 *   al_flight.h     flight recorder: the last seconds / MiB in memory, saved on demand or on a hang
 *   al_console.h    the console model (tasks, resources, workers) and task dumps
 *   al_lint.h       lints: lost wakers, long polls, deadlocks, leaks, ...
 *   al_perfetto.h   Chrome Trace Event JSON export (ui.perfetto.dev)
 *   al_local_set.h  LocalSet: tasks that never leave one thread
 *   al_join_set.h   JoinSet: spawned tasks awaited as they finish
 *   al_select.h     select / join_all over sub-futures
 *   al_wait_node.h  the intrusive waiter node the sync primitives queue
 *   al_semaphore.h  Semaphore: fair FIFO batch semaphore, permits
 *   al_mutex.h      Mutex: fair async mutex (guard, try_lock, holder)
 *   al_rwlock.h     RwLock: many readers or one writer, fair
 *   al_notify.h     Notify: notify_one (stores a permit) / notify_waiters
 *   al_barrier.h    Barrier(n): reusable, one leader per generation
 *   al_std_blocking.h  the blocking world: std mutex, thread sleep, spin
 *   al_net.h        TCP listener / stream on the I/O driver (loopback)
 *   al_oneshot.h    oneshot channel: one value, sent once
 *   al_mpsc.h       mpsc channels, bounded (fair backpressure) and unbounded
 *   al_broadcast.h  broadcast channel: every receiver sees every value; lag
 *   al_watch.h      watch channel: latest value + version, changed()
 *   al_time.h       sleep, interval, timeout, the runtime clock, paused test time
 * (modules added later append their header here)
 */
#ifndef ASYNCLAB_H
#define ASYNCLAB_H

#include "al_error.h"
#include "al_event.h"
#include "al_dump.h"
#include "al_log.h"
#include "al_stream.h"
#include "al_tracefile.h"
#include "al_histogram.h"
#include "al_console.h"
#include "al_lint.h"
#include "al_flight.h"
#include "al_perfetto.h"
#include "al_future.h"
#include "al_runtime.h"
#include "al_task.h"
#include "al_local_set.h"
#include "al_join_set.h"
#include "al_select.h"
#include "al_wait_node.h"
#include "al_semaphore.h"
#include "al_mutex.h"
#include "al_rwlock.h"
#include "al_notify.h"
#include "al_barrier.h"
#include "al_std_blocking.h"
#include "al_net.h"
#include "al_oneshot.h"
#include "al_mpsc.h"
#include "al_broadcast.h"
#include "al_watch.h"
#include "al_time.h"

#define ASYNCLAB_VERSION "0.1.0"

#endif
