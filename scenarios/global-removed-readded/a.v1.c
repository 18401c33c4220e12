#include "hcr.h"

HCR_GLOBAL(int64_t, kept, 1);
HCR_GLOBAL(int64_t, extra, 5);

HCR_PROC(int64_t, bump, (void))
{
    *kept += 1;
    *extra += 1;
    return *extra;
}
