/* Calls a.removed through its slot; b is not rebuilt when a drops removed, so it keeps calling that slot. */
#include "hcr.h"

HCR_IMPORTS("a");

HCR_IMPORT_PROC(a, int64_t, removed, (int64_t x));

HCR_PROC(int64_t, use_removed, (int64_t x)) { return a_removed(x); }
