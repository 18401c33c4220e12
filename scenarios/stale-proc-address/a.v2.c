/* removed is gone: its slot reports a bad call. */
#include "hcr.h"

HCR_PROC(int64_t, kept, (int64_t x)) { return x + 1; }
