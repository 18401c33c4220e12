/* A reloadable module that imports counter and calls counter.next through its slot. */
#include <stdio.h>
#include "hcrlab.h"

static void* (*registerProc)(const char*, const char*, void*);
static void* (*getProc)(const char*, const char*);
static int64_t (*next)(void);

static void greet_actual(const char* who) {
    printf("greeter: hello %s, next is %lld\n", who, (long long)next());
}

void HcrInit000(void* handle, HcrProcGetter getProcAddr) {
    registerProc = getProcAddr(handle, "hcrRegisterProc");
    getProc = getProcAddr(handle, "hcrGetProc");
}

void DatInit000(void) {
    registerProc("greeter", "greet", (void*)greet_actual);
    next = (int64_t (*)(void))getProc("counter", "next");
}

void Init000(void) {
    printf("greeter: Init000\n");
}

const char** HcrGetImportedModules(void) {
    static const char* imports[] = {"counter", ""};
    return imports;
}

const char* HcrGetSigHash(void) {
    return "greeter";
}
