// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Motherboard resources (PNP0C02): a DSDT device that claims the address
 * ranges no driver claims but the OS must leave alone. Linux, for one,
 * only uses the ECAM region MCFG names when it is reserved here (or in the
 * E820 map). Devices reserve their ranges while they are realized
 * (dev_reserve_memory()); this device lists them, in that order, after
 * every device is built. It has no registers and nothing to snapshot.
 */
#include <stdint.h>

#include "dev/aml.h"
#include "dev/dev.h"

static void crs_fixed_memory(struct aml_buf *b, uint64_t base, uint64_t size)
{
	if (base + size <= (UINT64_C(1) << 32))
		aml_memory32_fixed(b, true, (uint32_t)base, (uint32_t)size);
	else
		aml_qword_memory(b, AML_CONSUMER, AML_NON_CACHEABLE, true, base, base + size - 1);
}

static void mbrd_write_dsdt(void *state, struct aml_buf *b)
{
	const struct dev_reserved *res = state;

	if (!res->nr)
		return;
	aml_device_begin(b, "MBRD");
	aml_name_eisaid(b, "_HID", "PNP0C02");
	aml_name_integer(b, "_UID", 0);
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	for (unsigned int i = 0; i < res->nr; i++)
		crs_fixed_memory(b, res->range[i].base, res->range[i].size);
	aml_end(b);
	aml_end(b);
}

static int mbrd_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			char *err, size_t errlen)
{
	(void)slice;
	(void)index;
	(void)err;
	(void)errlen;
	*state = &c->reserved; /* filled in by devices realized after this one too */
	return 0;
}

const struct dev_ops mbrd_device = {
	.name = "mbrd",
	.realize = mbrd_realize,
	.write_dsdt = mbrd_write_dsdt,
};
