/* Every step through b now reports itself. */
#include "hcr.h"

HCR_IMPORTS("a");

HCR_IMPORT_PROC(a, int64_t, is_even, (int64_t n));

HCR_PROC(int64_t, is_odd, (int64_t n))
{
    printf("b.v2 is_odd(%ld)\n", (long)n);
    return n == 0 ? 0 : a_is_even(n - 1);
}
