/* removed comes back under the same module and name: it gets its old slot, so the stale address works again. */
#include "hcr.h"

HCR_PROC(int64_t, kept, (int64_t x)) { return x + 1; }

HCR_PROC(int64_t, fresh, (int64_t x)) { return x + 1000; }

HCR_PROC(int64_t, removed, (int64_t x)) { return x * 100; }
