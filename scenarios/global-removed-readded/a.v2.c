/* extra is gone: the reload frees it. */
#include "hcr.h"

HCR_GLOBAL(int64_t, kept, 1);

HCR_PROC(int64_t, bump, (void))
{
    *kept += 1;
    return *kept;
}
