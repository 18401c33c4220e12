/* The base case now reports itself and answers 2 for "even". */
#include "hcr.h"

HCR_IMPORTS("b");

HCR_IMPORT_PROC(b, int64_t, is_odd, (int64_t n));

HCR_PROC(int64_t, is_even, (int64_t n))
{
    if (n == 0)
    {
        printf("a.v2 is_even(0)\n");
        return 2;
    }
    return b_is_odd(n - 1);
}
