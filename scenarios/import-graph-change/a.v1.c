#include "hcr.h"

HCR_IMPORTS("c");

HCR_IMPORT_PROC(c, int64_t, bump, (void));

HCR_PROC(int64_t, via_c, (void)) { return 100 + c_bump(); }
