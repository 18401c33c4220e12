/* Globals of every integer size, each next to others in the heap, and one that is no integer. */
#include "hcr.h"

struct pair
{
    int64_t x, y;
};

HCR_GLOBAL(char, c, -1);
HCR_GLOBAL(int16_t, s, -300);
HCR_GLOBAL(int32_t, i, -7);
HCR_GLOBAL(int64_t, l, 0x123456789);
HCR_GLOBAL(struct pair, p, {1, 2});

HCR_PROC(int64_t, set_c, (int64_t v)) { *c = (char)v; return *c; }
