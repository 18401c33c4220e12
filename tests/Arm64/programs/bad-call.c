/* A call through the slot of a proc that a reload removed, on libhcrlab.so (tests/Arm64/Arm64NativeTests.cs runs it
   under qemu-aarch64): the slot's bad-call thunk passes the table and the slot's index to the runtime, which reports the
   call on stderr and answers 0. Run in a folder holding badcall_v1.so and badcall_v2.so (bad-call-module.c). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include "hcrlab.h"

static void host_dat_init(void) {}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Not quiet: the runtime reports each bad call on stderr. */
    HcrlabOptions options = {.size = sizeof options, .trial = HCRLAB_TRIAL_NONE, .quiet = false};
    if (hcrlabCreate(&options) != HCRLAB_OK || rename("badcall_v1.so", "badcall.so") != 0) return 1;
    void* runtime = dlopen(HCRLAB_SONAME, RTLD_NOW | RTLD_NOLOAD);
    const char* imports[] = {"badcall", ""};
    if (hcrlabInit(imports, "host", "", host_dat_init, runtime, (HcrProcGetter)dlsym) != HCRLAB_OK) {
        printf("hcrlabInit: %s\n", hcrlabLastError());
        return 1;
    }
    int64_t (*gone)(void) = (int64_t (*)(void))hcrGetProc("badcall", "gone");
    int64_t (*stay)(void) = (int64_t (*)(void))hcrGetProc("badcall", "stay");
    printf("before: gone() = %lld, stay() = %lld\n", (long long)gone(), (long long)stay());
    bool reloaded = false;
    if (rename("badcall_v2.so", "badcall.so") != 0 || hcrlabReload(&reloaded) != HCRLAB_OK) {
        printf("reload: %s\n", hcrlabLastError());
        return 1;
    }
    printf("reloaded %s: gone() = %lld, stay() = %lld\n", reloaded ? "yes" : "no", (long long)gone(), (long long)stay());
    printf("again: gone() = %lld\n", (long long)gone());
    return 0;
}
