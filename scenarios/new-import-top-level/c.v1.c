#include "hcr.h"

HCR_GLOBAL(int64_t, loads, 0);

HCR_TOP_LEVEL(hello)
{
    *loads += 1;
    printf("c.v1 top-level, loads=%ld\n", (long)*loads);
}
