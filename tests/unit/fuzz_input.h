/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the script-driven fuzz targets (fuzz_net, fuzz_blk) share: reading
 * the fuzz input a byte at a time (missing bytes read as zero, so every
 * input is a whole script), and checks that name the rule they break.
 */
#ifndef PHYLLO_TESTS_FUZZ_INPUT_H
#define PHYLLO_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A failed check names itself: a crash report then says which rule broke. */
#define check(x)                                                                   \
	do {                                                                       \
		if (!(x)) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
			abort();                                                   \
		}                                                                  \
	} while (0)

struct input {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t get8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint32_t get16(struct input *in)
{
	uint32_t lo = get8(in);

	return lo | (uint32_t)get8(in) << 8;
}

static inline uint32_t get24(struct input *in)
{
	uint32_t lo = get16(in);

	return lo | (uint32_t)get8(in) << 16;
}

#endif
