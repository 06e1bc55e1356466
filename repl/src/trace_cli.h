/*
 * trace_cli.h — `asynclab trace ...`: read, check and export recorded traces.
 *
 *   asynclab trace info FILE                 header, counts by kind, duration, drops
 *   asynclab trace log [--filter F] FILE     the events as text lines (al_log.h)
 *   asynclab trace stats [--at T] FILE       the console tables at the end (or at T s)
 *   asynclab trace lints [--set SPEC] FILE   the lint findings
 *   asynclab trace export --csv FILE OUT.csv per-task figures as CSV
 *   asynclab trace export --perfetto FILE OUT.json   (when the exporter is built)
 *
 * Exit status: 0 ok, 1 the file is damaged (events before the damage are
 * still shown), 2 usage errors.
 */
#ifndef TRACE_CLI_H
#define TRACE_CLI_H

#include <stdio.h>

int trace_cli_main(int argc, char **argv);
void trace_cli_usage(FILE *out);

#endif
