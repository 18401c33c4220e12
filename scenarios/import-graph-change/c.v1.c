#include "hcr.h"

HCR_GLOBAL(int64_t, counter, 0);

HCR_PROC(int64_t, bump, (void)) { return ++*counter; }

HCR_TOP_LEVEL(hello) { printf("c.v1 top-level\n"); }
