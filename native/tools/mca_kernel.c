/*
 * mca_kernel.c — one ChaCha20/8 core call of a label implementation, as an out-of-line function
 * for llvm-mca (native/tools/mca.py). Includes the product file named by MCA_SOURCE, so the code
 * measured is exactly the shipped kernel (labels_lanes.h's sp_chacha8 with that file's operations).
 * MCA_SETS = 2 measures the two-set lockstep core (sp_chacha8_2) of a file built with SP_SETS 2.
 * Compiled to assembly only (-S); never linked.
 */
#include MCA_SOURCE

#ifndef MCA_SETS
#define MCA_SETS 1
#endif
#define MCA_CAT2(a, b) a##_##b
#define MCA_CAT(a, b) MCA_CAT2(a, b)

void mca_core(vec1 x[MCA_SETS][16]);
void mca_core(vec1 x[MCA_SETS][16]) { MCA_CAT(sp_chacha8, MCA_SETS)(x); }
