/*
 * start.S — reset entry and trap vector of the qemu-virt board.
 *
 * _start: global and stack pointers, the trap vector, the FPU on (the
 * ABI is ilp32f), .data copied from its load image, .bss cleared, the loop
 * stack painted with STACK_PAINT (syscalls.c measures its high-water mark
 * from it), then virt_main().  The .keep section (flash, retained area) is
 * left alone: it must survive a reset.
 *
 * virt_trap_entry: saves every caller-saved register (integer and float),
 * calls virt_trap(mcause, mepc) in C on the same stack, restores, mret.
 */
#define STACK_PAINT 0x5AA5C33C
#define FRAME_WORDS 36 /* ra, t0-t6, a0-a7 (16) + ft0-ft11, fa0-fa7 (20) */

    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    la t0, virt_trap_entry
    csrw mtvec, t0
    li t0, 0x2000             /* mstatus.FS = initial: the FPU is usable */
    csrs mstatus, t0
    csrw fcsr, zero

    la t0, __data_load        /* .data from its load image */
    la t1, __data_start
    la t2, __data_end
1:  bgeu t1, t2, 2f
    lw t3, 0(t0)
    sw t3, 0(t1)
    addi t0, t0, 4
    addi t1, t1, 4
    j 1b
2:  la t1, __bss_start        /* .bss cleared */
    la t2, __bss_end
3:  bgeu t1, t2, 4f
    sw zero, 0(t1)
    addi t1, t1, 4
    j 3b
4:  la t1, __stack_bottom     /* the stack painted up to 64 bytes below sp */
    addi t2, sp, -64
    li t3, STACK_PAINT
5:  bgeu t1, t2, 6f
    sw t3, 0(t1)
    addi t1, t1, 4
    j 5b
6:  call virt_main
7:  wfi                       /* virt_main does not return */
    j 7b

    .text
    .balign 4
    .globl virt_trap_entry
virt_trap_entry:
    addi sp, sp, -4 * FRAME_WORDS
    sw ra, 0(sp)
    sw t0, 4(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw t3, 16(sp)
    sw t4, 20(sp)
    sw t5, 24(sp)
    sw t6, 28(sp)
    sw a0, 32(sp)
    sw a1, 36(sp)
    sw a2, 40(sp)
    sw a3, 44(sp)
    sw a4, 48(sp)
    sw a5, 52(sp)
    sw a6, 56(sp)
    sw a7, 60(sp)
    fsw ft0, 64(sp)
    fsw ft1, 68(sp)
    fsw ft2, 72(sp)
    fsw ft3, 76(sp)
    fsw ft4, 80(sp)
    fsw ft5, 84(sp)
    fsw ft6, 88(sp)
    fsw ft7, 92(sp)
    fsw ft8, 96(sp)
    fsw ft9, 100(sp)
    fsw ft10, 104(sp)
    fsw ft11, 108(sp)
    fsw fa0, 112(sp)
    fsw fa1, 116(sp)
    fsw fa2, 120(sp)
    fsw fa3, 124(sp)
    fsw fa4, 128(sp)
    fsw fa5, 132(sp)
    fsw fa6, 136(sp)
    fsw fa7, 140(sp)
    csrr a0, mcause
    csrr a1, mepc
    call virt_trap
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw t3, 16(sp)
    lw t4, 20(sp)
    lw t5, 24(sp)
    lw t6, 28(sp)
    lw a0, 32(sp)
    lw a1, 36(sp)
    lw a2, 40(sp)
    lw a3, 44(sp)
    lw a4, 48(sp)
    lw a5, 52(sp)
    lw a6, 56(sp)
    lw a7, 60(sp)
    flw ft0, 64(sp)
    flw ft1, 68(sp)
    flw ft2, 72(sp)
    flw ft3, 76(sp)
    flw ft4, 80(sp)
    flw ft5, 84(sp)
    flw ft6, 88(sp)
    flw ft7, 92(sp)
    flw ft8, 96(sp)
    flw ft9, 100(sp)
    flw ft10, 104(sp)
    flw ft11, 108(sp)
    flw fa0, 112(sp)
    flw fa1, 116(sp)
    flw fa2, 120(sp)
    flw fa3, 124(sp)
    flw fa4, 128(sp)
    flw fa5, 132(sp)
    flw fa6, 136(sp)
    flw fa7, 140(sp)
    addi sp, sp, 4 * FRAME_WORDS
    mret
