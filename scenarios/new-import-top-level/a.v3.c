/* Still imports c; adds a top-level block, which runs once, at this reload. */
#include "hcr.h"

HCR_IMPORTS("c");

HCR_PROC(int64_t, value, (void)) { return 3; }

HCR_TOP_LEVEL(hello) { printf("a.v3 top-level (never printed)\n"); }

HCR_TOP_LEVEL(added) { printf("a.v3 added top-level\n"); }
