/*
 * A module whose destructor breaks AAPCS64 in one way, chosen with -DCASE=n, for hcrtrial's checked call on aarch64
 * (runtime/Isolation/guard/hcrtrial.c), run by Arm64ProgramTests as `qemu-aarch64 hcrtrial MODULE.so`: the trial load
 * runs the destructors through checked_call. The destructors are assembly, so that what they change is exactly what
 * the case names.
 *   0 keeps the ABI            -> verdict passed (exit 0)
 *   1 changes x19              -> registers-changed (exit 6)
 *   2 changes x28              -> registers-changed
 *   3 changes x29              -> registers-changed
 *   4 changes d8               -> registers-changed
 *   5 changes d15              -> registers-changed
 *   6 returns with sp 16 up    -> stack-off (exit 5): sp differs from the one checked_call handed over
 *   7 reloads its frame record from 16 bytes too high, so x30 is a trap slot -> stack-off through stack_trap
 *   8 changes x18 and d16      -> passed: neither is the callee's to keep
 */
#ifndef CASE
#error "build with -DCASE=n"
#endif
#define STR2(x) #x
#define STR(x) STR2(x)

__asm__(
    ".text\n"
    ".p2align 2\n"
    ".type bad_destructor, %function\n"
    "bad_destructor:\n"
#if CASE == 0
    "    stp x29, x30, [sp, #-16]!\n"
    "    mov x29, sp\n"
    "    ldp x29, x30, [sp], #16\n"
#elif CASE == 1
    "    mov x19, #1\n"
#elif CASE == 2
    "    mov x28, #1\n"
#elif CASE == 3
    "    mov x29, sp\n"
#elif CASE == 4
    "    fmov d8, xzr\n"
#elif CASE == 5
    "    fmov d15, #1.0\n"
#elif CASE == 6
    "    add sp, sp, #16\n"
#elif CASE == 7
    "    stp x29, x30, [sp, #-16]!\n"
    "    ldp x29, x30, [sp, #16]\n"
    "    add sp, sp, #16\n"
#elif CASE == 8
    "    mov x18, #1\n"
    "    fmov d16, xzr\n"
#else
#error "unknown CASE"
#endif
    "    ret\n"
    ".size bad_destructor, .-bad_destructor\n");
void bad_destructor(void);

static void (*const destructor)(void) __attribute__((section(".fini_array"), used)) = bad_destructor;
