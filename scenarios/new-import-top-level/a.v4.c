#include "hcr.h"

HCR_IMPORTS("c");

HCR_PROC(int64_t, value, (void)) { return 4; }

HCR_TOP_LEVEL(hello) { printf("a.v4 top-level (never printed)\n"); }

HCR_TOP_LEVEL(added) { printf("a.v4 added top-level (never printed)\n"); }
