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
 * (modules added later append their header here)
 */
#ifndef ASYNCLAB_H
#define ASYNCLAB_H

#include "al_error.h"
#include "al_event.h"
#include "al_future.h"
#include "al_runtime.h"
#include "al_task.h"

#define ASYNCLAB_VERSION "0.1.0"

#endif
