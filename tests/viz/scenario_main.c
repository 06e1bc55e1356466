/*
 * scenario_main.c — records the visualizer's scenarios for the replay
 * command's tests and the documentation's screenshots:
 *
 *   viz_scenario OUT.trace [SLEEP_MS]   the silent hang (viz_test_scenario.h;
 *                                       default 400 ms)
 *   viz_scenario --deadlock OUT.trace   a lock-order deadlock (viz_test_deadlock.h)
 *   viz_scenario --steal OUT.trace      a steal in flight (viz_test_deadlock.h)
 */
#include <stdlib.h>
#include <string.h>

#include "viz_test_deadlock.h"

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--deadlock") == 0)
        return viz_deadlock_record(argv[2]) == 0 ? 0 : 1;
    if (argc == 3 && strcmp(argv[1], "--steal") == 0)
        return viz_steal_record(argv[2]) == 0 ? 0 : 1;
    if (argc < 2 || argc > 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: viz_scenario OUT.trace [SLEEP_MS] | --deadlock OUT.trace | "
                        "--steal OUT.trace\n");
        return 2;
    }
    int ms = argc == 3 ? atoi(argv[2]) : 400;
    if (ms < 1 || ms > 10000) {
        fprintf(stderr, "viz_scenario: SLEEP_MS between 1 and 10000\n");
        return 2;
    }
    return viz_scenario_record(argv[1], (uint32_t)ms) == 0 ? 0 : 1;
}
