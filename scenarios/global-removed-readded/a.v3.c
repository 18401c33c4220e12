/* extra is back with a new initializer: it is new again, so the initializer runs. */
#include "hcr.h"

HCR_GLOBAL(int64_t, kept, 1);
HCR_GLOBAL(int64_t, extra, 50);

HCR_PROC(int64_t, bump, (void))
{
    *kept += 1;
    *extra += 1;
    return *extra;
}

HCR_TOP_LEVEL(report) { printf("a.v3 extra=%ld when first seen\n", (long)*extra); }
