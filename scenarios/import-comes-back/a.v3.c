/* Still gone: b's imports re-resolve to NULL at this reload. */
#include "hcr.h"

HCR_PROC(int64_t, version, (void)) { return 3; }
