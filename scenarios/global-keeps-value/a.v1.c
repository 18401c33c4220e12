#include "hcr.h"

HCR_GLOBAL(int64_t, counter, 10);

HCR_PROC(int64_t, bump, (void))
{
    *counter += 1;
    return *counter;
}
