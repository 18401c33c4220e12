/* A reloadable module: proc counter.next counts in the global counter.count. COUNTER_VERSION 1 adds 1, version 2
   adds 10; the count survives the reload. Its handlers say which code runs them; version 2's after-handler is a
   closure with an environment. Version 3 refuses its own init (hcrFailInit), so a reload to it is undone. Built three
   times by ../build.sh: counter_v1.so, counter_v2.so and counter_v3.so. */
#include <stdio.h>
#include "hcrlab.h"

#define TEXT(x) #x
#define VERSION_TEXT(x) TEXT(x)

static void* (*registerProc)(const char*, const char*, void*);
static bool (*registerGlobal)(const char*, const char*, size_t, void (*)(void), void**);
static void (*addEventHandler)(bool, HcrClosure);
static bool (*hasModuleChanged)(const char*);
static void (*failInit)(const char*);
static int64_t* count;

static int64_t next_actual(void) {
    *count += COUNTER_VERSION == 1 ? 1 : 10;
    return *count;
}

static void before_reload(void) {
    printf("counter v%d: before reload, count %lld\n", COUNTER_VERSION, (long long)*count);
}

#if COUNTER_VERSION == 1
static void after_reload(void) {
    printf("counter v1: after reload\n");
}
#else
static void after_reload(void* env) {
    printf("counter v2: after reload, env \"%s\", changed %s\n", (const char*)env,
           hasModuleChanged("counter") ? "yes" : "no");
}
#endif

void HcrInit000(void* handle, HcrProcGetter getProcAddr) {
    registerProc = getProcAddr(handle, "hcrRegisterProc");
    registerGlobal = getProcAddr(handle, "hcrRegisterGlobal");
    addEventHandler = getProcAddr(handle, "hcrAddEventHandler");
    hasModuleChanged = getProcAddr(handle, "hcrlabHasModuleChanged");
    failInit = getProcAddr(handle, "hcrFailInit");
}

void DatInit000(void) {
    registerProc("counter", "next", (void*)next_actual);
}

void Init000(void) {
#if COUNTER_VERSION == 3
    failInit("counter v3 needs counter.conf, which is missing");
    return;
#endif
    if (registerGlobal("counter", "count", sizeof *count, NULL, (void**)&count)) {
        *count = 0;
        printf("counter v%d: count is new\n", COUNTER_VERSION);
    }
    addEventHandler(true, (HcrClosure){before_reload, NULL});
#if COUNTER_VERSION == 1
    addEventHandler(false, (HcrClosure){after_reload, NULL});
#else
    static char env[] = "kept by the closure";
    addEventHandler(false, (HcrClosure){(void (*)(void))after_reload, env});
#endif
}

const char** HcrGetImportedModules(void) {
    static const char* imports[] = {""};
    return imports;
}

const char* HcrGetSigHash(void) {
    return "counter-v" VERSION_TEXT(COUNTER_VERSION);
}
