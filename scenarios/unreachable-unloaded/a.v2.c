/* a drops its import of b: nothing reaches b any more. */
#include "hcr.h"

HCR_PROC(int64_t, version, (void)) { return 2; }
