/*
 * al_tracefile.h — trace files: the event stream written to disk, and read
 * back into the same consumer interface (al_stream.h). The byte format is
 * documented in docs/trace-format.md.
 *
 * Writing: a writer is a consumer; subscribe it to a live stream. It writes
 * whole records and flushes after every batch, so another process can read
 * the file while it grows (al_tracefile_reader_t).
 *
 *   al_tracefile_writer_t *w;
 *   al_tracefile_writer_open("run.trace", &w);
 *   al_stream_subscribe(st, &al_tracefile_writer_consumer, w);
 *   ...  al_stream_stop(st);  al_tracefile_writer_close(w);
 *
 * Reading: al_tracefile_read_file / _read_mem feed a consumer. Damaged input
 * never crashes the reader: every event before the damage is delivered, then
 * the call returns AL_ETRUNCATED (the input ends inside a record),
 * AL_EFORMAT (bytes that are not a valid record) or AL_EVERSION (a newer
 * format), with the byte offset and a message in the error struct. on_end is
 * called only when the end record was read.
 */
#ifndef AL_TRACEFILE_H
#define AL_TRACEFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "al_stream.h"

/* 2: the lesson-hook event kinds CAPTION, HIGHLIGHT, MARKER (42..44). A
 * reader reads every version up to this one. */
#define AL_TRACEFILE_VERSION 2

/* ---- writing ---- */

typedef struct al_tracefile_writer al_tracefile_writer_t;

/* Errors: AL_EINVAL, AL_ENOMEM, or a negated errno from fopen. */
int al_tracefile_writer_open(const char *path, al_tracefile_writer_t **out);
/* Write to a stream the caller owns (not closed by _close). */
int al_tracefile_writer_open_file(FILE *f, al_tracefile_writer_t **out);
extern const al_stream_consumer_t al_tracefile_writer_consumer;
/* Bytes and events written so far. */
void al_tracefile_writer_counts(const al_tracefile_writer_t *w, uint64_t *bytes, uint64_t *events);
/* Close (writing the end record if on_end did not). 0, or the first write
 * error (a negated errno) met while writing. */
int al_tracefile_writer_close(al_tracefile_writer_t *w);

/* ---- reading ---- */

typedef struct al_tracefile_error {
    int code;          /* 0, AL_ETRUNCATED, AL_EFORMAT, AL_EVERSION, or a negated errno */
    uint64_t offset;   /* byte offset of the damage */
    char message[160]; /* e.g. "byte 1234: unknown record type 0x9f" */
} al_tracefile_error_t;

int al_tracefile_read_mem(const void *buf, size_t len, const al_stream_consumer_t *c, void *self,
                          al_tracefile_error_t *err);
int al_tracefile_read_file(const char *path, const al_stream_consumer_t *c, void *self,
                           al_tracefile_error_t *err);

/* Incremental reading, for a file still being written: feed bytes as they
 * arrive; complete records are delivered at once, a partial one waits for
 * more. _finish says the input is complete (a partial record is then
 * AL_ETRUNCATED). After an error, feeding returns the same error. */
typedef struct al_tracefile_reader al_tracefile_reader_t;
int al_tracefile_reader_new(const al_stream_consumer_t *c, void *self, al_tracefile_reader_t **out);
int al_tracefile_reader_feed(al_tracefile_reader_t *r, const void *buf, size_t len,
                             al_tracefile_error_t *err);
int al_tracefile_reader_finish(al_tracefile_reader_t *r, al_tracefile_error_t *err);
/* True once the end record was read. */
int al_tracefile_reader_ended(const al_tracefile_reader_t *r);
void al_tracefile_reader_free(al_tracefile_reader_t *r);

#endif
