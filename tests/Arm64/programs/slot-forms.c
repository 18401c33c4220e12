/*
 * Both arm64 slot forms of the runtime's jump table, run through libhcrlab.so (tests/Arm64/Arm64NativeTests.cs runs it
 * under qemu-aarch64). A host proc's slot is pointed in turn at targets near it (within B's ±128 MiB) and far from it
 * (4 GiB away), each target a page of its own that returns its number, and called after each re-point. What the slot
 * holds is read back and decoded from the architecture's encodings, not from the runtime's:
 *   B imm26:            0x14000000 | imm26, target = slot + sign_extend(imm26) * 4
 *   LDR x16, literal:   0x58000010 | imm19 << 5, literal at its own address + sign_extend(imm19) * 4
 *   BR x16:             0xd61f0200
 * A near target is reached by the slot's B itself; a far one by a B to an LDR x16 / BR x16 pair whose literal is the
 * target. Near, far, near, far exercises a B re-point after the slot ran (qemu-user's stale translations: without the
 * runtime's workaround the second call would still return 1), a change to the literal form, a B re-point back, and a
 * literal re-point. Build: aarch64-linux-gnu-gcc slot-forms.c -lhcrlab
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "hcrlab.h"

static int64_t zero(void) { return 0; }

/* A page at `at` holding mov x0, #value; ret, or NULL when `at` is taken. */
static void* target_at(uintptr_t at, uint32_t value)
{
    void* page = mmap((void*)at, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page == MAP_FAILED) return NULL;
    if ((uintptr_t)page != at) {
        munmap(page, 4096);
        return NULL;
    }
    uint32_t code[2] = { 0xd2800000u | (value << 5), 0xd65f03c0u }; /* movz x0, #value; ret */
    memcpy(page, code, sizeof code);
    __builtin___clear_cache((char*)page, (char*)page + sizeof code);
    mprotect(page, 4096, PROT_READ | PROT_EXEC);
    return page;
}

/* The first free page of /proc/self/maps's gaps in [low, high), at or after `from`, or 0. */
static uintptr_t free_page(uintptr_t low, uintptr_t high)
{
    FILE* maps = fopen("/proc/self/maps", "r");
    if (!maps) return 0;
    uintptr_t previous_end = 0, found = 0, start, end;
    char line[1024];
    while (!found && fgets(line, sizeof line, maps)) {
        if (sscanf(line, "%lx-%lx", &start, &end) != 2) continue;
        uintptr_t gap_start = previous_end > low ? previous_end : low;
        if (gap_start + 4096 <= start && gap_start + 4096 <= high) found = gap_start;
        previous_end = end;
    }
    fclose(maps);
    if (!found && previous_end < high) found = previous_end > low ? previous_end : low;
    return found;
}

/* A target page within B's reach (±128 MiB) of the slot: inside ±96 MiB, in a free gap. */
static void* target_near(uintptr_t slot, uint32_t value)
{
    uintptr_t page = free_page((slot - 0x6000000) & ~(uintptr_t)4095, slot + 0x6000000);
    return page ? target_at(page, value) : NULL;
}

static int64_t sign_extend(uint32_t value, int bits) { return (int64_t)((uint64_t)value << (64 - bits)) >> (64 - bits); }

static void describe(const char* what, int64_t (*slot)(void), void* target)
{
    uint32_t insn = *(volatile uint32_t*)(uintptr_t)slot;
    if ((insn & 0xfc000000u) != 0x14000000u) {
        printf("%s: the slot holds 0x%08x, not a B\n", what, insn);
        return;
    }
    uintptr_t to = (uintptr_t)slot + (uintptr_t)(sign_extend(insn & 0x3ffffffu, 26) * 4);
    const char* form = "B to elsewhere";
    if (to == (uintptr_t)target) {
        form = "B to the target";
    } else {
        uint32_t ldr = *(volatile uint32_t*)to, br = *(volatile uint32_t*)(to + 4);
        if ((ldr & 0xff00001fu) == 0x58000010u && br == 0xd61f0200u) {
            uintptr_t literal = to + (uintptr_t)(sign_extend((ldr >> 5) & 0x7ffffu, 19) * 4);
            form = *(volatile uint64_t*)literal == (uint64_t)(uintptr_t)target ? "B to LDR x16 / BR x16 with the target as literal"
                                                                              : "B to LDR x16 / BR x16 with another literal";
        }
    }
    printf("%s: %s, call returns %lld\n", what, form, (long long)slot());
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    HcrlabOptions options = {.size = sizeof options, .trial = HCRLAB_TRIAL_NONE, .quiet = true};
    if (hcrlabCreate(&options) != HCRLAB_OK) {
        printf("hcrlabCreate: %s\n", hcrlabLastError());
        return 1;
    }
    hcrAddModule("host");
    int64_t (*slot)(void) = (int64_t (*)(void))hcrRegisterProc("host", "f", (void*)zero);
    uintptr_t at = (uintptr_t)slot & ~(uintptr_t)0xffff;
    void* near1 = target_near(at, 1);
    void* far2 = target_at(at + 0x100000000, 2);             /* 4 GiB above: out of B's reach */
    void* near3 = target_near(at, 3);
    void* far4 = target_at(at + 0x200000000, 4);             /* 8 GiB above */
    if (!slot || !near1 || !far2 || !near3 || !far4) {
        printf("setup failed: slot %p, targets %p %p %p %p\n", (void*)slot, near1, far2, near3, far4);
        return 1;
    }
    void* targets[] = { near1, far2, near3, far4 };
    const char* names[] = { "near", "far", "near again", "far again" };
    for (int i = 0; i < 4; i++) {
        if (hcrRegisterProc("host", "f", targets[i]) != (void*)slot) {
            printf("%s: the slot moved\n", names[i]);
            return 1;
        }
        describe(names[i], slot, targets[i]);
    }
    return 0;
}
