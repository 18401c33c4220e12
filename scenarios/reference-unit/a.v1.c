/*
 * The reference's unit scenario, through the C ABI itself: one global registered twice, one proc registered three
 * times (every address returned follows the newest target), lookup by name.
 */
#include "hcr.h"

HCR_SIG_HASH("reference-unit a v1");

HCR_PROC(int64_t, declared, (void)) { return 4; }

static int64_t first(void) { return 1; }
static int64_t second(void) { return 2; }
static int64_t third(void) { return 3; }

HCR_TOP_LEVEL(unit)
{
    void* block1 = NULL;
    void* block2 = NULL;
    bool new1 = hcrRegisterGlobal(HCR_MODULE, "g", sizeof(int64_t), NULL, &block1);
    *(int64_t*)block1 = 7;
    bool new2 = hcrRegisterGlobal(HCR_MODULE, "g", sizeof(int64_t), NULL, &block2);
    printf("global g: new=%d, again: new=%d, same block=%d, value=%ld\n", new1, new2, block1 == block2, (long)*(int64_t*)block2);

    int64_t (*p1)(void) = (int64_t (*)(void))hcrRegisterProc(HCR_MODULE, "p", (void*)first);
    printf("p registered once: p1()=%ld\n", (long)p1());
    int64_t (*p2)(void) = (int64_t (*)(void))hcrRegisterProc(HCR_MODULE, "p", (void*)second);
    printf("p registered twice: p1()=%ld p2()=%ld\n", (long)p1(), (long)p2());
    int64_t (*p3)(void) = (int64_t (*)(void))hcrRegisterProc(HCR_MODULE, "p", (void*)third);
    printf("p registered three times: p1()=%ld p2()=%ld p3()=%ld\n", (long)p1(), (long)p2(), (long)p3());
    printf("one slot: %s\n", p1 == p2 && p2 == p3 ? "yes" : "no");

    printf("hcrGetProc(p) is that slot: %s\n", hcrGetProc(HCR_MODULE, "p") == (void*)p3 ? "yes" : "no");
    printf("hcrGetGlobal(g) is that block: %s\n", hcrGetGlobal(HCR_MODULE, "g") == block1 ? "yes" : "no");
    printf("hcrGetProc(unknown) is NULL: %s\n", hcrGetProc(HCR_MODULE, "unknown") == NULL ? "yes" : "no");

    /* What hcr.h declared: HCR_PROC's slot, and the signature hash the runtime indexes the module by. */
    printf("HCR_SLOT(declared) is hcrGetProc(declared): %s\n", HCR_SLOT(declared) == hcrGetProc(HCR_MODULE, "declared") ? "yes" : "no");
    printf("hcrHasModuleChanged(signature hash): %d\n", hcrHasModuleChanged("reference-unit a v1"));
}
