/* is_even and b's is_odd call each other through their slots: a imports b and b imports a. */
#include "hcr.h"

HCR_IMPORTS("b");

HCR_IMPORT_PROC(b, int64_t, is_odd, (int64_t n));

HCR_PROC(int64_t, is_even, (int64_t n)) { return n == 0 ? 1 : b_is_odd(n - 1); }
