/* A module whose VERSION 1 has procs "gone" (returns 7) and "stay" (returns 1); VERSION 2 has "stay" only (returns 2),
   so a reload to it releases gone's slot to its bad-call thunk. For bad-call.c. */
#include "hcrlab.h"

static void* (*registerProc)(const char*, const char*, void*);

#if VERSION == 1
static int64_t gone(void) { return 7; }
#endif
static int64_t stay(void) { return VERSION; }

void HcrInit000(void* handle, HcrProcGetter getProcAddr) { registerProc = getProcAddr(handle, "hcrRegisterProc"); }

void DatInit000(void)
{
#if VERSION == 1
    registerProc("badcall", "gone", (void*)gone);
#endif
    registerProc("badcall", "stay", (void*)stay);
}

void Init000(void) {}

const char** HcrGetImportedModules(void)
{
    static const char* imports[] = {""};
    return imports;
}

const char* HcrGetSigHash(void) { return VERSION == 1 ? "badcall-v1" : "badcall-v2"; }
