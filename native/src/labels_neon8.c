/*
 * labels_neon8.c — ROMix for aarch64 NEON with 8 labels: two sets of 4-lane registers (32 q
 * registers hold both 16-word states). In ROMix's first loop they run in lockstep, so the
 * Cortex-A72's 3-cycle vector latency on the add -> xor -> rotate chain is hidden by the other
 * set; in the second loop they are staggered, so each set's V[j] fetch (DRAM on a Pi: V is 4 MiB
 * per set at N=8192, the L2 1 MiB) arrives while the other set computes.
 */
#include "internal.h"
#ifdef SP_AARCH64
#include "labels_neon.h"
#define SP_SETS 2
#define SP_LANES_FN sp_labels_neon8
#include "labels_lanes.h"
#endif
