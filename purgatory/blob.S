/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The flat purgatory image as read-only data in crashcapctl and crashcapd:
 * loader/purgatory.c copies it and patches its parameter block.
 * PURGATORY_BIN is the path of build/purgatory/purgatory.bin.
 */
	.section .rodata.crashcap_purgatory, "a"
	.balign	16
	.globl	crashcap_purgatory_blob
	.globl	crashcap_purgatory_blob_end
crashcap_purgatory_blob:
	.incbin	PURGATORY_BIN
crashcap_purgatory_blob_end:

	.section .note.GNU-stack, "", @progbits
