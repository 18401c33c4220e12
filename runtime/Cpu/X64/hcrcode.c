/*
 * hcr_code_written on x86-64: nothing to do. x86 keeps instruction fetch coherent with stores, from any mapping of the
 * same physical memory (Intel SDM Vol. 3A, 11.6 "Self-Modifying Code": a write to a code line in the cache or in flight
 * invalidates it, checked by physical address), and qemu is not involved. The jump table calls the function only where
 * HostCpu's encoder facts say changed instructions need cache maintenance (arm64, Cpu/Arm64/hcrcode.c); this half exists
 * so that the one P/Invoke links on both CPUs (libhcrlab.so links libhcrguard.a statically, DirectPInvoke).
 */
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

#if !defined(__x86_64__)
#error "Cpu/X64/hcrcode.c is the x86-64 half; arm64 builds Cpu/Arm64/hcrcode.c"
#endif

EXPORT int hcr_code_stale_translations(void) { return 0; }

EXPORT int hcr_code_written(void* view, int fd, void* code, size_t length)
{
    (void)view;
    (void)fd;
    (void)code;
    (void)length;
    return 0;
}
