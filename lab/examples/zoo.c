/* A correct jump encoder for hcrlab's external-encoder protocol, in C (README, "Verifying your own encoder").
 * Build: gcc -O2 -o zoo zoo.c; check: hcrlab verify --encoder ./zoo
 * The same forms as zoo.py: the shortest direct branch that reaches, otherwise a literal (aligned in data mode). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct { uint8_t b[32]; int n; } code_t;

static void put(code_t *c, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) c->b[c->n++] = (uint8_t)(v >> (8 * i));
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* A difference modulo 2^32, as a signed number: 32-bit addresses wrap. */
static int64_t wrap32(uint64_t v) { return (int64_t)(int32_t)(uint32_t)v; }

static int fits(int64_t v, int bits) { return v >= -(INT64_C(1) << (bits - 1)) && v < (INT64_C(1) << (bits - 1)); }

static void x86(code_t *c, int bits, int data, uint64_t slot, uint64_t target) {
    if (!data) {
        int64_t d8 = bits == 32 ? wrap32(target - (slot + 2)) : (int64_t)(target - (slot + 2));
        int64_t d32 = bits == 32 ? wrap32(target - (slot + 5)) : (int64_t)(target - (slot + 5));
        if (fits(d8, 8)) { put(c, 0xEB, 1); put(c, (uint64_t)d8, 1); return; }
        if (fits(d32, 32)) { put(c, 0xE9, 1); put(c, (uint64_t)d32, 4); return; }
    }
    int pointer = bits / 8;
    uint64_t literal = data ? align_up(slot + 6, (uint64_t)pointer) : slot + 6;
    put(c, 0x25FF, 2); /* jmp [abs32] on i386, jmp [rip+disp32] on amd64 (rip = slot + 6) */
    put(c, bits == 32 ? literal : literal - (slot + 6), 4);
    while ((uint64_t)c->n < literal - slot) put(c, 0xCC, 1);
    put(c, target, pointer);
}

static void a32(code_t *c, int data, uint64_t slot, uint64_t target) {
    int64_t off = wrap32(target - (slot + 8)); /* the PC reads 8 ahead in A32 */
    if (!data && !(target & 1) && off >= -(INT64_C(1) << 25) && off <= (INT64_C(1) << 25) - 4) {
        put(c, 0xEA000000u | (((uint64_t)off >> 2) & 0xFFFFFF), 4);
        return;
    }
    put(c, 0xE51FF004u, 4); /* ldr pc, [pc, #-4]: interworks, bit 0 selects Thumb */
    put(c, target, 4);
}

static void thumb(code_t *c, int data, uint64_t slot, uint64_t target) {
    int64_t off = wrap32((target & ~UINT64_C(1)) - (slot + 4)); /* the PC reads 4 ahead in Thumb */
    if (!data && (target & 1)) {
        if (off >= -2048 && off <= 2046) { put(c, 0xE000 | (((uint64_t)off >> 1) & 0x7FF), 2); return; }
        if (off >= -(INT64_C(1) << 24) && off <= (INT64_C(1) << 24) - 2) {
            uint64_t u = (uint64_t)off, s = (u >> 24) & 1;
            uint64_t j1 = (~(((u >> 23) & 1) ^ s)) & 1, j2 = (~(((u >> 22) & 1) ^ s)) & 1;
            put(c, 0xF000 | (s << 10) | ((u >> 12) & 0x3FF), 2);
            put(c, 0x9000 | (j1 << 13) | (j2 << 11) | ((u >> 1) & 0x7FF), 2);
            return;
        }
    }
    uint64_t literal = align_up(slot + 4, 4); /* ldr.w pc, [pc, #imm]: the base is slot + 4 rounded down to a word */
    put(c, 0xF8DF, 2);
    put(c, 0xF000 | (literal - ((slot + 4) & ~UINT64_C(3))), 2);
    while ((uint64_t)c->n < literal - slot) put(c, 0xDE00, 2);
    put(c, target, 4);
}

static void arm64(code_t *c, int data, uint64_t slot, uint64_t target) {
    int64_t off = (int64_t)(target - slot);
    int64_t pages = (int64_t)(target >> 12) - (int64_t)(slot >> 12);
    if (!data && off >= -(INT64_C(1) << 27) && off <= (INT64_C(1) << 27) - 4) {
        put(c, 0x14000000u | (((uint64_t)off >> 2) & 0x3FFFFFF), 4);
        return;
    }
    if (!data && pages >= -(INT64_C(1) << 20) && pages <= (INT64_C(1) << 20) - 1) {
        uint64_t p = (uint64_t)pages;
        put(c, 0x90000010u | ((p & 3) << 29) | (((p >> 2) & 0x7FFFF) << 5), 4); /* adrp x16 */
        put(c, 0x91000210u | ((target & 0xFFF) << 10), 4);                     /* add x16, x16, #lo12 */
        put(c, 0xD61F0200u, 4);                                                 /* br x16 */
        return;
    }
    uint64_t literal = align_up(slot + 8, 8);
    put(c, 0x58000010u | (((literal - slot) >> 2) << 5), 4); /* ldr x16, literal */
    put(c, 0xD61F0200u, 4);
    while ((uint64_t)c->n < literal - slot) put(c, 0, 4);
    put(c, target, 8);
}

/* 1 with the bytes in *c, 0 with a reason in *why. */
static int encode(const char *arch, int data, uint64_t slot, uint64_t target, code_t *c, const char **why) {
    int bits = strcmp(arch, "amd64") == 0 || strcmp(arch, "arm64") == 0 ? 64 : 32;
    int is_arm = strcmp(arch, "arm") == 0 || strcmp(arch, "thumb") == 0;
    uint64_t top = bits == 64 ? UINT64_MAX : UINT32_MAX;
    c->n = 0;
    if (slot > top || target > top) { *why = "address beyond the address space"; return 0; }
    if ((strcmp(arch, "arm") == 0 || strcmp(arch, "arm64") == 0) ? slot % 4 : strcmp(arch, "thumb") == 0 ? slot % 2 : 0) {
        *why = "slot misaligned";
        return 0;
    }
    if (target % 4 && (strcmp(arch, "arm64") == 0 || (is_arm && !(target & 1)))) { *why = "target misaligned"; return 0; }
    if (strcmp(arch, "i386") == 0) x86(c, 32, data, slot, target);
    else if (strcmp(arch, "amd64") == 0) x86(c, 64, data, slot, target);
    else if (strcmp(arch, "arm") == 0) a32(c, data, slot, target);
    else if (strcmp(arch, "thumb") == 0) thumb(c, data, slot, target);
    else if (strcmp(arch, "arm64") == 0) arm64(c, data, slot, target);
    else { *why = "unknown cpu"; return 0; }
    if (slot + (uint64_t)c->n - 1 > top || slot + (uint64_t)c->n - 1 < slot) { *why = "the encoding runs past the top"; return 0; }
    return 1;
}

int main(void) {
    char line[256], arch[16], mode[16];
    uint64_t slot, target;
    printf("hcrlab-encoder 1 cpus=i386,amd64,arm,thumb,arm64 modes=code,data scratch=arm64:x16\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        code_t c;
        const char *why = "malformed request";
        if (sscanf(line, "%15s %15s %" SCNx64 " %" SCNx64, arch, mode, &slot, &target) == 4
            && encode(arch, strcmp(mode, "data") == 0, slot, target, &c, &why)) {
            for (int i = 0; i < c.n; i++) printf("%02x", c.b[i]);
        } else {
            fprintf(stderr, "refused: %s", line);
            fprintf(stderr, "  (%s)\n", why);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
