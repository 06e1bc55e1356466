/*
 * fuzz_trace_read.c — libFuzzer target for the trace reader (issue 3: "the
 * fuzzed reader survives its corpus"). Build and run with `make fuzz`.
 *
 * Every input is read at once, in chunks of sizes drawn from the input, and
 * written back and read again; the consumer checks the stream contract and the
 * results must agree (tests/core/al_test_tracecheck.h says exactly what is
 * checked). A violation prints what broke and aborts, which libFuzzer reports
 * as a crash and saves as an artifact; so do ASan and UBSan reports.
 *
 * Reproduce a finding: build/fuzz/fuzz_trace_read path/to/crash-file
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "al_test_tracecheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_result_t res;
    const char *why = tc_check_bytes(data, size, &res);
    if (why) {
        fprintf(stderr, "fuzz_trace_read: %s (read code %d: %s)\n", why, res.code, res.err.message);
        abort();
    }
    return 0;
}
