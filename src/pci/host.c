// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The PCI root in the device registry: the VM builds the root bus before
 * any device (pci.c), and this entry is how the root takes part in what
 * the registry does for every device. It reserves ECAM for the
 * motherboard device and writes the root bridge into the DSDT, so the
 * OS finds the bus, its config ports and the windows BARs live in.
 */
#include <stdint.h>

#include "dev/aml.h"
#include "dev/dev.h"
#include "pci/pci.h"

/* PCI Firmware Specification 3.3, 4.5.1: the PCI host bridge _OSC. */
#define PCI_OSC_UUID "33db4d5b-1ff7-401c-9657-7441c03dd766"
#define OSC_UNRECOGNIZED_UUID (1u << 2)

/*
 * Windows are ResourceProducer, fixed, and NonCacheable: Linux marks a
 * prefetchable window IORESOURCE_PREFETCH and then will not claim a
 * non-prefetchable BAR the VMM placed there, so both windows accept any BAR.
 * 0xcf8-0xcff is consumed by the bridge itself, hence a plain IO descriptor.
 */
static void host_crs(struct aml_buf *b, const struct pci_root *root)
{
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_word_bus_number(b, 0, 0);
	aml_io(b, true, PCI_CF8_PORT, PCI_CF8_PORT, 1, PCI_CF8_PORTS);
	if (root->mmio32_end > root->mmio32_base)
		aml_dword_memory(b, AML_PRODUCER, AML_NON_CACHEABLE, true,
				 (uint32_t)root->mmio32_base, (uint32_t)(root->mmio32_end - 1));
	if (root->mmio64_end > root->mmio64_base)
		aml_qword_memory(b, AML_PRODUCER, AML_NON_CACHEABLE, true, root->mmio64_base,
				 root->mmio64_end - 1);
	aml_end(b);
}

/*
 * There is no firmware that could own PCIe hotplug, AER, PME or the like,
 * so the OS gets whatever it asks for: Arg3 comes back with the control
 * DWORD as requested. Any other UUID is answered "unrecognized".
 *
 *	CreateDWordField (Arg3, Zero, CDW1)
 *	If (!(Arg0 == ToUUID (PCI_OSC_UUID))) { CDW1 |= 4 }
 *	Return (Arg3)
 */
static void host_osc(struct aml_buf *b)
{
	aml_method_begin(b, "_OSC", 4, false);
	aml_create_dword_field(b);
	aml_arg(b, 3);
	aml_integer(b, 0);
	aml_namestring(b, "CDW1");

	aml_if_begin(b);
	aml_lnot(b);
	aml_lequal(b);
	aml_arg(b, 0);
	aml_uuid(b, PCI_OSC_UUID);
	aml_or(b);
	aml_namestring(b, "CDW1");
	aml_integer(b, OSC_UNRECOGNIZED_UUID);
	aml_namestring(b, "CDW1");
	aml_end(b);

	aml_return(b);
	aml_arg(b, 3);
	aml_end(b);
}

/* A PCI Express root bridge (PNP0A08) that also matches PCI drivers. */
static void host_write_dsdt(void *state, struct aml_buf *b)
{
	const struct pci_root *root = state;

	aml_device_begin(b, "PCI0");
	aml_name_eisaid(b, "_HID", "PNP0A08");
	aml_name_eisaid(b, "_CID", "PNP0A03");
	aml_name_integer(b, "_SEG", 0);
	aml_name_integer(b, "_UID", 0);
	aml_name_integer(b, "_BBN", 0);
	host_crs(b, root);
	host_osc(b);
	aml_end(b);
}

static int host_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			char *err, size_t errlen)
{
	(void)slice;
	(void)index;
	(void)err;
	(void)errlen;
	*state = NULL;
	if (!c->pci)
		return 0; /* a board without PCI */
	*state = c->pci;
	/* Linux only uses ECAM when MCFG's region is reserved (PNP0C02 or E820). */
	return dev_reserve_memory(c, c->pci->ecam_base, PCI_ECAM_BUS0_SIZE);
}

const struct dev_ops pci_host_device = {
	.name = "pci-host",
	.realize = host_realize,
	.write_dsdt = host_write_dsdt,
};
