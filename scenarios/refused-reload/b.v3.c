/* Written by hand, without hcr.h: the module ABI minus Init000, which the runtime requires. */
#include <stdint.h>

static void* (*register_proc)(const char*, const char*, void*);

static int64_t value(int64_t x) { return x + 3; }

void HcrInit000(void* handle, void* (*getProcAddr)(void*, const char*))
{
    register_proc = (void* (*)(const char*, const char*, void*))getProcAddr(handle, "hcrRegisterProc");
}

void DatInit000(void) { register_proc("b", "value", (void*)value); }

const char* const* HcrGetImportedModules(void)
{
    static const char* const none[] = {""};
    return none;
}

const char* HcrGetSigHash(void) { return "b.v3"; }
