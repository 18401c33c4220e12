#include "hcr.h"

HCR_PROC(int64_t, value, (int64_t x)) { return x + 4; }
