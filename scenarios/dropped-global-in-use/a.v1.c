#include "hcr.h"

HCR_GLOBAL(int64_t, g, 7);

HCR_PROC(int64_t, version, (void)) { return 1; }
