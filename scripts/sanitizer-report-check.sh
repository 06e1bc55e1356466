#!/bin/bash
# sanitizer-report-check.sh LOG — fail if a test log contains a sanitizer report.
#
# Criterion marks a test failed when a sanitizer aborts it, but LeakSanitizer
# runs at process exit, after Criterion has already counted the test as
# passed: a leak would only be printed. This check makes any report — leak,
# address, UB or data race — fail `make test`.
#
# One exception: Criterion's runner process itself leaks a few 48-byte blocks
# (allocated straight from libcriterion, no test code on the stack). A leak is
# ignored only when every frame of its stack is in libcriterion or in the
# sanitizer's allocator; an LSan suppression cannot be that narrow (a module
# pattern would match every test too, since tests run under libcriterion).
set -euo pipefail
log=${1:?usage: sanitizer-report-check.sh LOG}

fatal='ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:'
if grep -Eq "$fatal" "$log"; then
    echo "!! sanitizer reports in $log:" >&2
    grep -En -A20 "$fatal" "$log" | head -100 >&2
    exit 1
fi

# Leak blocks: "Direct leak ..." / "Indirect leak ..." followed by "#N" frames.
real_leaks=$(awk '
    /^(Direct|Indirect) leak of/ { if (ours) n++; inblock = 1; ours = 0; head = $0; next }
    inblock && /^ *#[0-9]+ / {
        if ($0 !~ /libcriterion\.so|asan_malloc_linux|libasan\.so|liblsan\.so/) { ours = 1; print head; print }
        next
    }
    { if (inblock && ours) n++; inblock = 0; ours = 0 }
    END { if (inblock && ours) n++; exit n > 0 }
' "$log" || true)
if [ -n "$real_leaks" ]; then
    echo "!! memory leaks in $log (first frames outside Criterion):" >&2
    echo "$real_leaks" | head -60 >&2
    exit 1
fi
