/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small AML (ACPI Machine Language) encoder.
 *
 * The DSDT is AML byte code, and the guest's ACPI interpreter trusts every
 * byte of it, so we want one place that knows the encodings (ACPI 6.x,
 * chapter 20) and a caller that only says what it means.
 *
 * How it works: an append-only byte buffer (struct aml_buf) over memory the
 * caller owns. AML is prefix code, so most helpers just append: an operator
 * helper emits the opcode and the caller then emits its operands in the
 * order the grammar lists them, e.g. Store (GEVT, Local0) is
 *
 *	aml_store(b); aml_namestring(b, "GEVT"); aml_local(b, 0);
 *
 * Objects that carry a PkgLength (Scope, Device, Method, If, Else, Package,
 * Buffer, Field, ResourceTemplate) are opened with a *_begin() helper and
 * closed with aml_end(). The length is only known at aml_end(), which then
 * inserts the 1-4 byte PkgLength (and, for buffers, the BufferSize) in front
 * of the body, shifting it. A resource template's aml_end() also appends the
 * EndTag with its checksum.
 *
 * Errors are sticky: the first failure (-ENOSPC when the buffer is full,
 * -E2BIG when objects nest deeper than AML_MAX_DEPTH, -EINVAL for a bad
 * name, value or an unbalanced aml_end()) is recorded, every later call does
 * nothing, and aml_finish() reports it. Callers can therefore emit a whole
 * table and check once.
 */
#ifndef PHYLLO_DEV_AML_H
#define PHYLLO_DEV_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Deeper than any table we build (Scope > Device > Method > If > ...). */
#define AML_MAX_DEPTH 16

struct aml_open_object {
	size_t body_start;	/* where the PkgLength goes */
	uint8_t kind;		/* enum aml_open_kind in aml.c */
};

struct aml_buf {
	uint8_t *data;
	size_t cap;
	size_t len;
	int err;		/* 0 or the first -errno */
	unsigned int depth;
	struct aml_open_object open[AML_MAX_DEPTH];
};

void aml_init(struct aml_buf *b, void *data, size_t cap);
/* Bytes written, or the first error (-EINVAL if an object is still open). */
ssize_t aml_finish(const struct aml_buf *b);

/* Raw bytes, for encodings without a helper. */
void aml_byte(struct aml_buf *b, uint8_t v);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);

/*
 * PkgLength of an object whose body (everything after the PkgLength) is
 * body_len bytes: the encoded value counts the PkgLength bytes themselves.
 * Writes 1-4 bytes to out and returns how many, or -E2BIG (> 2^28 - 1).
 */
int aml_pkglength_encode(uint8_t out[4], size_t body_len);

/* "PNP0501" -> 0x0105D041, the 32-bit compressed EISA id. 0 or -EINVAL. */
int aml_eisaid_value(const char *id, uint32_t *value);

/* Closes the innermost *_begin() object. */
void aml_end(struct aml_buf *b);

/* ---- names ---- */

/*
 * A NameString: "PCI0", "_SB" (short segments are padded with '_'),
 * "\\_SB.PCI0" (root prefix, dotted segments), "^GED". "\\" alone is the
 * root itself.
 */
void aml_namestring(struct aml_buf *b, const char *path);

/* ---- data objects ---- */

/* Zero/One/Ones or the smallest Byte/Word/DWord/QWord constant. */
void aml_integer(struct aml_buf *b, uint64_t v);
/* Printable ASCII, NUL-terminated in AML. */
void aml_string(struct aml_buf *b, const char *s);
/* EisaId ("PNP0A03"): always a DWord constant, as iasl emits it. */
void aml_eisaid(struct aml_buf *b, const char *id);
/* ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766"): a 16-byte Buffer. */
void aml_uuid(struct aml_buf *b, const char *uuid);
/* Package (n) { ... }: the caller emits exactly n elements. */
void aml_package_begin(struct aml_buf *b, unsigned int nelems);
/* Buffer () { ... }: the caller appends raw bytes with aml_byte(s). */
void aml_buffer_begin(struct aml_buf *b);

/* ---- named objects and scopes ---- */

/* Name (name, <the object the caller emits next>) */
void aml_name(struct aml_buf *b, const char *name);
void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v);
void aml_name_string(struct aml_buf *b, const char *name, const char *s);
void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id);

void aml_scope_begin(struct aml_buf *b, const char *path);
void aml_device_begin(struct aml_buf *b, const char *path);
void aml_method_begin(struct aml_buf *b, const char *path,
		      unsigned int nargs, bool serialized);

enum aml_region_space {
	AML_SYSTEM_MEMORY = 0x00,
	AML_SYSTEM_IO = 0x01,
};
void aml_operation_region(struct aml_buf *b, const char *name,
			  enum aml_region_space space, uint64_t offset,
			  uint64_t len);

enum aml_field_access {
	AML_ANY_ACC = 0, AML_BYTE_ACC = 1, AML_WORD_ACC = 2,
	AML_DWORD_ACC = 3, AML_QWORD_ACC = 4,
};
enum aml_field_update {
	AML_PRESERVE = 0, AML_WRITE_AS_ONES = 1, AML_WRITE_AS_ZEROS = 2,
};
/* Field (region, access, NoLock, update) { units... } */
void aml_field_begin(struct aml_buf *b, const char *region,
		     enum aml_field_access access,
		     enum aml_field_update update);
/* One named unit of bits; "" for an unnamed gap (Offset). */
void aml_field_unit(struct aml_buf *b, const char *name, uint32_t bits);

/* ---- statements and expressions (prefix order, see top of file) ---- */

void aml_if_begin(struct aml_buf *b);		/* then: predicate, body */
void aml_else_begin(struct aml_buf *b);
void aml_return(struct aml_buf *b);		/* then: value */
void aml_store(struct aml_buf *b);		/* then: source, destination */
void aml_and(struct aml_buf *b);		/* then: a, b, target */
void aml_or(struct aml_buf *b);			/* then: a, b, target */
void aml_lequal(struct aml_buf *b);		/* then: a, b */
void aml_lnot(struct aml_buf *b);		/* then: a */
void aml_notify(struct aml_buf *b);		/* then: object, value */
void aml_create_dword_field(struct aml_buf *b);	/* then: buffer, index, name */
void aml_local(struct aml_buf *b, unsigned int n);	/* Local0-7 */
void aml_arg(struct aml_buf *b, unsigned int n);	/* Arg0-6 */
void aml_no_target(struct aml_buf *b);		/* the omitted Target */

/* ---- resource templates (_CRS) ---- */

/* ResourceTemplate () { descriptors... }; aml_end() adds the EndTag. */
void aml_resource_template_begin(struct aml_buf *b);

/* IO (Decode16 or Decode10, min, max, alignment, length) */
void aml_io(struct aml_buf *b, bool decode16, uint16_t min, uint16_t max,
	    uint8_t align, uint8_t len);
/* FixedIO (base, length): 10-bit decode, fixed location. */
void aml_fixed_io(struct aml_buf *b, uint16_t base, uint8_t len);
/* IRQNoFlags () { irq }: ISA IRQ 0-15, edge, active high, exclusive. */
void aml_irq_no_flags(struct aml_buf *b, unsigned int irq);

/* Extended Interrupt descriptor flags (ACPI 6.4.3.6), OR-ed together. */
#define AML_INT_CONSUMER	(1u << 0)	/* else ResourceProducer */
#define AML_INT_EDGE		(1u << 1)	/* else Level */
#define AML_INT_ACTIVE_LOW	(1u << 2)	/* else ActiveHigh */
#define AML_INT_SHARED		(1u << 3)	/* else Exclusive */
#define AML_INT_WAKE		(1u << 4)
/* Interrupt (flags) { gsi }: for GSI numbers above the ISA range. */
void aml_interrupt(struct aml_buf *b, unsigned int flags, uint32_t gsi);

/* Memory32Fixed (ReadWrite or ReadOnly, base, length) */
void aml_memory32_fixed(struct aml_buf *b, bool rw, uint32_t base,
			uint32_t len);

enum aml_usage { AML_PRODUCER = 0, AML_CONSUMER = 1 };
enum aml_cache {
	AML_NON_CACHEABLE = 0, AML_CACHEABLE = 1,
	AML_WRITE_COMBINING = 2, AML_PREFETCHABLE = 3,
};
/*
 * Address space descriptors, all PosDecode, MinFixed, MaxFixed, granularity
 * and translation 0, length max - min + 1: the fixed-window form a host
 * bridge uses for its _CRS. min > max or a length that does not fit the
 * descriptor is -EINVAL.
 */
void aml_word_bus_number(struct aml_buf *b, uint16_t min, uint16_t max);
/* WordIO (ResourceProducer, ..., EntireRange): an I/O window. */
void aml_word_io(struct aml_buf *b, uint16_t min, uint16_t max);
void aml_dword_memory(struct aml_buf *b, enum aml_usage usage,
		      enum aml_cache cache, bool rw, uint32_t min,
		      uint32_t max);
void aml_qword_memory(struct aml_buf *b, enum aml_usage usage,
		      enum aml_cache cache, bool rw, uint64_t min,
		      uint64_t max);

#endif
