/* removed is gone: its slot reports a bad call instead of jumping into the unloaded v1. */
#include "hcr.h"

HCR_PROC(int64_t, kept, (int64_t x)) { return x + 2; }
