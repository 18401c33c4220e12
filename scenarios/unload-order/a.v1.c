#include "hcr.h"

HCR_PROC(int64_t, value, (void)) { return 1; }

__attribute__((destructor)) static void unloaded(void) { printf("a unloaded\n"); }
