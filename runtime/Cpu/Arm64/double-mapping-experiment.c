/*
 * The W^X double mapping under qemu-user, with both arm64 slot forms (tests/Arm64/Arm64ProgramTests.cs runs it under
 * qemu-aarch64; on real arm64 hardware it runs as it is). One memfd is mapped twice, read+write and read+execute, as
 * ExecutableMemory does. Three targets answer 1, 2 and 3; each slot is pointed at them in turn and called after each
 * re-point:
 *   - the direct form, `B imm26`, re-pointed by one aligned 4-byte store of the whole instruction through the
 *     writable view, then __builtin___clear_cache over those 4 bytes of the executable view;
 *   - the same with hcr_code_written (hcrcode.c) instead, which adds the re-map where stale translations are seen;
 *   - the data form, `LDR x16, literal; BR x16`, re-pointed by one aligned 8-byte store of the literal.
 * Under qemu-user 7.2 the first prints 1 1 1 (its translation of the slot keeps the first target), the other two
 * 1 2 3. Each case gets a fresh pair of mappings, so no translation carries over from one case to the next.
 * Build: aarch64-linux-gnu-gcc -std=gnu11 -O2 double-mapping-experiment.c hcrcode.c -lpthread
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int hcr_code_written(void* view, int fd, void* code, size_t length);
int hcr_code_stale_translations(void);

enum { SIZE = 4096, SLOT = 0x00, LITERAL_SLOT = 0x40, TARGETS = 0x100 };

typedef struct views {
    int fd;
    uint8_t* writable;
    uint8_t* executable;
} views;

static int open_views(views* v)
{
    v->fd = memfd_create("double-mapping-experiment", MFD_CLOEXEC);
    if (v->fd < 0 || ftruncate(v->fd, SIZE) != 0) return -1;
    v->writable = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    v->executable = mmap(NULL, SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, v->fd, 0);
    if (v->writable == MAP_FAILED || v->executable == MAP_FAILED) return -1;
    /* target i at TARGETS + 8 * (i - 1): mov w0, #i (MOVZ 0x52800000 | imm16 << 5); ret */
    for (uint32_t i = 1; i <= 3; i++) {
        uint32_t code[2] = { 0x52800000u | (i << 5), 0xd65f03c0u };
        memcpy(v->writable + TARGETS + 8 * (i - 1), code, sizeof code);
    }
    __builtin___clear_cache((char*)v->executable + TARGETS, (char*)v->executable + TARGETS + 24);
    return 0;
}

static void close_views(views* v)
{
    munmap(v->writable, SIZE);
    munmap(v->executable, SIZE);
    close(v->fd);
}

static uintptr_t target(const views* v, int i) { return (uintptr_t)v->executable + TARGETS + 8 * (uintptr_t)(i - 1); }

/* B imm26: 0x14000000 | ((target - slot) / 4 masked to 26 bits); the slot and targets are 0x100 bytes apart. */
static void point_b(views* v, int i, int use_helper)
{
    uint32_t offset = (uint32_t)((target(v, i) - (uintptr_t)(v->executable + SLOT)) >> 2) & 0x3ffffffu;
    __atomic_store_n((uint32_t*)(v->writable + SLOT), 0x14000000u | offset, __ATOMIC_RELEASE);
    if (use_helper) hcr_code_written(v->executable, v->fd, v->executable + SLOT, 4);
    else __builtin___clear_cache((char*)v->executable + SLOT, (char*)v->executable + SLOT + 4);
}

/* LDR x16, #8 (0x58000000 | imm19 = 2 << 5 | Rt = 16); BR x16 (0xd61f0200); the literal at +8, 8-byte aligned. The
   two instructions are written once; a re-point stores the literal only. */
static void point_literal(views* v, int i)
{
    static const uint32_t code[2] = { 0x58000050u, 0xd61f0200u };
    if (*(uint32_t*)(v->writable + LITERAL_SLOT) != code[0]) {
        memcpy(v->writable + LITERAL_SLOT, code, sizeof code);
        __builtin___clear_cache((char*)v->executable + LITERAL_SLOT, (char*)v->executable + LITERAL_SLOT + 8);
    }
    __atomic_store_n((uint64_t*)(v->writable + LITERAL_SLOT + 8), (uint64_t)target(v, i), __ATOMIC_RELEASE);
}

enum form { B_CACHE_ONLY, B_HELPER, LITERAL };

static int run(enum form form, const char* name)
{
    views v;
    if (open_views(&v) != 0) {
        perror("double-mapping-experiment: memfd or mmap");
        return 1;
    }
    printf("%s:", name);
    for (int i = 1; i <= 3; i++) {
        if (form == LITERAL) point_literal(&v, i);
        else point_b(&v, i, form == B_HELPER);
        int (*slot)(void) = (int (*)(void))(v.executable + (form == LITERAL ? LITERAL_SLOT : SLOT));
        printf(" %d", slot());
    }
    printf("\n");
    close_views(&v);
    return 0;
}

int main(void)
{
    printf("stale translations through the second mapping: %s\n", hcr_code_stale_translations() ? "yes" : "no");
    return run(B_CACHE_ONLY, "B re-point, cache maintenance only")
        | run(B_HELPER, "B re-point, hcr_code_written")
        | run(LITERAL, "literal re-point, no cache maintenance");
}
