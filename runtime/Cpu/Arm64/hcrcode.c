/*
 * hcr_code_written: what the runtime's arm64 slot writer calls after it changed instructions (a `B imm26` slot
 * re-pointed, a new slot written), before it publishes the change to other threads. Linked into the arm64 libhcrguard
 * (HcrLab.Runtime.csproj), beside the fault guard: one C half per CPU, one library.
 *
 * 1. Cache maintenance over exactly the changed range: __builtin___clear_cache, which on aarch64 is DC CVAU over the
 *    data-cache lines, DSB ISH, IC IVAU over the instruction-cache lines, DSB ISH, ISB (libgcc's __aarch64_sync_cache_
 *    range, with line sizes from CTR_EL0). A literal re-point changes data only and needs none of this.
 * 2. An emulator quirk, applied only where it is seen: qemu-user (7.2) keys its translations by the guest's virtual
 *    address and notices writes only through that address, so code written through the W^X double mapping's writable
 *    view keeps running as it was translated (1, 1, 1 instead of 1, 2, 3; see double-mapping-experiment.c). Re-mapping
 *    the executable view's pages over themselves (MAP_FIXED, same memfd, same offset, read+execute) makes qemu drop the
 *    translations of those pages. MAP_FIXED replaces the pages in one step, so another thread running a slot there
 *    never meets a page that is missing or not executable (an mprotect read-only and back would open such a window).
 *
 * How the quirk is detected: by running it once. The first call maps a page of its own twice from a memfd, runs
 * `mov w0, #1; ret` through the executable view, writes `mov w0, #2; ret` through the writable view with the cache
 * maintenance above, and runs it again: 1 means stale translations. This tests the very property the workaround is
 * for, so it needs no list of emulators and versions. Naming qemu does not work as well: qemu-user 7.2 passes the
 * host's /proc/cpuinfo through (an x86 "vendor_id" seen by an aarch64 process), but newer qemu versions fake an arm64
 * one; /proc/self/auxv holds what qemu chose to emulate (AT_HWCAP of its CPU model, AT_PLATFORM "aarch64"), nothing
 * that names it; binfmt_misc starts a program under qemu without any environment variable; and a future qemu that
 * fixes the quirk would still be named qemu and pay for a re-map per write. On real hardware the probe answers 2 and
 * the writer pays nothing more than the cache maintenance.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#if !defined(__aarch64__)
#error "hcrcode.c is the arm64 slot writer's C half (x86-64 needs no cache maintenance: its instruction fetch is coherent)"
#endif

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int stale_translations;

/* mov w0, #value (MOVZ, 32-bit: 0x52800000 | imm16 << 5 | Rd) followed by ret (0xd65f03c0). */
static void write_return(uint32_t* code, uint32_t value)
{
    code[0] = 0x52800000u | (value << 5);
    code[1] = 0xd65f03c0u;
}

static void probe(void)
{
    long page = sysconf(_SC_PAGESIZE);
    int fd = memfd_create("hcrcode-probe", MFD_CLOEXEC);
    if (fd < 0) return;
    void* writable = MAP_FAILED;
    void* executable = MAP_FAILED;
    if (ftruncate(fd, page) == 0) {
        writable = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        executable = mmap(NULL, (size_t)page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    }
    if (writable != MAP_FAILED && executable != MAP_FAILED) {
        int (*run)(void) = (int (*)(void))executable;
        char* end = (char*)executable + 8;
        write_return(writable, 1);
        __builtin___clear_cache((char*)executable, end);
        int first = run();
        write_return(writable, 2);
        __builtin___clear_cache((char*)executable, end);
        int second = run();
        stale_translations = first == 1 && second == 1;
    }
    if (writable != MAP_FAILED) munmap(writable, (size_t)page);
    if (executable != MAP_FAILED) munmap(executable, (size_t)page);
    close(fd);
}

/* 1 when code written through a second mapping is not seen by the executable one after cache maintenance (qemu-user). */
EXPORT int hcr_code_stale_translations(void)
{
    pthread_once(&probe_once, probe);
    return stale_translations;
}

/*
 * Instructions at [code, code + length) of an executable view changed. view and fd say where that view comes from:
 * the memfd fd is mapped at view from offset 0 (ExecutableMemory's layout), or fd is -1 for code written through its
 * own mapping, which needs the cache maintenance only. Returns 0, or an errno value when the re-map failed.
 */
EXPORT int hcr_code_written(void* view, int fd, void* code, size_t length)
{
    if (length == 0) return 0;
    __builtin___clear_cache((char*)code, (char*)code + length);
    if (fd < 0 || !hcr_code_stale_translations()) return 0;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)code & ~(page - 1);
    uintptr_t last = ((uintptr_t)code + length + page - 1) & ~(page - 1);
    if (first < (uintptr_t)view) return EINVAL;
    void* mapped = mmap((void*)first, last - first, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd,
                        (off_t)(first - (uintptr_t)view));
    return mapped == MAP_FAILED ? errno : 0;
}
