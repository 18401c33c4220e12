/* b now imports c. */
#include "hcr.h"

HCR_IMPORTS("c");

HCR_IMPORT_PROC(c, int64_t, bump, (void));

HCR_IMPORT_GLOBAL(c, int64_t, counter);

HCR_PROC(int64_t, via_c, (void)) { return 200 + c_bump(); }

HCR_PROC(int64_t, read_c, (void)) { return *c_counter; }
