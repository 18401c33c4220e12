/*
 * hcrtrial: runs module code in a process of its own before the host does (HcrRuntimeOptions.Trial,
 * runtime/Isolation/TrialLoad.cs and runtime/Isolation/TrialStart.cs), so that code that would end the host's process ends this one, and
 * the host refuses the module instead. Built by HcrLab.Runtime.csproj next to libhcrguard.
 *
 * hcrtrial LIBRARY   The trial load: loads one library (its ELF constructors run), then runs its destructors.
 * hcrtrial --start   The trial start: reads a plan on standard input, loads every module it names in the order given,
 *                    runs the start's passes (HcrInit000 and HcrCreateTypeInfos of each, the system module's DatInit000
 *                    and Init000, DatInit000 of the others, Init000 of the others; for a reload, the after handlers),
 *                    then runs their destructors in reverse order. The C ABI the modules call here is a stand-in: procs and
 *                    globals in tables of this process, the host's procs as stubs that answer 0 (and end the trial
 *                    when called with a misaligned stack), the host's globals as zeroed blocks of their sizes.
 *
 * The plan: NUL-terminated fields, records one after the other:
 *   "generation" N | "max-global" N | "reload" | "system" NAME | "host-proc" MODULE NAME
 *   | "host-global" MODULE NAME SIZE | "module" NAME PATH NEW(0|1)
 * Before each step it writes "hcrtrial: at STEP MODULE" to standard output (unbuffered), so the host can say where a
 * trial that died was.
 *
 * Calls into module code (init functions, handlers, destructors: the trial runs these itself, in dlclose's order, and
 * ends without dlclose) go through checked_call, which makes a return with the stack pointer off, or with a
 * callee-saved register changed, end the trial.
 *
 * Exit 0: everything ran. Exit 2: dlopen refused a library (its dlerror on stderr), which the host's own
 * dlopen will report if it refuses it too. Exit 3: the modules' code refused itself (hcrFailInit, a call the runtime
 * would refuse), which the host's own start will report. Exit 4: module code called a host proc with a misaligned
 * stack. Exit 5: module code returned with its stack pointer off. Exit 6: module code returned with a callee-saved
 * register changed. Exit 64: usage or a bad plan. Anything else (a signal, the loader's exit 127) is the modules' doing. Each of
 * these exits first writes "hcrtrial: verdict WORD" (passed, left-to-host, refused-itself, misaligned-host-call, stack-off, registers-changed) as
 * the last line on standard output: module code that calls exit() itself writes none, and the host refuses it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_LEFT_TO_HOST = 2, EXIT_REFUSED_ITSELF = 3, EXIT_MISALIGNED = 4, EXIT_STACK_OFF = 5, EXIT_REGISTERS_CHANGED = 6, EXIT_USAGE = 64 };

/* ---- output that survives a crash: straight to the file descriptor ------------------------------------------- */

static void say(int fd, const char* a, const char* b, const char* c)
{
    const char* parts[] = { "hcrtrial: ", a, b, c, "\n" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t left = parts[i] == NULL ? 0 : strlen(parts[i]);
        const char* at = parts[i];
        while (left > 0) {
            ssize_t wrote = write(fd, at, left);
            if (wrote <= 0) return;
            at += wrote;
            left -= (size_t)wrote;
        }
    }
}

/* The last line before one of this program's own exits. */
static void verdict(const char* word)
{
    fflush(NULL); /* what module code printed comes before it */
    say(STDOUT_FILENO, "verdict ", word, NULL);
}

/* "hcrtrial: at STEP MODULE": the step one word (load, HcrInit000, ..., after-handler, unload), the module as named. */
static void at(const char* step, const char* module)
{
    say(STDOUT_FILENO, "at ", step, module);
}

static __attribute__((noreturn)) void refused(const char* what, const char* detail)
{
    say(STDERR_FILENO, "refused: ", what, detail);
    verdict("refused-itself");
    _exit(EXIT_REFUSED_ITSELF);
}

/* ---- symbols: (module, name) -> address, in one open-addressing table per kind -------------------------------- */

typedef struct entry {
    char* key; /* module, NUL, name, NUL */
    size_t key_length;
    void* address;
    size_t size;
} entry;

typedef struct table {
    entry* entries;
    size_t capacity;
    size_t count;
} table;

static table procs, globals;

static uint64_t hash(const char* key, size_t length)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < length; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    return h;
}

static entry* slot(table* t, const char* key, size_t length)
{
    size_t i = hash(key, length) & (t->capacity - 1);
    while (t->entries[i].key != NULL
           && !(t->entries[i].key_length == length && memcmp(t->entries[i].key, key, length) == 0))
        i = (i + 1) & (t->capacity - 1);
    return &t->entries[i];
}

static void grow(table* t)
{
    table bigger = { calloc(t->capacity == 0 ? 64 : 2 * t->capacity, sizeof(entry)), t->capacity == 0 ? 64 : 2 * t->capacity, t->count };
    if (bigger.entries == NULL) {
        say(STDERR_FILENO, "out of memory", NULL, NULL);
        _exit(EXIT_USAGE);
    }
    for (size_t i = 0; i < t->capacity; i++)
        if (t->entries[i].key != NULL) *slot(&bigger, t->entries[i].key, t->entries[i].key_length) = t->entries[i];
    free(t->entries);
    *t = bigger;
}

/* The entry of (module, name), added empty when add is set; NULL when absent. The strings are read here, so a wild
   pointer from module code faults in this process, which is what the trial is for. */
static entry* find(table* t, const char* module, const char* name, bool add)
{
    size_t m = strlen(module), n = strlen(name);
    char* key = malloc(m + n + 2);
    if (key == NULL) _exit(EXIT_USAGE);
    memcpy(key, module, m + 1);
    memcpy(key + m + 1, name, n + 1);
    if (add && (t->capacity == 0 || 2 * (t->count + 1) > t->capacity)) grow(t);
    if (t->capacity == 0) {
        free(key);
        return NULL;
    }
    entry* e = slot(t, key, m + n + 2);
    if (e->key != NULL || !add) {
        free(key);
        return e->key != NULL ? e : NULL;
    }
    e->key = key;
    e->key_length = m + n + 2;
    t->count++;
    return e;
}

/* ---- the host's procs and calls into module code: per CPU ---------------------------------------------------------

   host_proc_stub: what the trial gives module code for a proc of the host. It answers 0, and ends the trial when the
   call reached it on a stack that breaks the ABI's 16-byte alignment at a call.

   checked_call(fn, a0, a1): calls fn(a0, a1) with the callee-saved registers set to a non-canonical address and
   copies of stack_trap's address on the stack above the frame it hands over (65 on x86-64, 66 on aarch64), checks
   that those registers (and on aarch64 the stack pointer itself) come back unchanged (the ABI makes them the callee's to preserve; the loader relies on it when it
   calls destructors), then puts everything back. Code that keeps the ABI never sees the difference. Code whose stack
   pointer is off when it returns (a flipped bit in a stack adjustment, a push or pop too many) returns through a trap
   slot, or with a poisoned register, or with another stack pointer, and ends the trial here whatever the stack held: in
   the host the same slots hold other values, and what might happen to work in this process by luck would end the
   host. One thread: the stack pointer to come back to is a static. */
static void* checked_sp __attribute__((used));

/* Called by the stub, on a realigned stack, when a call reached it with the stack misaligned. */
static __attribute__((noreturn, used)) void misaligned_host_call(void)
{
    say(STDERR_FILENO, "module code called a host proc with a misaligned stack (the ABI's 16-byte alignment at the call)", NULL, NULL);
    verdict("misaligned-host-call");
    _exit(EXIT_MISALIGNED);
}

#if defined(__x86_64__)
#define CALLEE_SAVED "rbx, rbp, r12-r15"
/* At entry a correct call leaves rsp = 16n + 8 (the return address on an aligned stack). Trap slots: the return
   address is on the stack, so a `ret` with rsp off pops one of them. */
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".type host_proc_stub, @function\n"
    "host_proc_stub:\n"
    "    mov %rsp, %rax\n"
    "    and $15, %eax\n"
    "    cmp $8, %eax\n"
    "    jne 1f\n"
    "    xor %eax, %eax\n"
    "    xor %edx, %edx\n"
    "    ret\n"
    "1:  and $-16, %rsp\n"
    "    call misaligned_host_call\n"
    ".size host_proc_stub, .-host_proc_stub\n"
    "\n"
    ".p2align 4\n"
    ".type checked_call, @function\n"
    "checked_call:\n"
    "    push %rbp\n"
    "    push %rbx\n"
    "    push %r12\n"
    "    push %r13\n"
    "    push %r14\n"
    "    push %r15\n"
    "    mov %rsp, checked_sp(%rip)\n"
    "    lea stack_trap(%rip), %r11\n"
    "    mov $65, %ecx\n"                  /* 65 slots: the call below leaves the callee's stack as the ABI says */
    "1:  push %r11\n"
    "    dec %ecx\n"
    "    jnz 1b\n"
    "    mov %rdi, %rax\n"
    "    mov %rsi, %rdi\n"
    "    mov %rdx, %rsi\n"
    "    movabs $0xdead00000000dead, %rbx\n"
    "    mov %rbx, %rbp\n"
    "    mov %rbx, %r12\n"
    "    mov %rbx, %r13\n"
    "    mov %rbx, %r14\n"
    "    mov %rbx, %r15\n"
    "    call *%rax\n"
    "    movabs $0xdead00000000dead, %r11\n"
    "    cmp %r11, %rbx\n"
    "    jne 2f\n"
    "    cmp %r11, %rbp\n"
    "    jne 2f\n"
    "    cmp %r11, %r12\n"
    "    jne 2f\n"
    "    cmp %r11, %r13\n"
    "    jne 2f\n"
    "    cmp %r11, %r14\n"
    "    jne 2f\n"
    "    cmp %r11, %r15\n"
    "    jne 2f\n"
    "    mov checked_sp(%rip), %rsp\n"
    "    pop %r15\n"
    "    pop %r14\n"
    "    pop %r13\n"
    "    pop %r12\n"
    "    pop %rbx\n"
    "    pop %rbp\n"
    "    ret\n"
    "2:  and $-16, %rsp\n"
    "    call registers_changed\n"
    ".size checked_call, .-checked_call\n"
    ".p2align 4\n"
    ".type stack_trap, @function\n"
    "stack_trap:\n"
    "    and $-16, %rsp\n"
    "    call stack_off\n"
    ".size stack_trap, .-stack_trap\n");
#elif defined(__aarch64__)
#define CALLEE_SAVED "x19-x29, d8-d15"
/* AAPCS64: sp is 16-byte aligned at every call (a call pushes nothing: the return address is in x30). Trap slots: a
   callee reloads x30 from its frame record, so one that finds its frame at the wrong sp loads a trap address and
   returns into stack_trap; one that returns with sp off by a whole frame is caught by the sp compare. The sp check
   comes after the register checks, and every exit realigns sp first (`and` may write sp). x18 (the platform
   register) and v16-v31 are not the callee's to keep, nor the upper halves of v8-v15. */
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".type host_proc_stub, %function\n"
    "host_proc_stub:\n"
    "    mov x9, sp\n"
    "    tst x9, #15\n"
    "    b.ne 1f\n"
    "    mov x0, #0\n"
    "    mov x1, #0\n"
    "    ret\n"
    "1:  and sp, x9, #-16\n"
    "    bl misaligned_host_call\n"
    ".size host_proc_stub, .-host_proc_stub\n"
    "\n"
    ".p2align 4\n"
    ".type checked_call, %function\n"
    "checked_call:\n"
    "    stp x29, x30, [sp, #-16]!\n"
    "    mov x29, sp\n"
    "    stp x19, x20, [sp, #-16]!\n"
    "    stp x21, x22, [sp, #-16]!\n"
    "    stp x23, x24, [sp, #-16]!\n"
    "    stp x25, x26, [sp, #-16]!\n"
    "    stp x27, x28, [sp, #-16]!\n"
    "    stp d8, d9, [sp, #-16]!\n"
    "    stp d10, d11, [sp, #-16]!\n"
    "    stp d12, d13, [sp, #-16]!\n"
    "    stp d14, d15, [sp, #-16]!\n"
    "    mov x9, sp\n"
    "    adrp x10, checked_sp\n"
    "    str x9, [x10, :lo12:checked_sp]\n"
    "    adrp x11, stack_trap\n"
    "    add x11, x11, :lo12:stack_trap\n"
    "    mov w12, #33\n"                    /* 33 pairs: 66 slots, sp stays 16-byte aligned */
    "1:  stp x11, x11, [sp, #-16]!\n"
    "    subs w12, w12, #1\n"
    "    b.ne 1b\n"
    "    mov x16, x0\n"
    "    mov x0, x1\n"
    "    mov x1, x2\n"
    "    mov x19, #0xdead\n"
    "    movk x19, #0xdead, lsl #48\n"      /* 0xdead00000000dead: not a canonical address */
    "    mov x20, x19\n"
    "    mov x21, x19\n"
    "    mov x22, x19\n"
    "    mov x23, x19\n"
    "    mov x24, x19\n"
    "    mov x25, x19\n"
    "    mov x26, x19\n"
    "    mov x27, x19\n"
    "    mov x28, x19\n"
    "    mov x29, x19\n"
    "    fmov d8, x19\n"
    "    fmov d9, x19\n"
    "    fmov d10, x19\n"
    "    fmov d11, x19\n"
    "    fmov d12, x19\n"
    "    fmov d13, x19\n"
    "    fmov d14, x19\n"
    "    fmov d15, x19\n"
    "    blr x16\n"
    "    mov x9, #0xdead\n"
    "    movk x9, #0xdead, lsl #48\n"
    "    cmp x19, x9\n"
    "    ccmp x20, x9, #0, eq\n"
    "    ccmp x21, x9, #0, eq\n"
    "    ccmp x22, x9, #0, eq\n"
    "    ccmp x23, x9, #0, eq\n"
    "    ccmp x24, x9, #0, eq\n"
    "    ccmp x25, x9, #0, eq\n"
    "    ccmp x26, x9, #0, eq\n"
    "    ccmp x27, x9, #0, eq\n"
    "    ccmp x28, x9, #0, eq\n"
    "    ccmp x29, x9, #0, eq\n"
    "    b.ne 2f\n"
    "    fmov x10, d8\n"
    "    cmp x10, x9\n"
    "    fmov x10, d9\n"
    "    ccmp x10, x9, #0, eq\n"
    "    fmov x10, d10\n"
    "    ccmp x10, x9, #0, eq\n"
    "    fmov x10, d11\n"
    "    ccmp x10, x9, #0, eq\n"
    "    fmov x10, d12\n"
    "    ccmp x10, x9, #0, eq\n"
    "    fmov x10, d13\n"
    "    ccmp x10, x9, #0, eq\n"
    "    fmov x10, d14\n"
    "    ccmp x10, x9, #0, eq\n"
    "    fmov x10, d15\n"
    "    ccmp x10, x9, #0, eq\n"
    "    b.ne 2f\n"
    "    adrp x10, checked_sp\n"
    "    ldr x10, [x10, :lo12:checked_sp]\n"
    "    sub x11, x10, #(33 * 16)\n"
    "    mov x12, sp\n"
    "    cmp x11, x12\n"
    "    b.ne 3f\n"
    "    mov sp, x10\n"
    "    ldp d14, d15, [sp], #16\n"
    "    ldp d12, d13, [sp], #16\n"
    "    ldp d10, d11, [sp], #16\n"
    "    ldp d8, d9, [sp], #16\n"
    "    ldp x27, x28, [sp], #16\n"
    "    ldp x25, x26, [sp], #16\n"
    "    ldp x23, x24, [sp], #16\n"
    "    ldp x21, x22, [sp], #16\n"
    "    ldp x19, x20, [sp], #16\n"
    "    ldp x29, x30, [sp], #16\n"
    "    ret\n"
    "2:  mov x9, sp\n"
    "    and sp, x9, #-16\n"
    "    bl registers_changed\n"
    "3:  mov x9, sp\n"
    "    and sp, x9, #-16\n"
    "    bl stack_off\n"
    ".size checked_call, .-checked_call\n"
    ".p2align 4\n"
    ".type stack_trap, %function\n"
    "stack_trap:\n"
    "    mov x9, sp\n"
    "    and sp, x9, #-16\n"
    "    bl stack_off\n"
    ".size stack_trap, .-stack_trap\n");
#else
#error "hcrtrial: no checked call for this CPU (x86-64 and aarch64 are the ones it knows)"
#endif
void host_proc_stub(void);
void* checked_call(void* fn, void* a0, void* a1);

static __attribute__((noreturn, used)) void stack_off(void)
{
    say(STDERR_FILENO, "module code returned with its stack pointer off (through a slot above its frame, or to another sp)", NULL, NULL);
    verdict("stack-off");
    _exit(EXIT_STACK_OFF);
}

static __attribute__((noreturn, used)) void registers_changed(void)
{
    say(STDERR_FILENO, "module code returned with a callee-saved register (" CALLEE_SAVED ") changed", NULL, NULL);
    verdict("registers-changed");
    _exit(EXIT_REGISTERS_CHANGED);
}

#define CALL0(fn) checked_call((void*)(fn), NULL, NULL)

/* ---- the modules ------------------------------------------------------------------------------------------------ */

typedef struct module {
    const char* name;
    const char* path;
    bool is_new;
    void* handle;
    void (*hcr_init)(void*, void*);
    void (*create_type_infos)(void);
    void (*dat_init)(void);
    void (*init)(void);
} module;

typedef struct handler {
    void (*fn)(void*);
    void* environment;
    bool is_before;
    const char* module;
} handler;

static module* modules;
static size_t module_count;
static handler* handlers;
static size_t handler_count, handler_capacity;
static const char* current_module = "";
static const char* system_name = "";
static bool reload;
static int64_t generation;
static uint64_t max_global = UINT64_MAX;

/* ---- the stand-in C ABI ----------------------------------------------------------------------------------------- */

static void* register_proc(const char* module_name, const char* name, void* fn)
{
    if (module_name == NULL || name == NULL) refused("hcrRegisterProc: a NULL name", NULL);
    if (fn == NULL) refused("hcrRegisterProc: a NULL function for ", name);
    find(&procs, module_name, name, true)->address = fn;
    return fn;
}

/* A global's block: zeroed, and a real one for size 0, as the runtime gives. */
static void* zeroed_block(uint64_t size)
{
    return calloc(1, size == 0 ? 16 : size);
}

static void* get_proc(const char* module_name, const char* name)
{
    if (module_name == NULL || name == NULL) return NULL;
    entry* e = find(&procs, module_name, name, false);
    return e == NULL ? NULL : e->address;
}

static bool register_global(const char* module_name, const char* name, size_t size, void (*marker)(void), void** out)
{
    (void)marker;
    if (module_name == NULL || name == NULL) refused("hcrRegisterGlobal: a NULL name", NULL);
    if (out == NULL) refused("hcrRegisterGlobal: a NULL output pointer for ", name);
    entry* e = find(&globals, module_name, name, true);
    if (e->address != NULL) {
        if (e->size != size) refused("hcrRegisterGlobal: another size for ", name);
        *out = e->address;
        return false;
    }
    if (size > max_global) refused("hcrRegisterGlobal: a size above the limit for ", name);
    void* block = zeroed_block(size);
    if (block == NULL) refused("hcrRegisterGlobal: no memory for ", name);
    e->address = block;
    e->size = size;
    *out = block;
    return true;
}

static void* get_global(const char* module_name, const char* name)
{
    if (module_name == NULL || name == NULL) return NULL;
    entry* e = find(&globals, module_name, name, false);
    return e == NULL ? NULL : e->address;
}

/* The runtime's form takes the function only; Nim's passes a closure (function, environment): both fit here. */
static void add_event_handler(bool is_before, void (*fn)(void*), void* environment)
{
    if (fn == NULL) refused("hcrAddEventHandler: a NULL handler", NULL);
    if (handler_count == handler_capacity) {
        handler_capacity = handler_capacity == 0 ? 16 : 2 * handler_capacity;
        handlers = realloc(handlers, handler_capacity * sizeof *handlers);
        if (handlers == NULL) _exit(EXIT_USAGE);
    }
    handlers[handler_count++] = (handler){ fn, environment, is_before, current_module };
}

static bool has_module_changed(const char* module_or_hash)
{
    for (size_t i = 0; module_or_hash != NULL && i < module_count; i++)
        if (strcmp(modules[i].name, module_or_hash) == 0) return modules[i].is_new;
    return false;
}

static void fail_init(const char* message) { refused("hcrFailInit: ", message == NULL ? "(NULL)" : message); }
static int64_t current_generation(void) { return generation; }
static bool reload_needed(void) { return false; }
static void nothing(void) { }
static void add_module(const char* name) { (void)name; }

static const struct { const char* name; void* address; } abi[] = {
    { "hcrRegisterProc", (void*)register_proc },
    { "hcrGetProc", (void*)get_proc },
    { "hcrRegisterGlobal", (void*)register_global },
    { "hcrGetGlobal", (void*)get_global },
    { "hcrAddEventHandler", (void*)add_event_handler },
    { "hcrAddModule", (void*)add_module },
    { "hcrGeneration", (void*)current_generation },
    { "hcrHasModuleChanged", (void*)has_module_changed },
    { "hcrReloadNeeded", (void*)reload_needed },
    { "hcrPerformCodeReload", (void*)nothing },
    { "hcrMarkGlobals", (void*)nothing },
    { "hcrInit", (void*)nothing },
    { "hcrFailInit", (void*)fail_init },
};

static void* get_proc_address(void* handle, const char* name)
{
    (void)handle;
    for (size_t i = 0; name != NULL && i < sizeof abi / sizeof abi[0]; i++)
        if (strcmp(abi[i].name, name) == 0) return abi[i].address;
    return NULL;
}

/* ---- the plan --------------------------------------------------------------------------------------------------- */

static char* plan;
static size_t plan_length, plan_at;

static const char* field(void)
{
    if (plan_at >= plan_length) {
        say(STDERR_FILENO, "the plan ends inside a record", NULL, NULL);
        _exit(EXIT_USAGE);
    }
    const char* value = plan + plan_at;
    plan_at += strlen(value) + 1;
    return value;
}

static void read_plan(void)
{
    size_t capacity = 1 << 16;
    plan = malloc(capacity + 1);
    for (ssize_t got; plan != NULL && (got = read(STDIN_FILENO, plan + plan_length, capacity - plan_length)) > 0;) {
        plan_length += (size_t)got;
        if (plan_length == capacity) plan = realloc(plan, (capacity *= 2) + 1);
    }
    if (plan == NULL) _exit(EXIT_USAGE);
    plan[plan_length] = 0; /* a last field without its NUL still ends */

    size_t capacity_modules = 0;
    while (plan_at < plan_length) {
        const char* kind = field();
        if (strcmp(kind, "generation") == 0) {
            generation = strtoll(field(), NULL, 10);
        } else if (strcmp(kind, "max-global") == 0) {
            max_global = strtoull(field(), NULL, 10);
        } else if (strcmp(kind, "reload") == 0) {
            reload = true;
        } else if (strcmp(kind, "system") == 0) {
            system_name = field();
        } else if (strcmp(kind, "host-proc") == 0) {
            const char* m = field();
            find(&procs, m, field(), true)->address = (void*)host_proc_stub;
        } else if (strcmp(kind, "host-global") == 0) {
            const char* m = field();
            const char* n = field();
            uint64_t size = strtoull(field(), NULL, 10);
            void* block = size <= max_global ? zeroed_block(size) : NULL;
            if (block != NULL) {
                entry* e = find(&globals, m, n, true);
                e->address = block;
                e->size = size;
            }
        } else if (strcmp(kind, "module") == 0) {
            if (module_count == capacity_modules) {
                capacity_modules = capacity_modules == 0 ? 16 : 2 * capacity_modules;
                modules = realloc(modules, capacity_modules * sizeof *modules);
                if (modules == NULL) _exit(EXIT_USAGE);
            }
            module* m = &modules[module_count++];
            memset(m, 0, sizeof *m);
            m->name = field();
            m->path = field();
            m->is_new = strcmp(field(), "1") == 0;
        } else {
            say(STDERR_FILENO, "unknown plan record ", kind, NULL);
            _exit(EXIT_USAGE);
        }
    }
}

static void* required(module* m, const char* symbol)
{
    void* address = dlsym(m->handle, symbol);
    if (address == NULL) {
        say(STDERR_FILENO, m->name, ": missing export ", symbol);
        verdict("left-to-host");
        _exit(EXIT_LEFT_TO_HOST);
    }
    return address;
}

static void run_init(module* m)
{
    at("Init000 ", m->name);
    current_module = m->name;
    CALL0(m->init);
    current_module = "";
}

/* What dlclose would run, in its order (the fini array from the last entry, then DT_FINI), each through checked_call:
   a destructor whose stack pointer is off would return wherever the loader's frames lead. The loader never runs them
   again: the trial ends with _exit. */
static void run_destructors(void* handle)
{
    struct link_map* map = NULL;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) return;
    void (**array)(void) = NULL;
    size_t count = 0;
    void (*fini)(void) = NULL;
    for (const ElfW(Dyn)* d = map->l_ld; d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_FINI_ARRAY) array = (void (**)(void))(map->l_addr + d->d_un.d_ptr);
        else if (d->d_tag == DT_FINI_ARRAYSZ) count = d->d_un.d_val / sizeof(void*);
        else if (d->d_tag == DT_FINI) fini = (void (*)(void))(map->l_addr + d->d_un.d_ptr);
    }
    for (size_t i = count; array != NULL && i-- > 0;) CALL0(array[i]);
    if (fini != NULL) CALL0(fini);
}

static int run_start(void)
{
    read_plan();
    for (size_t i = 0; i < module_count; i++) {
        module* m = &modules[i];
        at("load ", m->name);
        m->handle = dlopen(m->path, RTLD_NOW | RTLD_LOCAL);
        if (m->handle == NULL) {
            say(STDERR_FILENO, m->name, ": ", dlerror());
            verdict("left-to-host");
            return EXIT_LEFT_TO_HOST;
        }
        m->hcr_init = (void (*)(void*, void*))required(m, "HcrInit000");
        m->dat_init = (void (*)(void))required(m, "DatInit000");
        m->init = (void (*)(void))required(m, "Init000");
        m->create_type_infos = (void (*)(void))dlsym(m->handle, "HcrCreateTypeInfos");
    }

    for (size_t i = 0; i < module_count; i++) {
        at("HcrInit000 ", modules[i].name);
        checked_call((void*)modules[i].hcr_init, NULL, (void*)get_proc_address);
        if (modules[i].create_type_infos != NULL) {
            at("HcrCreateTypeInfos ", modules[i].name);
            CALL0(modules[i].create_type_infos);
        }
    }

    module* first = NULL;
    for (size_t i = 0; i < module_count; i++)
        if (strcmp(modules[i].name, system_name) == 0) first = &modules[i];
    if (first != NULL) {
        at("DatInit000 ", first->name);
        CALL0(first->dat_init);
        run_init(first);
    }
    for (size_t i = 0; i < module_count; i++) {
        if (&modules[i] == first) continue;
        at("DatInit000 ", modules[i].name);
        CALL0(modules[i].dat_init);
    }
    for (size_t i = 0; i < module_count; i++)
        if (&modules[i] != first) run_init(&modules[i]);

    if (reload) {
        for (size_t i = 0; i < handler_count; i++) {
            if (handlers[i].is_before) continue;
            at("after-handler ", handlers[i].module);
            checked_call((void*)handlers[i].fn, handlers[i].environment, NULL);
        }
    }

    for (size_t i = module_count; i-- > 0;) {
        at("unload ", modules[i].name);
        run_destructors(modules[i].handle);
    }
    verdict("passed");
    /* Not exit(): the loader would run the destructors again. */
    _exit(0);
}

static int run_load(const char* library)
{
    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        say(STDERR_FILENO, dlerror(), NULL, NULL);
        verdict("left-to-host");
        return EXIT_LEFT_TO_HOST;
    }

    run_destructors(handle);
    verdict("passed");
    _exit(0);
}

int main(int argc, char** argv)
{
    /* A process group of its own, which the host kills at the trial's end or deadline (TrialProcess.cs): processes the
     * modules' code starts here go with it instead of holding the host's pipes. */
    setpgid(0, 0);
    if (argc == 2 && strcmp(argv[1], "--start") == 0) return run_start();
    if (argc == 2 && argv[1][0] != '-') return run_load(argv[1]);
    fputs("usage: hcrtrial LIBRARY | hcrtrial --start < PLAN\n", stderr);
    return EXIT_USAGE;
}
