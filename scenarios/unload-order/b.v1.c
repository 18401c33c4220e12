/* Imports a: unloaded before a, so its destructors run while a is still loaded. */
#include "hcr.h"

HCR_IMPORTS("a");

HCR_IMPORT_PROC(a, int64_t, value, (void));

HCR_PROC(int64_t, value, (void)) { return a_value() + 1; }

__attribute__((destructor)) static void unloaded(void) { printf("b unloaded\n"); }
