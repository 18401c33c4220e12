/* Imports nothing any more: b and a are unreachable. */
#include "hcr.h"

HCR_PROC(int64_t, version, (void)) { return 2; }
