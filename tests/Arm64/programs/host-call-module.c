/*
 * A module for `hcrtrial --start` on aarch64 (Arm64ProgramTests): its Init000 calls the host's proc "host"/"tick",
 * which in the trial is hcrtrial's host_proc_stub, with sp 16-byte aligned (-DMISALIGNED=0: the stub answers 0 and the
 * trial passes) or 8 bytes off (-DMISALIGNED=1: the stub ends the trial, verdict misaligned-host-call). The call is
 * made from assembly so that sp at the call is exactly what the case names.
 */
#include <stdint.h>

#ifndef MISALIGNED
#error "build with -DMISALIGNED=0 or 1"
#endif

typedef void* (*get_proc_address_fn)(void* handle, const char* name);
typedef void* (*get_proc_fn)(const char* module, const char* name);

static void* host_tick;

void HcrInit000(void* handle, get_proc_address_fn get_proc_address)
{
    get_proc_fn get_proc = (get_proc_fn)get_proc_address(handle, "hcrGetProc");
    host_tick = get_proc("host", "tick");
}

void DatInit000(void) { }

void Init000(void)
{
    void* target = host_tick;
    __asm__ volatile (
#if MISALIGNED
        "sub sp, sp, #8\n\t"
        "blr %0\n\t"
        "add sp, sp, #8"
#else
        "blr %0"
#endif
        : "+r"(target) : : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
          "x14", "x15", "x16", "x17", "x30", "memory");
}
