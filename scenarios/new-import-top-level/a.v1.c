#include "hcr.h"

HCR_PROC(int64_t, value, (void)) { return 1; }

HCR_TOP_LEVEL(hello) { printf("a.v1 top-level\n"); }
