#include "hcr.h"

HCR_PROC(int64_t, alone, (void)) { return 1; }
