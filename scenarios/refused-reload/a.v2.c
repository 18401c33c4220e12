#include "hcr.h"

HCR_IMPORTS("b");

HCR_IMPORT_PROC(b, int64_t, value, (int64_t x));

HCR_PROC(int64_t, value, (int64_t x)) { return 2000 + b_value(x); }

HCR_BEFORE_RELOAD { printf("a.v%d before\n", HCR_VERSION); }
HCR_AFTER_RELOAD { printf("a.v%d after\n", HCR_VERSION); }
