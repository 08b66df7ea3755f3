// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the input is a snapshot state file, as a restore would
 * read it from a directory someone handed us. The reader must refuse or
 * accept it without a crash or sanitizer report; every section it accepts
 * then goes through every blob decoder (vCPU, irqchip, PIT, clock, memory
 * layout), whatever its name, since names are as untrusted as the rest.
 *
 * Beyond "no crash": accepted sections lie inside the input's copy, names
 * are unique and valid, and a decoded vCPU blob re-encodes to the same
 * bytes (the decoder keeps nothing it does not understand).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu_state.h"
#include "arch/x86/vm_state.h"
#include "base/log.h"
#include "snapshot/memfile.h"
#include "snapshot/snapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_all(const struct snap_section *s)
{
	struct x86_cpu_state cpu;
	struct x86_vm_state vm;
	struct snap_mem_layout layout;
	char err[256];

	if (x86_cpu_state_decode(s->data, s->len, s->name, &cpu, err, sizeof(err)) == 0) {
		void *blob;
		size_t len;

		if (x86_cpu_state_encode(&cpu, &blob, &len) != 0 || len != s->len ||
		    memcmp(blob, s->data, len) != 0)
			abort();
		free(blob);
		x86_cpu_state_free(&cpu);
	}
	x86_irqchip_decode(s->data, s->len, s->name, &vm, err, sizeof(err));
	x86_pit_decode(s->data, s->len, s->name, &vm, err, sizeof(err));
	x86_clock_decode(s->data, s->len, s->name, &vm, err, sizeof(err));
	if (snap_mem_layout_decode(s->data, s->len, s->name, &layout, err, sizeof(err)) == 0 &&
	    snap_mem_layout_ram_size(&layout) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_reader r;
	char err[512];

	if (snap_reader_parse(&r, data, size, "fuzz", err, sizeof(err)) != 0)
		return 0;
	for (unsigned int i = 0; i < r.nsections; i++) {
		const struct snap_section *s = &r.sections[i];

		if (s->data < r.buf || s->data + s->len > r.buf + r.size || !s->name[0] ||
		    snap_reader_find(&r, s->name) != s)
			abort();
		decode_all(s);
	}
	snap_reader_close(&r);
	return 0;
}
