#include "hcr.h"

HCR_PROC(int64_t, version, (void)) { return 3; }
