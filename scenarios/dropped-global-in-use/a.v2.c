/* g is dropped; b, unchanged, still holds its address. */
#include "hcr.h"

HCR_PROC(int64_t, version, (void)) { return 2; }
