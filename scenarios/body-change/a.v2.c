/* Version 2: only the body changes: value(x) = x + 2. */
#include "hcr.h"

HCR_PROC(int64_t, value, (int64_t x))
{
    printf("a.v%d value(%ld)\n", HCR_VERSION, (long)x);
    return x + 2;
}
