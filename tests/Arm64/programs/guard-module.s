// Module code for guard-host.c, in assembly so that the faulting instruction has a label of its own: the guard must
// report that exact PC. Built as a shared library (aarch64-linux-gnu-gcc -shared), the way modules are.
    .text
    .p2align 2
    .global load_from, load_from_fault
    .type load_from, %function
load_from:                          // x0 = an address: returns *(uint64_t*)x0
load_from_fault:
    ldr x0, [x0]
    ret
    .size load_from, .-load_from

    .global trap, trap_at
    .type trap, %function
trap:
    nop
trap_at:
    brk #0x7                        // SIGTRAP (TRAP_BRKPT); the PC is the brk's own address
    ret
    .size trap, .-trap

    .global wild, wild_fault
    .type wild, %function
wild:                               // x0 = 1: fault after changing state; x0 = 0: return 5 with the same state changed
    mov x9, x0
    mov x19, #19
    mov x20, #20
    mov x21, #21
    mov x22, #22
    mov x23, #23
    mov x24, #24
    mov x25, #25
    mov x26, #26
    mov x27, #27
    mov x28, #28
    mov x29, #29
    fmov d8, x19
    fmov d9, x19
    fmov d10, x19
    fmov d11, x19
    fmov d12, x19
    fmov d13, x19
    fmov d14, x19
    fmov d15, x19
    mov x1, #(3 << 22)              // FPCR.RMode = 3: round towards zero
    msr fpcr, x1
    mov x0, #5
    cbz x9, 1f
    mov x2, #0x40
wild_fault:
    ldr x0, [x2]
1:  ret
    .size wild, .-wild

    .global add
    .type add, %function
add:
    add x0, x0, x1
    ret
    .size add, .-add
    .section .note.GNU-stack, "", %progbits
