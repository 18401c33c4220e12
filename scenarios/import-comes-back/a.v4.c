/* p and g come back. */
#include "hcr.h"

HCR_GLOBAL(int64_t, g, 50);

HCR_PROC(int64_t, version, (void)) { return 4; }

HCR_PROC(int64_t, p, (int64_t x)) { return x * 3; }
