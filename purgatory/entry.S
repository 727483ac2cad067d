/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crashcap's purgatory: the code that runs between the panicked kernel and
 * the crash kernel. The panicked kernel's relocate_kernel jumps here in
 * 64-bit mode with interrupts off and every page identity-mapped. We check
 * the SHA-256 of each region the loader listed, then enter the crash
 * kernel's 64-bit entry the way Documentation/arch/x86/boot.rst asks:
 * flat __BOOT_CS (0x10) and __BOOT_DS (0x18), %rsi = boot_params.
 *
 * A region whose digest does not match means memory that was corrupted
 * after the load (a stray DMA, a wild pointer in the dying kernel): booting
 * it would fail in ways nobody can debug. So we say which region on COM1
 * and halt for good instead.
 *
 * Every reference is %rip-relative, so the blob runs wherever the loader
 * puts it; the Makefile checks that by linking it at two bases.
 */
#include "purgatory-abi.h"

	.section .text.entry, "ax"
	.code64
	.globl	purgatory_start
purgatory_start:
	jmp	main

	/* The loader patches this block before loading the blob. */
	.org	PURGATORY_PARAMS_OFFSET, 0xcc
params:
	.quad	PURGATORY_MAGIC
	.long	PURGATORY_VERSION
	.long	PURGATORY_PARAMS_SIZE
kernel_entry:
	.quad	0
boot_params:
	.quad	0
nr_regions:
	.long	0
flags:
	.long	0
regions:
	.fill	PURGATORY_MAX_REGIONS * PURGATORY_REGION_SIZE, 1, 0
params_end:
	.if	(params_end - params) - PURGATORY_PARAMS_SIZE
	.error	"parameter block size differs from purgatory-abi.h"
	.endif
	.if	(kernel_entry - params) - PURGATORY_P_ENTRY
	.error	"kernel_entry offset differs from purgatory-abi.h"
	.endif
	.if	(boot_params - params) - PURGATORY_P_BOOT_PARAMS
	.error	"boot_params offset differs from purgatory-abi.h"
	.endif
	.if	(nr_regions - params) - PURGATORY_P_NR_REGIONS
	.error	"nr_regions offset differs from purgatory-abi.h"
	.endif
	.if	(flags - params) - PURGATORY_P_FLAGS
	.error	"flags offset differs from purgatory-abi.h"
	.endif
	.if	(regions - params) - PURGATORY_P_REGIONS
	.error	"regions offset differs from purgatory-abi.h"
	.endif

	.text
main:
	cli
	cld
	leaq	stack_end(%rip), %rsp

	/* The GDT's base is where we run, known only now. */
	leaq	gdt(%rip), %rax
	movq	%rax, gdt_base(%rip)
	lgdt	gdt_limit(%rip)
	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	/* Reload %cs from the new GDT with a far return. */
	pushq	$0x10
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:
	/* %r12: region index, %rbx: its descriptor; both survive the calls. */
	xorl	%r12d, %r12d
	leaq	regions(%rip), %rbx
	cmpl	$PURGATORY_MAX_REGIONS, nr_regions(%rip)
	ja	too_many
verify:
	cmpl	nr_regions(%rip), %r12d
	jae	verified
	movq	PURGATORY_R_START(%rbx), %rdi
	movq	PURGATORY_R_LEN(%rbx), %rsi
	leaq	digest(%rip), %rdx
	call	purgatory_sha256
	leaq	digest(%rip), %rsi
	leaq	PURGATORY_R_SHA256(%rbx), %rdi
	movl	$32, %ecx
	repe cmpsb
	jne	mismatch
	addq	$PURGATORY_REGION_SIZE, %rbx
	incl	%r12d
	jmp	verify

verified:
	testl	$PURGATORY_FLAG_VERBOSE, flags(%rip)
	jz	enter
	leaq	msg_ok1(%rip), %rdi
	call	puts
	movl	%r12d, %edi
	call	putdec
	leaq	msg_ok2(%rip), %rdi
	call	puts
enter:
	movq	boot_params(%rip), %rsi
	movq	kernel_entry(%rip), %rax
	/* %rbx = 0 says "boot processor"; the rest is cleared for a clean start. */
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	jmp	*%rax

mismatch:
	leaq	msg_bad1(%rip), %rdi
	call	puts
	movl	%r12d, %edi
	call	putdec
	leaq	msg_bad2(%rip), %rdi
	call	puts
	movq	PURGATORY_R_START(%rbx), %rdi
	call	puthex
	leaq	msg_bad3(%rip), %rdi
	call	puts
	movq	PURGATORY_R_LEN(%rbx), %rdi
	call	puthex
	leaq	msg_bad4(%rip), %rdi
	call	puts
	jmp	halt

too_many:
	leaq	msg_too_many(%rip), %rdi
	call	puts
halt:
	testl	$PURGATORY_FLAG_TEST_EXIT, flags(%rip)
	jz	1f
	movb	$PURGATORY_TEST_EXIT_CODE, %al
	outb	%al, $PURGATORY_TEST_EXIT_PORT
1:	cli
	hlt
	jmp	halt

/* puts(%rdi = NUL-terminated string) on COM1. Clobbers %rax, %rcx, %rdx, %rsi, %rdi. */
puts:
	movq	%rdi, %rsi
2:	movzbl	(%rsi), %edi
	testl	%edi, %edi
	jz	3f
	call	putc
	incq	%rsi
	jmp	2b
3:	ret

/* puthex(%rdi) as 0x followed by the digits without leading zeros. */
puthex:
	pushq	%rbx
	pushq	%r12
	movq	%rdi, %rbx
	movl	$'0', %edi
	call	putc
	movl	$'x', %edi
	call	putc
	movl	$60, %r12d
4:	movq	%rbx, %rdi
	movl	%r12d, %ecx
	shrq	%cl, %rdi
	andl	$0xf, %edi
	/* Skip leading zeros, but always print the last digit. */
	jnz	5f
	testl	%r12d, %r12d
	jz	5f
	movq	%rbx, %rax
	shrq	%cl, %rax
	testq	%rax, %rax
	jz	6f
5:	leaq	hexdigits(%rip), %rax
	movzbl	(%rax,%rdi), %edi
	call	putc
6:	subl	$4, %r12d
	jns	4b
	popq	%r12
	popq	%rbx
	ret

/* putdec(%edi) in decimal. Clobbers what puts does. */
putdec:
	pushq	%rbx
	subq	$16, %rsp
	movl	%edi, %eax
	leaq	15(%rsp), %rbx
	movb	$0, (%rbx)
9:	xorl	%edx, %edx
	movl	$10, %ecx
	divl	%ecx
	addb	$'0', %dl
	decq	%rbx
	movb	%dl, (%rbx)
	testl	%eax, %eax
	jnz	9b
	movq	%rbx, %rdi
	call	puts
	addq	$16, %rsp
	popq	%rbx
	ret

/*
 * putc(%dil): waits for the transmitter to be empty, a bounded number of
 * times: with no UART there, the port reads 0xff and we do not wait at all.
 * Clobbers %rax, %rcx, %rdx.
 */
putc:
	movl	$1000000, %ecx
7:	movw	$PURGATORY_SERIAL_PORT + 5, %dx
	inb	%dx, %al
	testb	$0x20, %al
	jnz	8f
	pause
	decl	%ecx
	jnz	7b
8:	movw	$PURGATORY_SERIAL_PORT, %dx
	movl	%edi, %eax
	outb	%al, %dx
	ret

	.section .rodata
hexdigits:
	.ascii	"0123456789abcdef"
msg_ok1:
	.asciz	"crashcap purgatory: "
msg_ok2:
	.asciz	" region digests match, starting the kernel\r\n"
msg_bad1:
	.asciz	"crashcap purgatory: SHA-256 mismatch in region "
msg_bad2:
	.asciz	" at "
msg_bad3:
	.asciz	" (length "
msg_bad4:
	.asciz	"): memory changed since the load, not starting the kernel; halted\r\n"
msg_too_many:
	.asciz	"crashcap purgatory: bad parameter block (too many regions); halted\r\n"

	/*
	 * Selectors 0x10 and 0x18 are what the 64-bit boot protocol names
	 * __BOOT_CS and __BOOT_DS: a 64-bit code segment and a flat data one.
	 * The unused null and 0x08 slots hold the lgdt operand.
	 */
	.data
	.balign	16
gdt:
	.word	0
gdt_limit:
	.word	gdt_end - gdt - 1
gdt_base:
	.quad	0
	.word	0, 0
	.quad	0x00af9a000000ffff
	.quad	0x00cf92000000ffff
gdt_end:

	.bss
	.balign	16
digest:
	.skip	32
	.balign	16
stack:
	.skip	4096
stack_end:

	.section .note.GNU-stack, "", @progbits
