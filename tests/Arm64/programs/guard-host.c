/*
 * The fault guard (runtime/Isolation/guard/hcrguard.c) on aarch64, run by Arm64ProgramTests under qemu-aarch64:
 * guarded calls into module code (guard-module.s, loaded with dlopen as the runtime loads modules) that fault are
 * contained and report the signal, its si_code, the fault address and the faulting PC; state that module code
 * changed (callee-saved registers, FPCR) is put back; a call that does not fault returns its value.
 * Usage: guard-host MODULE.so
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

typedef struct hcr_guard_frame {
    int32_t probe, signal, code, reserved;
    uint64_t address, pc;
} hcr_guard_frame;

int hcr_guard_install(const char* runtime_directory);
int hcr_guard_call(hcr_guard_frame* frame, void* fn, void* a0, void* a1, void** result);
int hcr_guard_strnlen(const char* text, size_t max, size_t* length);
void* hcr_guard_realigned(int32_t index, void* target);

static void* module;

static void* symbol(const char* name)
{
    void* address = dlsym(module, name);
    if (address == NULL) printf("missing %s\n", name);
    return address;
}

static uint64_t fpcr(void)
{
    uint64_t value;
    __asm__ volatile ("mrs %0, fpcr" : "=r"(value));
    return value;
}

/* Addresses as names where they are the label (a brk reports its own PC as si_addr), else in hex. */
static void report(const char* what, int signal_number, const hcr_guard_frame* frame, const char* pc_name)
{
    uint64_t label = (uint64_t)(uintptr_t)symbol(pc_name);
    char address[32];
    snprintf(address, sizeof address, "0x%llx", (unsigned long long)frame->address);
    printf("%s: signal %d, si_code %d, address %s, pc %s\n", what, signal_number, frame->code,
           frame->address == label ? pc_name : address, frame->pc == label ? pc_name : "elsewhere");
}

int main(int argc, char** argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc != 2 || (module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL) {
        fprintf(stderr, "usage: guard-host MODULE.so (%s)\n", argc == 2 ? dlerror() : "no module");
        return 64;
    }

    printf("install: %d\n", hcr_guard_install(NULL));
    hcr_guard_frame frame = { 0 };
    void* result = NULL;

    int signal_number = hcr_guard_call(&frame, symbol("load_from"), (void*)0x40, NULL, &result);
    report("load from 0x40", signal_number, &frame, "load_from_fault");

    signal_number = hcr_guard_call(&frame, symbol("trap"), NULL, NULL, &result);
    report("brk", signal_number, &frame, "trap_at");

    uint64_t fpcr_before = fpcr();
    register uint64_t kept __asm__("x20") = 0x2020;
    __asm__ volatile ("" : "+r"(kept));
    signal_number = hcr_guard_call(&frame, symbol("wild"), (void*)1, NULL, &result);
    __asm__ volatile ("" : "+r"(kept));
    report("fault after changing x19-x29, d8-d15 and FPCR", signal_number, &frame, "wild_fault");
    printf("after it: x20 0x%llx, fpcr %s\n", (unsigned long long)kept, fpcr() == fpcr_before ? "restored" : "changed");

    signal_number = hcr_guard_call(&frame, symbol("wild"), (void*)0, NULL, &result);
    __asm__ volatile ("" : "+r"(kept));
    printf("return after changing them: signal %d, result %lld, x20 0x%llx, fpcr %s\n", signal_number,
           (long long)(intptr_t)result, (unsigned long long)kept, fpcr() == fpcr_before ? "restored" : "changed");

    signal_number = hcr_guard_call(&frame, symbol("add"), (void*)40, (void*)2, &result);
    printf("add(40, 2): signal %d, result %lld\n", signal_number, (long long)(intptr_t)result);

    size_t length = 0;
    printf("strnlen of 0x40: signal %d\n", hcr_guard_strnlen((const char*)0x40, 8, &length));
    printf("strnlen of \"module\": signal %d, length %zu\n", hcr_guard_strnlen("module", 64, &length), length);

    printf("realigned shim: %s\n", hcr_guard_realigned(0, symbol("add")) == symbol("add") ? "the target itself" : "a shim");
    return 0;
}
