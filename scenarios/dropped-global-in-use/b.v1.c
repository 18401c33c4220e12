/* Reads and writes a's global g through the address it resolved; NULL once g is gone. */
#include "hcr.h"

HCR_IMPORTS("a");

HCR_IMPORT_GLOBAL(a, int64_t, g);

HCR_PROC(int64_t, use, (int64_t add))
{
    if (a_g == NULL)
        return -1;
    *a_g += add;
    return *a_g;
}
