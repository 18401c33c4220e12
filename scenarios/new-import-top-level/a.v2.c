/* Now imports c: c is new, so its top-level code runs; a's own block is not new and does not run again. */
#include "hcr.h"

HCR_IMPORTS("c");

HCR_PROC(int64_t, value, (void)) { return 2; }

HCR_TOP_LEVEL(hello) { printf("a.v2 top-level (never printed: the block is not new)\n"); }
