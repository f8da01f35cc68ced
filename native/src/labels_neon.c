/*
 * labels_neon.c — ROMix for aarch64 NEON: 4 labels per uint32x4_t, lane = label, one register set
 * (labels_lanes.h with the operations of labels_neon.h). labels_neon8.c runs two sets.
 */
#include "internal.h"
#ifdef SP_AARCH64
#include "labels_neon.h"
#define SP_SETS 1
#define SP_LANES_FN sp_labels_neon4
#include "labels_lanes.h"
#endif
