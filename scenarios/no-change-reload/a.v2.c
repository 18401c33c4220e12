#include "hcr.h"

HCR_PROC(int64_t, value, (void)) { return 2; }

HCR_BEFORE_RELOAD { printf("a.v%d before\n", HCR_VERSION); }
HCR_AFTER_RELOAD { printf("a.v%d after\n", HCR_VERSION); }
