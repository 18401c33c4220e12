/* Two handlers of each kind: a module's handlers run in the order it registered them. */
#include "hcr.h"

HCR_IMPORTS("b");

HCR_PROC(int64_t, version, (void)) { return HCR_VERSION; }

HCR_BEFORE_RELOAD { printf("a.v%d before 1, changed=%d\n", HCR_VERSION, hcrHasModuleChanged(HCR_MODULE)); }
HCR_BEFORE_RELOAD { printf("a.v%d before 2\n", HCR_VERSION); }
HCR_AFTER_RELOAD { printf("a.v%d after 1, changed=%d\n", HCR_VERSION, hcrHasModuleChanged(HCR_MODULE)); }
HCR_AFTER_RELOAD { printf("a.v%d after 2\n", HCR_VERSION); }
