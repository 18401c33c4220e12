#include "hcr.h"

HCR_IMPORTS("b");

HCR_PROC(int64_t, version, (void)) { return 1; }
