/* p and g are gone. */
#include "hcr.h"

HCR_PROC(int64_t, version, (void)) { return 2; }
