#include "hcr.h"

HCR_PROC(int64_t, version, (void)) { return HCR_VERSION; }

HCR_BEFORE_RELOAD { printf("c.v%d before, changed=%d\n", HCR_VERSION, hcrHasModuleChanged(HCR_MODULE)); }
HCR_AFTER_RELOAD { printf("c.v%d after, changed=%d\n", HCR_VERSION, hcrHasModuleChanged(HCR_MODULE)); }
