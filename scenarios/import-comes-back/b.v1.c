/* Never changes: it only sees what a provides through imports re-resolved at every reload. */
#include "hcr.h"

HCR_IMPORTS("a");

HCR_IMPORT_PROC(a, int64_t, p, (int64_t x));
HCR_IMPORT_GLOBAL(a, int64_t, g);

HCR_PROC(int64_t, call_p, (int64_t x)) { return a_p != NULL ? a_p(x) : -1; }

HCR_PROC(int64_t, read_g, (void)) { return a_g != NULL ? *a_g : -1; }
