/* A new proc: it must take a never-used slot, not the one b's callback still holds. */
#include "hcr.h"

HCR_PROC(int64_t, kept, (int64_t x)) { return x + 1; }

HCR_PROC(int64_t, fresh, (int64_t x)) { return x + 1000; }
