/* hcrhostrun: runs jump slots on this machine's own CPU for `hcrlab verify --on host|both` (lab/Host/HostCpu.cs).
 * Built by the lab's project: on x86-64 natively (amd64) and with -m32 (i386, needs the 32-bit C library); on arm64
 * natively (arm64 slots).
 * Protocol, one line each way: the lab writes "SLOT SLOTHEX TARGET STUBHEX" (hex addresses, hex bytes); the helper maps
 * the slot's and the stub's pages at exactly those addresses (MAP_FIXED_NOREPLACE: never over its own memory), writes
 * the bytes, calls the slot with every register the slot must keep set to a sentinel, and answers
 *   "ran RESULT CLOBBERED" (RESULT hex; CLOBBERED a comma-separated list of changed registers or "-"),
 *   "fault SIGNAL PC" (the slot or what it jumped to faulted), or "skip REASON" (a page cannot be mapped there).
 * A fault is caught by a signal handler on its own stack and unwound with siglongjmp; a loop is ended by alarm(). The
 * lab also kills this process's group if it stops answering. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#if defined(__x86_64__)
#define NREGS 14
static const char *const names[NREGS] = {"rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
#define SENTINEL(i) (UINT64_C(0x5EED000000000100) + (uint64_t)(i) * 0x0101)
typedef uint64_t reg_t;
/* hcr_call(slot, out): sentinels in every register a slot must keep, call the slot, store them back to out. */
__asm__(".text\n.globl hcr_call\nhcr_call:\n"
        "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\npush %rsi\n"
        "mov %rdi, %rax\n"
        "movabs $0x5EED000000000100, %rbx\nmovabs $0x5EED000000000201, %rcx\nmovabs $0x5EED000000000302, %rdx\n"
        "movabs $0x5EED000000000403, %rsi\nmovabs $0x5EED000000000504, %rdi\nmovabs $0x5EED000000000605, %rbp\n"
        "movabs $0x5EED000000000706, %r8\nmovabs $0x5EED000000000807, %r9\nmovabs $0x5EED000000000908, %r10\n"
        "movabs $0x5EED000000000A09, %r11\nmovabs $0x5EED000000000B0A, %r12\nmovabs $0x5EED000000000C0B, %r13\n"
        "movabs $0x5EED000000000D0C, %r14\nmovabs $0x5EED000000000E0D, %r15\n"
        "call *%rax\n"
        "xchg (%rsp), %rax\n"
        "mov %rbx, 0(%rax)\nmov %rcx, 8(%rax)\nmov %rdx, 16(%rax)\nmov %rsi, 24(%rax)\nmov %rdi, 32(%rax)\nmov %rbp, 40(%rax)\n"
        "mov %r8, 48(%rax)\nmov %r9, 56(%rax)\nmov %r10, 64(%rax)\nmov %r11, 72(%rax)\nmov %r12, 80(%rax)\nmov %r13, 88(%rax)\n"
        "mov %r14, 96(%rax)\nmov %r15, 104(%rax)\n"
        "pop %rax\npop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n");
#elif defined(__i386__)
#define NREGS 6
static const char *const names[NREGS] = {"ebx", "ecx", "edx", "esi", "edi", "ebp"};
#define SENTINEL(i) (UINT32_C(0x5EED0100) + (uint32_t)(i) * 0x0101)
typedef uint32_t reg_t;
__asm__(".text\n.globl hcr_call\nhcr_call:\n"
        "push %ebx\npush %esi\npush %edi\npush %ebp\n"
        "mov 20(%esp), %eax\npush 24(%esp)\n"
        "mov $0x5EED0100, %ebx\nmov $0x5EED0201, %ecx\nmov $0x5EED0302, %edx\n"
        "mov $0x5EED0403, %esi\nmov $0x5EED0504, %edi\nmov $0x5EED0605, %ebp\n"
        "call *%eax\n"
        "xchg (%esp), %eax\n"
        "mov %ebx, 0(%eax)\nmov %ecx, 4(%eax)\nmov %edx, 8(%eax)\nmov %esi, 12(%eax)\nmov %edi, 16(%eax)\nmov %ebp, 20(%eax)\n"
        "pop %eax\npop %ebp\npop %edi\npop %esi\npop %ebx\nret\n");
#elif defined(__aarch64__)
#define NREGS 27
static const char *const names[NREGS] = {"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29"};
#define SENTINEL(i) (UINT64_C(0x5EED000000000100) + (uint64_t)(i) * 0x0101)
typedef uint64_t reg_t;
/* hcr_call(slot, out): as on x86; x16 and x17 are the ABI's intra-procedure-call scratch registers, so x16 carries the
   slot's address and neither is checked. */
__asm__(".text\n.globl hcr_call\nhcr_call:\n"
        "stp x29, x30, [sp, #-112]!\nstp x19, x20, [sp, #16]\nstp x21, x22, [sp, #32]\nstp x23, x24, [sp, #48]\n"
        "stp x25, x26, [sp, #64]\nstp x27, x28, [sp, #80]\nstr x1, [sp, #96]\nmov x16, x0\n"
        "ldr x1, =0x5eed000000000100\nldr x2, =0x5eed000000000201\nldr x3, =0x5eed000000000302\n"
        "ldr x4, =0x5eed000000000403\nldr x5, =0x5eed000000000504\nldr x6, =0x5eed000000000605\n"
        "ldr x7, =0x5eed000000000706\nldr x8, =0x5eed000000000807\nldr x9, =0x5eed000000000908\n"
        "ldr x10, =0x5eed000000000a09\nldr x11, =0x5eed000000000b0a\nldr x12, =0x5eed000000000c0b\n"
        "ldr x13, =0x5eed000000000d0c\nldr x14, =0x5eed000000000e0d\nldr x15, =0x5eed000000000f0e\n"
        "ldr x18, =0x5eed00000000100f\nldr x19, =0x5eed000000001110\nldr x20, =0x5eed000000001211\n"
        "ldr x21, =0x5eed000000001312\nldr x22, =0x5eed000000001413\nldr x23, =0x5eed000000001514\n"
        "ldr x24, =0x5eed000000001615\nldr x25, =0x5eed000000001716\nldr x26, =0x5eed000000001817\n"
        "ldr x27, =0x5eed000000001918\nldr x28, =0x5eed000000001a19\nldr x29, =0x5eed000000001b1a\n"
        "blr x16\nstr x0, [sp, #104]\nldr x0, [sp, #96]\n"
        "str x1, [x0, #0]\nstr x2, [x0, #8]\nstr x3, [x0, #16]\nstr x4, [x0, #24]\n"
        "str x5, [x0, #32]\nstr x6, [x0, #40]\nstr x7, [x0, #48]\nstr x8, [x0, #56]\n"
        "str x9, [x0, #64]\nstr x10, [x0, #72]\nstr x11, [x0, #80]\nstr x12, [x0, #88]\n"
        "str x13, [x0, #96]\nstr x14, [x0, #104]\nstr x15, [x0, #112]\nstr x18, [x0, #120]\n"
        "str x19, [x0, #128]\nstr x20, [x0, #136]\nstr x21, [x0, #144]\nstr x22, [x0, #152]\n"
        "str x23, [x0, #160]\nstr x24, [x0, #168]\nstr x25, [x0, #176]\nstr x26, [x0, #184]\n"
        "str x27, [x0, #192]\nstr x28, [x0, #200]\nstr x29, [x0, #208]\n"
        "ldr x0, [sp, #104]\nldp x19, x20, [sp, #16]\nldp x21, x22, [sp, #32]\nldp x23, x24, [sp, #48]\n"
        "ldp x25, x26, [sp, #64]\nldp x27, x28, [sp, #80]\nldp x29, x30, [sp], #112\nret\n.ltorg\n");
#else
#error "hcrhostrun runs amd64, i386 and arm64 slots on those hosts only"
#endif

extern reg_t hcr_call(void *slot, reg_t *out);

static sigjmp_buf escape;
static volatile sig_atomic_t last_signal;
static volatile uintptr_t last_pc;

static void on_signal(int sig, siginfo_t *info, void *context) {
    (void)info;
    last_signal = sig;
#if defined(__x86_64__)
    last_pc = (uintptr_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
    last_pc = (uintptr_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_EIP];
#else
    last_pc = (uintptr_t)((ucontext_t *)context)->uc_mcontext.pc;
#endif
    siglongjmp(escape, 1);
}

#define MAXPAGES 16
static uintptr_t pages[MAXPAGES];
static int npages;

/* Maps the pages under [address, address + length) that this case has not mapped yet; 0, or -1 with errno. */
static int map_range(uint64_t address, size_t length, char *why, size_t whylen) {
    long page = sysconf(_SC_PAGESIZE);
    uint64_t first = address & ~(uint64_t)(page - 1), last = (address + length - 1) & ~(uint64_t)(page - 1);
    if (address + length - 1 < address || last > (uint64_t)UINTPTR_MAX) {
        snprintf(why, whylen, "0x%" PRIx64 " is beyond this process's address space", address);
        return -1;
    }
    for (uint64_t p = first;; p += (uint64_t)page) {
        int have = 0;
        for (int i = 0; i < npages; i++) have |= pages[i] == (uintptr_t)p;
        if (!have) {
            void *got = npages == MAXPAGES ? MAP_FAILED
                : mmap((void *)(uintptr_t)p, (size_t)page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (got == MAP_FAILED || got != (void *)(uintptr_t)p) {
                if (got != MAP_FAILED) munmap(got, (size_t)page);
                snprintf(why, whylen, "cannot map the page at 0x%" PRIx64 ": %s", p, got == MAP_FAILED ? strerror(errno) : "placed elsewhere");
                return -1;
            }
            pages[npages++] = (uintptr_t)p;
        }
        if (p == last) return 0;
    }
}

static int unhex(const char *hex, unsigned char *out, size_t max) {
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > max) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return (int)(n / 2);
}

int main(void) {
    static char altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    int guarded[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGALRM};
    for (size_t i = 0; i < sizeof guarded / sizeof guarded[0]; i++) sigaction(guarded[i], &sa, NULL);

    printf("hcrhostrun 1\n");
    fflush(stdout);
    char line[512], slothex[200], stubhex[100], why[200];
    uint64_t slot, target;
    while (fgets(line, sizeof line, stdin)) {
        unsigned char code[96], stub[48];
        int ncode, nstub;
        if (sscanf(line, "%" SCNx64 " %199s %" SCNx64 " %99s", &slot, slothex, &target, stubhex) != 4
            || (ncode = unhex(slothex, code, sizeof code)) <= 0 || (nstub = unhex(stubhex, stub, sizeof stub)) <= 0) {
            printf("skip malformed request\n");
            fflush(stdout);
            continue;
        }
        npages = 0;
        if (map_range(target, (size_t)nstub, why, sizeof why) == 0 && map_range(slot, (size_t)ncode, why, sizeof why) == 0) {
            memcpy((void *)(uintptr_t)target, stub, (size_t)nstub);
            memcpy((void *)(uintptr_t)slot, code, (size_t)ncode);
            /* No-ops on x86; on arm64 the instruction cache must see the new code. */
            __builtin___clear_cache((char *)(uintptr_t)target, (char *)(uintptr_t)target + nstub);
            __builtin___clear_cache((char *)(uintptr_t)slot, (char *)(uintptr_t)slot + ncode);
            reg_t out[NREGS];
            if (sigsetjmp(escape, 1) == 0) {
                alarm(1);
                reg_t result = hcr_call((void *)(uintptr_t)slot, out);
                alarm(0);
                printf("ran %" PRIx64 " ", (uint64_t)result & 0xFFFFFFFFu);
                int any = 0;
                for (int i = 0; i < NREGS; i++) {
                    if (out[i] != (reg_t)SENTINEL(i)) printf("%s%s", any++ ? "," : "", names[i]);
                }
                printf("%s\n", any ? "" : "-");
            } else {
                alarm(0);
                printf("fault %s %" PRIxPTR "\n", last_signal == SIGALRM ? "timeout" : sigabbrev_np(last_signal), (uintptr_t)last_pc);
            }
        } else {
            printf("skip %s\n", why);
        }
        for (int i = 0; i < npages; i++) munmap((void *)pages[i], (size_t)sysconf(_SC_PAGESIZE));
        fflush(stdout);
    }
    return 0;
}
