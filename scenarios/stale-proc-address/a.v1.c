#include "hcr.h"

HCR_PROC(int64_t, removed, (int64_t x)) { return x * 10; }
