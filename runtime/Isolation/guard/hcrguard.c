/*
 * libhcrguard: runs a call into module code so that a hardware fault in it (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP)
 * returns to the caller with the signal, its si_code, the fault address and the faulting PC, instead of ending the
 * process. Built by HcrLab.Runtime.csproj as libhcrguard.so (loaded by the .NET runtime's P/Invoke) and libhcrguard.a
 * (linked into the NativeAOT library); the managed half is runtime/Isolation/FaultGuard.cs.
 *
 * A fault is contained only when all of these hold; otherwise the handler that was installed before ours runs (the
 * .NET runtime's, which turns faults in managed code into NullReferenceException and handles stack overflow, or the
 * default action, which ends the process):
 *   - the faulting thread is inside hcr_guard_call and that call is armed (the runtime's C ABI entry points disarm it
 *     while they run, with hcr_guard_set_armed, so no longjmp crosses their managed frames);
 *   - the kernel raised the signal for an instruction (si_code > 0), it was not sent with kill() or raise();
 *   - the faulting PC is not managed code: it is outside every mapping, in a mapping that is not executable, or in an
 *     executable mapping of an ELF file other than this object and the .NET runtime's own libraries. JIT-compiled
 *     code (anonymous or memfd mappings) and ReadyToRun code (PE files) are managed, so a fault in a .NET callback
 *     that module code called still reaches the .NET runtime.
 * Per-thread state is a block of the guard's own (the armed flags and jump buffers of the calls in progress, allocated
 * on a thread's first guarded call) reached through two initial-exec TLS variables, so the handler never allocates,
 * and module code that writes over its stack cannot disarm the guard. The handler uses only async-signal-safe calls
 * (open, read, close, sigaction, raise).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/*
 * ---- what differs by CPU: the faulting PC in the signal context, and the state module code may leave changed ----
 * FP_CONTROL_SAVE(c) keeps the floating-point control state before module code runs; FP_CONTROL_RESTORE(c) puts it
 * back (after a normal return and after a contained fault), and AFTER_MODULE_CODE(c) does the same while telling the
 * compiler that every callee-saved register is clobbered, so that hcr_guard_call saves them all on entry, restores
 * them on return and reloads what it needs from its stack: code that runs wild may return with any of them changed
 * (the fuzz found a module returning with another r14).
 */
#if defined(__x86_64__)
typedef struct fp_control { uint32_t mxcsr; uint16_t x87_control; } fp_control;
/* The SSE and x87 control words; the direction flag is cleared as the SysV ABI requires at a call and return. */
#define FP_CONTROL_SAVE(c) __asm__ volatile ("stmxcsr %0\n\tfnstcw %1" : "=m"((c).mxcsr), "=m"((c).x87_control))
#define FP_CONTROL_RESTORE(c) __asm__ volatile ("cld\n\tldmxcsr %0\n\tfldcw %1" : : "m"((c).mxcsr), "m"((c).x87_control))
#define AFTER_MODULE_CODE(c) \
    __asm__ volatile ("cld\n\tldmxcsr %0\n\tfldcw %1" : : "m"((c).mxcsr), "m"((c).x87_control) \
                      : "rbx", "rbp", "r12", "r13", "r14", "r15", "memory")
static uint64_t fault_pc(const ucontext_t* context) { return (uint64_t)context->uc_mcontext.gregs[REG_RIP]; }
#elif defined(__aarch64__)
/* FPCR (rounding, flush-to-zero, default NaN, trap enables) is the only control state AAPCS64 asks callees to keep. */
typedef struct fp_control { uint64_t fpcr; } fp_control;
#define FP_CONTROL_SAVE(c) __asm__ volatile ("mrs %0, fpcr" : "=r"((c).fpcr))
#define FP_CONTROL_RESTORE(c) __asm__ volatile ("msr fpcr, %0" : : "r"((c).fpcr))
/* x19-x29 and d8-d15 are AAPCS64's callee-saved registers (of v8-v15 only the low 64 bits, which d8-d15 name). */
#define AFTER_MODULE_CODE(c) \
    __asm__ volatile ("msr fpcr, %0" : : "r"((c).fpcr) \
                      : "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", \
                        "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15", "memory")
/* The kernel's sigcontext holds the PC as a field of its own (the fault address is si_addr, as on every CPU). */
static uint64_t fault_pc(const ucontext_t* context) { return (uint64_t)context->uc_mcontext.pc; }
#else
#error "hcrguard: no fault-context decoding for this CPU (x86-64 and aarch64 are the ones it knows)"
#endif

/* What a guarded call reports: the layout FaultGuard.cs mirrors (GuardFrame); keep both in step. */
typedef struct hcr_guard_frame {
    int32_t probe;             /* 1: a read of our own (hcr_guard_strnlen), contained wherever it faults */
    int32_t signal;            /* the fault, filled in when the call returns */
    int32_t code;
    int32_t reserved;
    uint64_t address;
    uint64_t pc;
} hcr_guard_frame;

/*
 * The guarded calls a thread is inside, innermost last, in memory of the guard's own: never on a stack, where module
 * code that runs wild can reach it (a flipped stack offset in a mutated module once wrote 0 over an "armed" flag kept
 * in its caller's frame, and the fault that followed ended the process).
 */
typedef struct hcr_guard_state {
    volatile int32_t armed;    /* 1 while module code runs under this call */
    int32_t probe;
    int32_t signal;
    int32_t code;
    uint64_t address;
    uint64_t pc;
    sigjmp_buf jump;
} hcr_guard_state;

#define GUARD_DEPTH 16

static const int guarded_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };

static __thread hcr_guard_state* thread_states __attribute__((tls_model("initial-exec")));
static __thread int32_t thread_depth __attribute__((tls_model("initial-exec")));
static pthread_key_t states_key;
static pthread_once_t states_once = PTHREAD_ONCE_INIT;

static void make_states_key(void) { pthread_key_create(&states_key, free); }

/* This thread's states, allocated on its first guarded call (never in the handler), freed when it ends. */
static hcr_guard_state* states(void)
{
    if (thread_states == NULL) {
        pthread_once(&states_once, make_states_key);
        thread_states = calloc(GUARD_DEPTH, sizeof *thread_states);
        if (thread_states != NULL) pthread_setspecific(states_key, thread_states);
    }

    return thread_states;
}
static struct sigaction previous[NSIG];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_error;
static char own_path[PATH_MAX];
static char excluded_directory[PATH_MAX];

/* ---- is the faulting PC managed code? (reads /proc/self/maps: async-signal-safe, only on a fault) ---------------- */

static int starts_with(const char* text, const char* prefix) { return strncmp(text, prefix, strlen(prefix)) == 0; }

static uint64_t parse_hex(const char** cursor)
{
    uint64_t value = 0;
    for (;; (*cursor)++) {
        char c = **cursor;
        if (c >= '0' && c <= '9') value = value * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') value = value * 16 + (uint64_t)(c - 'a' + 10);
        else return value;
    }
}

static int is_elf_file(const char* path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    unsigned char magic[4] = {0};
    ssize_t n = read(fd, magic, sizeof magic);
    close(fd);
    return n == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

/* One line of /proc/self/maps: "start-end perms offset dev inode   path". 1 contain, 0 chain, -1 not this line. */
static int judge_line(char* line, uint64_t pc)
{
    const char* cursor = line;
    uint64_t start = parse_hex(&cursor);
    if (*cursor++ != '-') return -1;
    uint64_t end = parse_hex(&cursor);
    if (pc < start || pc >= end) return -1;
    if (*cursor++ != ' ') return 0;
    int executable = strlen(cursor) >= 4 && cursor[2] == 'x';
    if (!executable) return 1;   /* an instruction fetch from data: no managed code runs there */
    for (int field = 0; field < 4 && *cursor; field++) {   /* perms, offset, dev, inode */
        while (*cursor && *cursor != ' ') cursor++;
        while (*cursor == ' ') cursor++;
    }
    char* path = (char*)cursor;
    if (path[0] != '/' || starts_with(path, "/memfd:")) return 0;   /* anonymous or memfd: JIT-compiled code */
    size_t length = strlen(path);
    const char* deleted = " (deleted)";
    if (length > strlen(deleted) && strcmp(path + length - strlen(deleted), deleted) == 0) path[length - strlen(deleted)] = 0;
    if (strcmp(path, own_path) == 0) return 0;   /* this object: in the NativeAOT library, managed code */
    if (excluded_directory[0] && starts_with(path, excluded_directory)) return 0;   /* the .NET runtime's libraries */
    return is_elf_file(path);   /* an ELF image is native code; a PE file (ReadyToRun) is managed */
}

static int pc_is_native_code(uint64_t pc)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buffer[2048];
    size_t filled = 0;
    int verdict = -1;
    for (;;) {
        ssize_t n = read(fd, buffer + filled, sizeof buffer - 1 - filled);
        if (n <= 0) break;
        filled += (size_t)n;
        buffer[filled] = 0;
        char* line = buffer;
        char* newline;
        while ((newline = strchr(line, '\n')) != NULL) {
            *newline = 0;
            verdict = judge_line(line, pc);
            if (verdict >= 0) break;
            line = newline + 1;
        }

        if (verdict >= 0) break;
        filled = strlen(line);
        if (filled == sizeof buffer - 1) filled = 0;   /* a line longer than the buffer: not a mapping we judge */
        memmove(buffer, line, filled);
    }

    close(fd);
    return verdict < 0 ? 1 : verdict;   /* outside every mapping: a jump into nothing, never managed code */
}

/* ---- the handler ------------------------------------------------------------------------------------------------ */

static void chain(int signal_number, siginfo_t* info, void* context)
{
    struct sigaction* old = &previous[signal_number];
    if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN) {
        /* The default action. A fault re-executes its instruction when the handler returns and ends the process then
           (an ignored fault would loop forever, so it gets the default too); a sent signal is raised again and is
           delivered, unblocked, when this handler returns. */
        struct sigaction fallback;
        memset(&fallback, 0, sizeof fallback);
        fallback.sa_handler = SIG_DFL;
        sigaction(signal_number, &fallback, NULL);
        if (info->si_code <= 0) raise(signal_number);
        return;
    }

    if (old->sa_flags & SA_SIGINFO) old->sa_sigaction(signal_number, info, context);
    else old->sa_handler(signal_number);
}

static void on_fault(int signal_number, siginfo_t* info, void* context)
{
    int32_t depth = thread_depth;
    hcr_guard_state* state = depth > 0 && thread_states != NULL ? &thread_states[depth - 1] : NULL;
    uint64_t pc = fault_pc((const ucontext_t*)context);
    if (state != NULL && state->armed && info->si_code > 0 && (state->probe || pc_is_native_code(pc))) {
        state->armed = 0;
        state->signal = signal_number;
        state->code = info->si_code;
        state->address = (uint64_t)(uintptr_t)info->si_addr;
        state->pc = pc;
        siglongjmp(state->jump, 1);
    }

    chain(signal_number, info, context);
}

static void install(void)
{
    Dl_info self;
    if (dladdr((void*)&on_fault, &self) && self.dli_fname != NULL && realpath(self.dli_fname, own_path) == NULL) own_path[0] = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof guarded_signals / sizeof guarded_signals[0]; i++) {
        int signal_number = guarded_signals[i];
        /* Read the previous handler first: ours must never run before it knows where to chain. */
        if (sigaction(signal_number, NULL, &previous[signal_number]) != 0 || sigaction(signal_number, &action, NULL) != 0) {
            install_error = signal_number;
            return;
        }
    }
}

/* ---- the API ---------------------------------------------------------------------------------------------------- */

/* Installs the handlers once per process, chaining to whatever is installed now. runtime_directory: a directory whose
   libraries are the .NET runtime's (a fault there is managed code's), or NULL. Returns 0, or the signal whose
   handler could not be installed. */
EXPORT int hcr_guard_install(const char* runtime_directory)
{
    if (runtime_directory != NULL && excluded_directory[0] == 0 && strlen(runtime_directory) < sizeof excluded_directory)
        strcpy(excluded_directory, runtime_directory);
    pthread_once(&install_once, install);
    return install_error;
}

/* Calls fn(a0, a1) (a function of up to two pointer arguments; on x86-64 and aarch64 a function of fewer ignores the rest) with
   the frame armed. Returns 0 and stores the return register in *result (when result is not NULL), or the number of
   the signal that was contained (frame holds the details). */
EXPORT int hcr_guard_call(hcr_guard_frame* frame, void* fn, void* a0, void* a1, void** result)
{
    hcr_guard_state* all = states();
    int32_t depth = thread_depth;
    if (all == NULL || depth >= GUARD_DEPTH) {
        /* No memory for the state, or guarded calls nested deeper than anything the runtime makes: unguarded. */
        void* value = ((void* (*)(void*, void*))fn)(a0, a1);
        if (result != NULL) *result = value;
        return 0;
    }

    hcr_guard_state* state = &all[depth];
    fp_control control;
    FP_CONTROL_SAVE(control);
    state->armed = 0;
    state->probe = frame->probe;
    state->signal = 0;
    state->code = 0;
    state->address = 0;
    state->pc = 0;
    if (sigsetjmp(state->jump, 1) != 0) {
        FP_CONTROL_RESTORE(control);
        thread_depth = depth;
        frame->signal = state->signal;
        frame->code = state->code;
        frame->address = state->address;
        frame->pc = state->pc;
        return state->signal;
    }

    thread_depth = depth + 1;
    state->armed = 1;
    void* value = ((void* (*)(void*, void*))fn)(a0, a1);
    /* Code that runs wild may return with callee-saved registers or the floating-point control state changed. */
    AFTER_MODULE_CODE(control);
    state->armed = 0;
    thread_depth = depth;
    frame->signal = 0;
    if (result != NULL) *result = value;
    return 0;
}

/* The runtime's C ABI entry points: armed 0 disarms the innermost guarded call of this thread while they run, 1 arms
   it again. Returns whether it was armed (0 when the thread is inside none). */
EXPORT int32_t hcr_guard_set_armed(int32_t armed)
{
    int32_t depth = thread_depth;
    if (depth <= 0 || thread_states == NULL) return 0;
    hcr_guard_state* state = &thread_states[depth - 1];
    int32_t was = state->armed;
    state->armed = armed;
    return was;
}

/* Probes: an access to memory a module named (a string it passed, an output pointer), contained wherever it faults. */
static int probe(void* fn, void* a0, void* a1, void** result)
{
    hcr_guard_frame frame;
    memset(&frame, 0, sizeof frame);
    frame.probe = 1;
    return hcr_guard_call(&frame, fn, a0, a1, result);
}

/* The length of the C string at text, at most max: 0 with *length, or the signal a read of it raised. */
EXPORT int hcr_guard_strnlen(const char* text, size_t max, size_t* length)
{
    void* value = NULL;
    int signal_number = probe((void*)&strnlen, (void*)text, (void*)max, &value);
    *length = (size_t)(uintptr_t)value;
    return signal_number;
}

static void* store_pointer(void* where, void* value)
{
    *(void* volatile*)where = value;
    return NULL;
}

/* *where = value: 0, or the signal the write raised. */
EXPORT int hcr_guard_store_pointer(void** where, void* value)
{
    return probe((void*)&store_pointer, (void*)where, value, NULL);
}

/* An address inside this object, for dladdr: which file holds the guard (the trial loader hcrtrial sits beside it). */
EXPORT void* hcr_guard_self(void) { return (void*)&hcr_guard_self; }

/*
 * Stack-realigning shims for the runtime's C ABI (hcr_guard_realigned). The SysV ABI has a caller keep the stack
 * 16-byte aligned at a call, and the .NET runtime's entry stubs rely on it (aligned SSE stores); module code that broke
 * the rule (a flipped bit in a stack adjustment) would end the process inside .NET, where no guard may act. Each shim
 * realigns the stack (force_align_arg_pointer) and calls its target with the six integer argument registers passed
 * through: every C ABI function takes at most six integer or pointer arguments and returns in rax.
 *
 * x86-64 only. On x86-64 nothing checks rsp: `call` pushes 8 bytes, code may move rsp by any amount, and a stack 8 bytes
 * off runs on silently until the first aligned SSE store, which is in .NET's stub. On aarch64 a call pushes nothing
 * (the return address is in x30), and the hardware checks sp itself: Linux enables the SP alignment check for user
 * space (SCTLR_EL1.SA0), so any load or store based on an sp that is not 16-byte aligned raises SIGBUS. Module code
 * whose sp is off therefore faults at its own next frame store (its prologue's `stp x29, x30, [sp, #-16]!`, or the
 * spill before its call), inside module code, where the guard contains it; it cannot carry a misaligned stack into
 * .NET without touching the stack first. There hcr_guard_realigned hands back the target itself, so the runtime's C
 * ABI code stays the same for both CPUs. (qemu-user does not emulate the SP alignment check: this is proven on real
 * arm64 hardware only.)
 */
#define ABI_SHIMS 16

#if defined(__x86_64__)
typedef uint64_t (*abi_function)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static abi_function abi_targets[ABI_SHIMS];

#define ABI_SHIM(i)                                                                                         \
    __attribute__((force_align_arg_pointer, noinline)) static uint64_t abi_shim_##i(                     \
        uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f)                           \
    {                                                                                                       \
        return abi_targets[i](a, b, c, d, e, f);                                                            \
    }
ABI_SHIM(0) ABI_SHIM(1) ABI_SHIM(2) ABI_SHIM(3) ABI_SHIM(4) ABI_SHIM(5) ABI_SHIM(6) ABI_SHIM(7)
ABI_SHIM(8) ABI_SHIM(9) ABI_SHIM(10) ABI_SHIM(11) ABI_SHIM(12) ABI_SHIM(13) ABI_SHIM(14) ABI_SHIM(15)

static abi_function const abi_shims[ABI_SHIMS] = {
    abi_shim_0, abi_shim_1, abi_shim_2, abi_shim_3, abi_shim_4, abi_shim_5, abi_shim_6, abi_shim_7,
    abi_shim_8, abi_shim_9, abi_shim_10, abi_shim_11, abi_shim_12, abi_shim_13, abi_shim_14, abi_shim_15,
};

#endif

/* Shim number index now calls target; returns the shim's address (on aarch64 the target itself), or NULL for an index
 * out of range. Set each index once, before the shim is handed out. */
EXPORT void* hcr_guard_realigned(int32_t index, void* target)
{
    if (index < 0 || index >= ABI_SHIMS || target == NULL) {
        return NULL;
    }

#if defined(__x86_64__)
    __atomic_store_n(&abi_targets[index], (abi_function)target, __ATOMIC_RELEASE);
    return (void*)abi_shims[index];
#else
    return target;   /* no shim: see above */
#endif
}
