/*
 * scenario_main.c — records the silent-hang scenario (viz_test_scenario.h)
 * for the replay command's tests and the documentation's screenshot:
 *
 *   viz_scenario OUT.trace [SLEEP_MS]      (default 400 ms)
 */
#include <stdlib.h>

#include "viz_test_scenario.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: viz_scenario OUT.trace [SLEEP_MS]\n");
        return 2;
    }
    int ms = argc == 3 ? atoi(argv[2]) : 400;
    if (ms < 1 || ms > 10000) {
        fprintf(stderr, "viz_scenario: SLEEP_MS between 1 and 10000\n");
        return 2;
    }
    return viz_scenario_record(argv[1], (uint32_t)ms) == 0 ? 0 : 1;
}
