#include "hcr.h"

HCR_GLOBAL(int64_t, g, 5);

HCR_PROC(int64_t, p, (int64_t x)) { return x * 2; }
