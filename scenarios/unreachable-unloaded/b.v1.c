#include "hcr.h"

HCR_GLOBAL(int64_t, counter, 100);

HCR_PROC(int64_t, bump, (void)) { return ++*counter; }

HCR_TOP_LEVEL(hello) { printf("b.v1 top-level, counter=%ld\n", (long)*counter); }

HCR_BEFORE_RELOAD { printf("b.v1 before\n"); }
HCR_AFTER_RELOAD { printf("b.v1 after\n"); }
