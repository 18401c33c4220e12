/* The initializer changes (10 -> 1000) and so does bump; the global keeps the value it has. */
#include "hcr.h"

HCR_GLOBAL(int64_t, counter, 1000);

HCR_PROC(int64_t, bump, (void))
{
    *counter += 100;
    return *counter;
}
