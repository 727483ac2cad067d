/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 (FIPS 180-4) for the purgatory, in plain x86_64 integer code: no
 * SSE state to set up, no compiler that might call memcpy or use a red zone
 * in an environment without a C runtime. It follows the SysV calling
 * convention, so the unit tests call the very same code on the host and
 * compare it with the loader's C implementation.
 *
 *	void purgatory_sha256(const void *data, uint64_t len, uint8_t out[32]);
 *
 * Its working memory (message schedule, state, last blocks) is on the stack:
 * about 500 bytes.
 */

#define FRAME_W 0 /* u32 W[64] */
#define FRAME_STATE 256 /* u32 H[8] */
#define FRAME_PAD 288 /* the one or two final blocks, 128 bytes */
#define FRAME_PTR 416 /* data not hashed yet */
#define FRAME_LEN 424 /* its length */
#define FRAME_OUT 432
#define FRAME_TOTAL 440 /* the whole input's length */
#define FRAME_SIZE 448

	.text
	.code64
	.globl	purgatory_sha256
	.type	purgatory_sha256, @function
purgatory_sha256:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$FRAME_SIZE, %rsp
	movq	%rdi, FRAME_PTR(%rsp)
	movq	%rsi, FRAME_LEN(%rsp)
	movq	%rsi, FRAME_TOTAL(%rsp)
	movq	%rdx, FRAME_OUT(%rsp)

	leaq	sha256_iv(%rip), %rsi
	leaq	FRAME_STATE(%rsp), %rdi
	movl	$8, %ecx
	rep movsl

.Lfull:
	cmpq	$64, FRAME_LEN(%rsp)
	jb	.Ltail
	movq	FRAME_PTR(%rsp), %rsi
	call	sha256_block
	addq	$64, FRAME_PTR(%rsp)
	subq	$64, FRAME_LEN(%rsp)
	jmp	.Lfull

.Ltail:
	leaq	FRAME_PAD(%rsp), %rdi
	xorl	%eax, %eax
	movl	$128, %ecx
	rep stosb
	movq	FRAME_PTR(%rsp), %rsi
	leaq	FRAME_PAD(%rsp), %rdi
	movq	FRAME_LEN(%rsp), %rcx
	rep movsb
	movb	$0x80, (%rdi)
	movq	FRAME_TOTAL(%rsp), %rax
	shlq	$3, %rax
	bswapq	%rax
	/* 56 bytes of tail or more leave no room for the length: two blocks. */
	cmpq	$56, FRAME_LEN(%rsp)
	jae	.Ltwo
	movq	%rax, FRAME_PAD + 56(%rsp)
	leaq	FRAME_PAD(%rsp), %rsi
	call	sha256_block
	jmp	.Lout
.Ltwo:
	movq	%rax, FRAME_PAD + 120(%rsp)
	leaq	FRAME_PAD(%rsp), %rsi
	call	sha256_block
	leaq	FRAME_PAD + 64(%rsp), %rsi
	call	sha256_block

.Lout:
	movq	FRAME_OUT(%rsp), %rdi
	xorl	%ecx, %ecx
1:	movl	FRAME_STATE(%rsp, %rcx, 4), %eax
	bswapl	%eax
	movl	%eax, (%rdi, %rcx, 4)
	incl	%ecx
	cmpl	$8, %ecx
	jb	1b

	addq	$FRAME_SIZE, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret
	.size	purgatory_sha256, . - purgatory_sha256

/*
 * One 64-byte block at %rsi into the caller's state; W and the state live
 * in the caller's frame, 8 bytes up (our return address). Clobbers every
 * general register but %rsp.
 */
	.type	sha256_block, @function
sha256_block:
	leaq	8 + FRAME_W(%rsp), %rbp
	xorl	%ecx, %ecx
2:	movl	(%rsi, %rcx, 4), %eax
	bswapl	%eax
	movl	%eax, (%rbp, %rcx, 4)
	incl	%ecx
	cmpl	$16, %ecx
	jb	2b

	/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16] */
3:	movl	-8(%rbp, %rcx, 4), %eax
	movl	%eax, %ebx
	rorl	$17, %ebx
	movl	%eax, %edx
	rorl	$19, %edx
	xorl	%edx, %ebx
	shrl	$10, %eax
	xorl	%eax, %ebx
	addl	-28(%rbp, %rcx, 4), %ebx
	movl	-60(%rbp, %rcx, 4), %eax
	movl	%eax, %edx
	rorl	$7, %edx
	movl	%eax, %esi
	rorl	$18, %esi
	xorl	%esi, %edx
	shrl	$3, %eax
	xorl	%eax, %edx
	addl	%edx, %ebx
	addl	-64(%rbp, %rcx, 4), %ebx
	movl	%ebx, (%rbp, %rcx, 4)
	incl	%ecx
	cmpl	$64, %ecx
	jb	3b

	/* a..h in %r8d..%r15d */
	leaq	8 + FRAME_STATE(%rsp), %rdi
	movl	0(%rdi), %r8d
	movl	4(%rdi), %r9d
	movl	8(%rdi), %r10d
	movl	12(%rdi), %r11d
	movl	16(%rdi), %r12d
	movl	20(%rdi), %r13d
	movl	24(%rdi), %r14d
	movl	28(%rdi), %r15d
	leaq	sha256_k(%rip), %rsi
	xorl	%ecx, %ecx

4:	/* T1 = h + S1(e) + Ch(e, f, g) + K[t] + W[t], in %eax */
	movl	%r12d, %eax
	rorl	$6, %eax
	movl	%r12d, %edx
	rorl	$11, %edx
	xorl	%edx, %eax
	movl	%r12d, %edx
	rorl	$25, %edx
	xorl	%edx, %eax
	movl	%r13d, %edx
	xorl	%r14d, %edx
	andl	%r12d, %edx
	xorl	%r14d, %edx
	addl	%edx, %eax
	addl	%r15d, %eax
	addl	(%rsi, %rcx, 4), %eax
	addl	(%rbp, %rcx, 4), %eax
	/* T2 = S0(a) + Maj(a, b, c), in %ebx */
	movl	%r8d, %ebx
	rorl	$2, %ebx
	movl	%r8d, %edx
	rorl	$13, %edx
	xorl	%edx, %ebx
	movl	%r8d, %edx
	rorl	$22, %edx
	xorl	%edx, %ebx
	movl	%r8d, %edx
	orl	%r9d, %edx
	andl	%r10d, %edx
	movl	%r8d, %edi
	andl	%r9d, %edi
	orl	%edi, %edx
	addl	%edx, %ebx

	movl	%r14d, %r15d
	movl	%r13d, %r14d
	movl	%r12d, %r13d
	leal	(%r11, %rax), %r12d
	movl	%r10d, %r11d
	movl	%r9d, %r10d
	movl	%r8d, %r9d
	leal	(%rax, %rbx), %r8d
	incl	%ecx
	cmpl	$64, %ecx
	jb	4b

	leaq	8 + FRAME_STATE(%rsp), %rdi
	addl	%r8d, 0(%rdi)
	addl	%r9d, 4(%rdi)
	addl	%r10d, 8(%rdi)
	addl	%r11d, 12(%rdi)
	addl	%r12d, 16(%rdi)
	addl	%r13d, 20(%rdi)
	addl	%r14d, 24(%rdi)
	addl	%r15d, 28(%rdi)
	ret
	.size	sha256_block, . - sha256_block

	.section .rodata
	.balign	16
sha256_iv:
	.long	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a
	.long	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
sha256_k:
	.long	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5
	.long	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5
	.long	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3
	.long	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174
	.long	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc
	.long	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da
	.long	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7
	.long	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967
	.long	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13
	.long	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85
	.long	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3
	.long	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070
	.long	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5
	.long	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3
	.long	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208
	.long	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2

	.section .note.GNU-stack, "", @progbits
