// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ACPI tables for a directly booted x86 guest: see acpi.h for what they
 * describe and why the FADT is HW-reduced.
 *
 * How it works: one pass over the caller's buffer with a bump allocator.
 * Slots for the RSDP, XSDT and FADT are taken first (fixed sizes), then the
 * DSDT (AML, built in place by aml.c), MADT and MCFG are written after them;
 * the pointer tables are filled last, once every address is known, and each
 * table's checksum is computed after its last field is written. The DSDT's
 * devices are the registry's (each writes its own objects, dev/dev.h);
 * this file writes only the frame around them and the sleep states. Tables are
 * packed structs with explicit little-endian stores and size asserts, so
 * the layout is the spec's and not the compiler's.
 *
 * Spec version: ACPI 6.3 (FADT 6.3, MADT revision 5); nothing newer is used.
 */
#include "arch/x86/acpi.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dev/aml.h"
#include "base/log.h"

#define ACPI_OEM_ID		"PHYLLO"
#define ACPI_OEM_TABLE_ID	"PHYLLOME"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"PHYL"
#define ACPI_CREATOR_REVISION	1
#define ACPI_HYPERVISOR_VENDOR	"PHYLLOME"

#define ACPI_TABLE_ALIGN	8
#define ACPI_RSDP_ALIGN		16	/* Linux scans 0xe0000 in 16-byte steps */
#define ACPI_MAX_CPUS		255	/* xAPIC IDs 0-254; 255 is broadcast */
#define ECAM_BUS_SHIFT		20	/* 1 MiB of config space per bus */

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI table header");

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;	/* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
#define ACPI_RSDP_V1_LEN	20

/* Generic Address Structure (5.2.3.2) */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_GAS_ACCESS_BYTE	1

/* FADT, revision 6 (5.2.9); fields HW-reduced ACPI ignores stay zero. */
struct acpi_fadt {
	struct acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor_id[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT");
#define ACPI_FADT_REVISION	6
#define ACPI_FADT_MINOR_VERSION	3

/* FADT flags (5.2.9.1) */
#define FADT_F_WBINVD		(1u << 0)
#define FADT_F_PWR_BUTTON	(1u << 4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	(1u << 5)	/* no fixed sleep button */
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_F_HW_REDUCED_ACPI	(1u << 20)

/* IA-PC boot architecture flags (5.2.9.3) */
#define IAPC_LEGACY_DEVICES	(1u << 0)
#define IAPC_8042		(1u << 1)
#define IAPC_VGA_NOT_PRESENT	(1u << 2)
#define IAPC_MSI_NOT_SUPPORTED	(1u << 3)
#define IAPC_PCIE_ASPM_CONTROLS	(1u << 4)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/*
 * SCI_INT is ignored in HW-reduced mode (there is no SCI; the GED has its
 * own interrupt in its _CRS). It must still not be 0: Linux compares every
 * interrupt source override's source with SCI_INT and would take our IRQ0
 * (PIT) override for the SCI's. 9 is the PC convention, and we give no
 * override for it.
 */
#define FADT_SCI_INT		9

struct acpi_madt {
	struct acpi_header header;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
#define ACPI_MADT_REVISION	5
#define MADT_PCAT_COMPAT	(1u << 0)	/* we have the 8259 pair */

struct madt_lapic {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC");
#define MADT_TYPE_LAPIC		0
#define MADT_LAPIC_ENABLED	(1u << 0)

struct madt_ioapic {
	uint8_t type;
	uint8_t length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC");
#define MADT_TYPE_IOAPIC	1

struct madt_int_override {
	uint8_t type;
	uint8_t length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_int_override) == 10, "MADT ISO");
#define MADT_TYPE_INT_OVERRIDE	2
#define MADT_BUS_ISA		0

struct madt_lapic_nmi {
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT LAPIC NMI");
#define MADT_TYPE_LAPIC_NMI	4
#define MADT_ALL_PROCESSORS	0xff

/* MPS INTI flags (5.2.12.5): polarity bits 1:0, trigger mode bits 3:2 */
#define MPS_INTI_ACTIVE_HIGH	0x1
#define MPS_INTI_EDGE		(0x1 << 2)

struct acpi_mcfg {
	struct acpi_header header;
	uint8_t reserved[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG");

struct mcfg_allocation {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct mcfg_allocation) == 16, "MCFG allocation");

/* A bump allocator over the caller's buffer. */
struct acpi_builder {
	uint8_t *buf;
	size_t len;
	size_t used;
};

/* Reserves size zeroed bytes at the next aligned offset; -ENOSPC. */
static ssize_t builder_alloc(struct acpi_builder *ab, size_t size,
			     size_t align)
{
	size_t off = (ab->used + align - 1) & ~(align - 1);

	if (off > ab->len || size > ab->len - off)
		return -ENOSPC;
	memset(ab->buf + off, 0, size);
	ab->used = off + size;
	return (ssize_t)off;
}

static uint8_t acpi_checksum(const void *p, size_t n)
{
	const uint8_t *byte = p;
	uint8_t sum = 0;

	while (n--)
		sum += *byte++;
	return (uint8_t)-sum;
}

static void header_init(struct acpi_header *h, const char *signature,
			uint32_t length, uint8_t revision)
{
	memcpy(h->signature, signature, sizeof(h->signature));
	h->length = htole32(length);
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h->oem_table_id));
	h->oem_revision = htole32(ACPI_OEM_REVISION);
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = htole32(ACPI_CREATOR_REVISION);
}

/* Last step for each table: every other byte must be final. */
static void header_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, le32toh(h->length));
}

static struct acpi_gas gas_io8(uint16_t port)
{
	struct acpi_gas gas = {
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = htole64(port),
	};

	return gas;
}

/* ---- layout checks ---- */

static uint64_t ecam_start(const struct acpi_layout *l)
{
	return l->pci_ecam_base + ((uint64_t)l->pci_bus_start << ECAM_BUS_SHIFT);
}

static uint64_t ecam_size(const struct acpi_layout *l)
{
	return (uint64_t)(l->pci_bus_end - l->pci_bus_start + 1) << ECAM_BUS_SHIFT;
}

static int check_pci(const struct acpi_layout *l)
{
	if (!l->pci_ecam_base) {
		if (l->pci_bus_start || l->pci_bus_end) {
			pr_err("acpi: pci_* fields set but pci_ecam_base is 0");
			return -EINVAL;
		}
		return 0;
	}
	if (l->pci_ecam_base & ((1u << ECAM_BUS_SHIFT) - 1)) {
		pr_err("acpi: pci_ecam_base %#llx is not 1 MiB aligned",
		       (unsigned long long)l->pci_ecam_base);
		return -EINVAL;
	}
	if (l->pci_bus_start > l->pci_bus_end) {
		pr_err("acpi: pci_bus_start %u > pci_bus_end %u",
		       l->pci_bus_start, l->pci_bus_end);
		return -EINVAL;
	}
	if (ecam_start(l) + ecam_size(l) - 1 < l->pci_ecam_base) {
		pr_err("acpi: pci_ecam_base %#llx: ECAM wraps around",
		       (unsigned long long)l->pci_ecam_base);
		return -EINVAL;
	}
	return 0;
}

static int check_layout(const struct acpi_layout *l, uint64_t gpa,
			size_t len)
{
	if (!l->ncpus || l->ncpus > ACPI_MAX_CPUS) {
		pr_err("acpi: ncpus %u is not in 1-%u", l->ncpus, ACPI_MAX_CPUS);
		return -EINVAL;
	}
	if (!l->ioapic_addr || !l->lapic_addr) {
		pr_err("acpi: ioapic_addr and lapic_addr are required");
		return -EINVAL;
	}
	/* Linux does not use ACPI power-off without both sleep registers. */
	if (!l->sleep_ctl_port || !l->sleep_sts_port || !l->reset_port) {
		pr_err("acpi: sleep_ctl_port, sleep_sts_port and reset_port are required");
		return -EINVAL;
	}
	if (gpa % ACPI_RSDP_ALIGN || gpa + len < gpa) {
		pr_err("acpi: table address %#llx is not 16-byte aligned or wraps",
		       (unsigned long long)gpa);
		return -EINVAL;
	}
	return check_pci(l);
}

/* ---- DSDT ---- */

/* \_S5_: Linux takes SLP_TYPa (the first element) for SLEEP_CONTROL_REG. */
static void dsdt_sleep_states(struct aml_buf *b)
{
	aml_name(b, "_S5");
	aml_package_begin(b, 2);
	aml_integer(b, ACPI_S5_SLP_TYP);	/* SLP_TYPa */
	aml_integer(b, 0);			/* SLP_TYPb, unused */
	aml_end(b);
}

static void dsdt_body(struct aml_buf *b, const struct acpi_layout *l)
{
	dsdt_sleep_states(b);
	aml_scope_begin(b, "\\_SB");
	if (l->write_devices)
		l->write_devices(b, l->opaque);
	aml_end(b);
}

static ssize_t build_dsdt(struct acpi_builder *ab, const struct acpi_layout *l)
{
	struct acpi_header *h;
	struct aml_buf aml;
	ssize_t off, body;

	off = builder_alloc(ab, sizeof(*h), ACPI_TABLE_ALIGN);
	if (off < 0)
		return off;
	h = (struct acpi_header *)(ab->buf + off);
	aml_init(&aml, ab->buf + ab->used, ab->len - ab->used);
	dsdt_body(&aml, l);
	body = aml_finish(&aml);
	if (body < 0)
		return body;
	ab->used += (size_t)body;
	/* Revision 2: integers are 64 bits wide. */
	header_init(h, "DSDT", (uint32_t)(sizeof(*h) + (size_t)body), 2);
	header_seal(h);
	return off;
}

/* ---- MADT, MCFG ---- */

static void madt_add_cpus(uint8_t *p, unsigned int ncpus)
{
	struct madt_lapic *lapic = (struct madt_lapic *)p;
	unsigned int i;

	for (i = 0; i < ncpus; i++, lapic++) {
		lapic->type = MADT_TYPE_LAPIC;
		lapic->length = sizeof(*lapic);
		lapic->processor_uid = (uint8_t)i;
		lapic->apic_id = (uint8_t)i;
		lapic->flags = htole32(MADT_LAPIC_ENABLED);
	}
}

/*
 * One enabled LAPIC per vCPU, the IOAPIC at GSI 0, the PIT's IRQ0 -> GSI2
 * override (what the IOAPIC wiring of every PC since the 440FX does), and
 * LINT1 as NMI on all processors.
 */
static ssize_t build_madt(struct acpi_builder *ab, const struct acpi_layout *l)
{
	size_t size = sizeof(struct acpi_madt) +
		      l->ncpus * sizeof(struct madt_lapic) +
		      sizeof(struct madt_ioapic) +
		      sizeof(struct madt_int_override) +
		      sizeof(struct madt_lapic_nmi);
	struct madt_int_override *iso;
	struct madt_lapic_nmi *nmi;
	struct madt_ioapic *ioapic;
	struct acpi_madt *madt;
	ssize_t off;
	uint8_t *p;

	off = builder_alloc(ab, size, ACPI_TABLE_ALIGN);
	if (off < 0)
		return off;
	madt = (struct acpi_madt *)(ab->buf + off);
	madt->lapic_addr = htole32(l->lapic_addr);
	madt->flags = htole32(MADT_PCAT_COMPAT);
	p = (uint8_t *)(madt + 1);

	madt_add_cpus(p, l->ncpus);
	p += l->ncpus * sizeof(struct madt_lapic);

	ioapic = (struct madt_ioapic *)p;
	ioapic->type = MADT_TYPE_IOAPIC;
	ioapic->length = sizeof(*ioapic);
	ioapic->ioapic_id = l->ioapic_id;
	ioapic->address = htole32(l->ioapic_addr);
	ioapic->gsi_base = htole32(0);
	p += sizeof(*ioapic);

	iso = (struct madt_int_override *)p;
	iso->type = MADT_TYPE_INT_OVERRIDE;
	iso->length = sizeof(*iso);
	iso->bus = MADT_BUS_ISA;
	iso->source = 0;
	iso->gsi = htole32(2);
	iso->flags = htole16(MPS_INTI_ACTIVE_HIGH | MPS_INTI_EDGE);
	p += sizeof(*iso);

	nmi = (struct madt_lapic_nmi *)p;
	nmi->type = MADT_TYPE_LAPIC_NMI;
	nmi->length = sizeof(*nmi);
	nmi->processor_uid = MADT_ALL_PROCESSORS;
	nmi->flags = htole16(MPS_INTI_ACTIVE_HIGH | MPS_INTI_EDGE);
	nmi->lint = 1;

	header_init(&madt->header, "APIC", (uint32_t)size, ACPI_MADT_REVISION);
	header_seal(&madt->header);
	return off;
}

static ssize_t build_mcfg(struct acpi_builder *ab, const struct acpi_layout *l)
{
	size_t size = sizeof(struct acpi_mcfg) + sizeof(struct mcfg_allocation);
	struct mcfg_allocation *alloc;
	struct acpi_mcfg *mcfg;
	ssize_t off;

	off = builder_alloc(ab, size, ACPI_TABLE_ALIGN);
	if (off < 0)
		return off;
	mcfg = (struct acpi_mcfg *)(ab->buf + off);
	alloc = (struct mcfg_allocation *)(mcfg + 1);
	alloc->base = htole64(l->pci_ecam_base);
	alloc->segment = htole16(0);
	alloc->bus_start = l->pci_bus_start;
	alloc->bus_end = l->pci_bus_end;
	header_init(&mcfg->header, "MCFG", (uint32_t)size, 1);
	header_seal(&mcfg->header);
	return off;
}

/* ---- FADT, XSDT, RSDP ---- */

/*
 * IAPC_BOOT_ARCH: we have ISA devices needing drivers (COM1, RTC) and an
 * 8042 (which Linux then probes through the PS2K entry; reset works either
 * way, Linux's reboot=k path pokes port 0x64 directly), no VGA, and no ASPM
 * to manage. MSI stays allowed (MSI-X is how PCI devices interrupt) and
 * CMOS_RTC_NOT_PRESENT stays clear so Linux keeps using the RTC at 0x70.
 */
static void fill_fadt(struct acpi_fadt *fadt, const struct acpi_layout *l,
		      uint64_t dsdt_gpa)
{
	/* Both DSDT fields, equal, while the 32-bit one can hold it. */
	if (dsdt_gpa <= UINT32_MAX)
		fadt->dsdt = htole32((uint32_t)dsdt_gpa);
	fadt->x_dsdt = htole64(dsdt_gpa);
	fadt->sci_int = htole16(FADT_SCI_INT);
	fadt->iapc_boot_arch = htole16(IAPC_LEGACY_DEVICES | IAPC_8042 |
				       IAPC_VGA_NOT_PRESENT |
				       IAPC_PCIE_ASPM_CONTROLS);
	/*
	 * PWR_BUTTON/SLP_BUTTON set mean "no fixed-feature button": the power
	 * button, when there is one, is the PNP0C0C control method device.
	 */
	fadt->flags = htole32(FADT_F_WBINVD | FADT_F_PWR_BUTTON |
			      FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP |
			      FADT_F_HW_REDUCED_ACPI);
	fadt->reset_reg = gas_io8(l->reset_port);
	fadt->reset_value = l->reset_value;
	fadt->minor_version = ACPI_FADT_MINOR_VERSION;
	fadt->sleep_control_reg = gas_io8(l->sleep_ctl_port);
	fadt->sleep_status_reg = gas_io8(l->sleep_sts_port);
	memcpy(fadt->hypervisor_vendor_id, ACPI_HYPERVISOR_VENDOR,
	       sizeof(fadt->hypervisor_vendor_id));
	header_init(&fadt->header, "FACP", sizeof(*fadt), ACPI_FADT_REVISION);
	header_seal(&fadt->header);
}

static void fill_xsdt(struct acpi_header *xsdt, const uint64_t *entries,
		      unsigned int n)
{
	uint8_t *p = (uint8_t *)(xsdt + 1);
	unsigned int i;
	uint64_t le;

	for (i = 0; i < n; i++) {
		le = htole64(entries[i]);
		memcpy(p + i * sizeof(le), &le, sizeof(le));
	}
	header_init(xsdt, "XSDT", (uint32_t)(sizeof(*xsdt) + n * sizeof(le)), 1);
	header_seal(xsdt);
}

/* Revision 2 with only the XSDT: tables may sit above 4 GiB. */
static void fill_rsdp(struct acpi_rsdp *rsdp, uint64_t xsdt_gpa)
{
	memcpy(rsdp->signature, "RSD PTR ", sizeof(rsdp->signature));
	memcpy(rsdp->oem_id, ACPI_OEM_ID, sizeof(rsdp->oem_id));
	rsdp->revision = 2;
	rsdp->length = htole32(sizeof(*rsdp));
	rsdp->xsdt_address = htole64(xsdt_gpa);
	rsdp->checksum = acpi_checksum(rsdp, ACPI_RSDP_V1_LEN);
	rsdp->extended_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
}

ssize_t acpi_build_tables(void *buf, uint64_t gpa, size_t len,
			  const struct acpi_layout *l)
{
	struct acpi_builder ab = { .buf = buf, .len = len };
	ssize_t rsdp, xsdt, fadt, dsdt, madt, mcfg;
	unsigned int nentries = 0;
	uint64_t entries[3];	/* FADT, MADT, MCFG */
	int ret;

	ret = check_layout(l, gpa, len);
	if (ret)
		return ret;
	rsdp = builder_alloc(&ab, sizeof(struct acpi_rsdp), ACPI_RSDP_ALIGN);
	if (rsdp < 0)
		return rsdp;
	xsdt = builder_alloc(&ab, sizeof(struct acpi_header) +
			     (l->pci_ecam_base ? 3 : 2) * sizeof(uint64_t),
			     ACPI_TABLE_ALIGN);
	if (xsdt < 0)
		return xsdt;
	fadt = builder_alloc(&ab, sizeof(struct acpi_fadt), ACPI_TABLE_ALIGN);
	if (fadt < 0)
		return fadt;
	dsdt = build_dsdt(&ab, l);
	if (dsdt < 0)
		return dsdt;
	madt = build_madt(&ab, l);
	if (madt < 0)
		return madt;
	entries[nentries++] = gpa + (uint64_t)fadt;
	entries[nentries++] = gpa + (uint64_t)madt;
	if (l->pci_ecam_base) {
		mcfg = build_mcfg(&ab, l);
		if (mcfg < 0)
			return mcfg;
		entries[nentries++] = gpa + (uint64_t)mcfg;
	}
	fill_fadt((struct acpi_fadt *)(ab.buf + fadt), l, gpa + (uint64_t)dsdt);
	fill_xsdt((struct acpi_header *)(ab.buf + xsdt), entries, nentries);
	fill_rsdp((struct acpi_rsdp *)(ab.buf + rsdp), gpa + (uint64_t)xsdt);
	return (ssize_t)ab.used;
}
