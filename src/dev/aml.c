// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AML encoder: see aml.h for why it exists and how callers use it.
 *
 * Encodings follow ACPI 6.x chapter 20 (AML grammar) and 6.4 (resource
 * descriptors). The one non-obvious mechanism is the PkgLength: it precedes
 * a body whose size is unknown until the body is done, and it is 1 to 4
 * bytes long depending on that size (and counts its own bytes). Rather than
 * reserve 4 bytes and waste them, *_begin() remembers where the body starts
 * and aml_end() slides the body up by the few bytes the PkgLength needs.
 * Tables are a few KiB, so the memmove costs nothing worth optimising.
 */
#include "dev/aml.h"

#include <errno.h>
#include <string.h>

enum aml_open_kind {
	AML_OPEN_PKG,		/* PkgLength only */
	AML_OPEN_BUFFER,	/* PkgLength, BufferSize */
	AML_OPEN_RESOURCES,	/* EndTag, then as a buffer */
	AML_OPEN_FIELD,		/* PkgLength; only field units inside */
};

/* Opcodes (ACPI 6.x, 20.3) */
#define ZERO_OP		0x00
#define ONE_OP		0x01
#define NAME_OP		0x08
#define BYTE_PREFIX	0x0a
#define WORD_PREFIX	0x0b
#define DWORD_PREFIX	0x0c
#define STRING_PREFIX	0x0d
#define QWORD_PREFIX	0x0e
#define SCOPE_OP	0x10
#define BUFFER_OP	0x11
#define PACKAGE_OP	0x12
#define METHOD_OP	0x14
#define DUAL_NAME_PREFIX	0x2e
#define MULTI_NAME_PREFIX	0x2f
#define EXT_OP_PREFIX	0x5b
#define OP_REGION_OP	0x80	/* after EXT_OP_PREFIX */
#define FIELD_OP	0x81	/* after EXT_OP_PREFIX */
#define DEVICE_OP	0x82	/* after EXT_OP_PREFIX */
#define ROOT_CHAR	'\\'
#define PARENT_PREFIX_CHAR '^'
#define NULL_NAME	0x00
#define LOCAL0_OP	0x60
#define ARG0_OP		0x68
#define STORE_OP	0x70
#define AND_OP		0x7b
#define OR_OP		0x7d
#define NOTIFY_OP	0x86
#define CREATE_DWORD_FIELD_OP 0x8a
#define LNOT_OP		0x92
#define LEQUAL_OP	0x93
#define IF_OP		0xa0
#define ELSE_OP		0xa1
#define RETURN_OP	0xa4
#define ONES_OP		0xff

/* Resource descriptor tags (ACPI 6.x, 6.4.2 and 6.4.3) */
#define RES_IRQ_NO_FLAGS	0x22	/* small item 0x04, length 2 */
#define RES_IO			0x47	/* small item 0x08, length 7 */
#define RES_FIXED_IO		0x4b	/* small item 0x09, length 3 */
#define RES_END_TAG		0x79	/* small item 0x0f, length 1 */
#define RES_MEMORY32_FIXED	0x86
#define RES_DWORD_ADDRESS	0x87
#define RES_WORD_ADDRESS	0x88
#define RES_EXT_INTERRUPT	0x89
#define RES_QWORD_ADDRESS	0x8a

#define ADDR_TYPE_MEMORY	0
#define ADDR_TYPE_IO		1
#define ADDR_TYPE_BUS		2
/* General flags: _MIF and _MAF set, positive decode; bit 0 is the usage. */
#define ADDR_MIN_MAX_FIXED	0x0c
#define ADDR_IO_ENTIRE_RANGE	0x03

#define PKGLENGTH_MAX		((1u << 28) - 1)
#define NAMESEG_LEN		4

static void aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

void aml_init(struct aml_buf *b, void *data, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->data = data;
	b->cap = cap;
}

ssize_t aml_finish(const struct aml_buf *b)
{
	if (b->err)
		return b->err;
	if (b->depth)
		return -EINVAL;
	return (ssize_t)b->len;
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (n > b->cap - b->len) {
		aml_fail(b, -ENOSPC);
		return;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

static void aml_le(struct aml_buf *b, uint64_t v, unsigned int nbytes)
{
	uint8_t out[8];
	unsigned int i;

	for (i = 0; i < nbytes; i++)
		out[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(b, out, nbytes);
}

static void aml_insert(struct aml_buf *b, size_t pos, const uint8_t *p,
		       size_t n)
{
	if (b->err)
		return;
	if (n > b->cap - b->len) {
		aml_fail(b, -ENOSPC);
		return;
	}
	memmove(b->data + pos + n, b->data + pos, b->len - pos);
	memcpy(b->data + pos, p, n);
	b->len += n;
}

/* ---- PkgLength ---- */

/* value in exactly nbytes bytes; the caller checked that it fits. */
static void pkglength_write(uint8_t out[4], uint32_t value, int nbytes)
{
	int i;

	if (nbytes == 1) {
		out[0] = (uint8_t)value;
		return;
	}
	/* Lead byte: count of following bytes in bits 7:6, low nibble. */
	out[0] = (uint8_t)(((nbytes - 1) << 6) | (value & 0x0f));
	for (i = 1; i < nbytes; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
}

static uint32_t pkglength_max(int nbytes)
{
	return nbytes == 1 ? 63 : (1u << (4 + 8 * (nbytes - 1))) - 1;
}

/* A bare length that does not count itself, as field units use it. */
static int pkglength_encode_value(uint8_t out[4], uint32_t value)
{
	int n;

	for (n = 1; n <= 4; n++) {
		if (value <= pkglength_max(n)) {
			pkglength_write(out, value, n);
			return n;
		}
	}
	return -E2BIG;
}

int aml_pkglength_encode(uint8_t out[4], size_t body_len)
{
	int n;

	for (n = 1; n <= 4; n++) {
		if (body_len <= pkglength_max(n) - n) {
			pkglength_write(out, (uint32_t)body_len + n, n);
			return n;
		}
	}
	return -E2BIG;
}

/* ---- opening and closing objects ---- */

static void aml_open(struct aml_buf *b, enum aml_open_kind kind)
{
	if (b->err)
		return;
	if (b->depth >= AML_MAX_DEPTH) {
		aml_fail(b, -E2BIG);
		return;
	}
	b->open[b->depth].body_start = b->len;
	b->open[b->depth].kind = kind;
	b->depth++;
}

static bool aml_inside(struct aml_buf *b, enum aml_open_kind kind)
{
	if (b->err)
		return false;
	if (!b->depth || b->open[b->depth - 1].kind != kind) {
		aml_fail(b, -EINVAL);
		return false;
	}
	return true;
}

static size_t integer_encode(uint8_t out[9], uint64_t v)
{
	size_t n, i;

	if (v == 0) {
		out[0] = ZERO_OP;
		return 1;
	}
	if (v == 1) {
		out[0] = ONE_OP;
		return 1;
	}
	if (v == UINT64_MAX) {
		out[0] = ONES_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = BYTE_PREFIX;
		n = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = WORD_PREFIX;
		n = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = QWORD_PREFIX;
		n = 8;
	}
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

/* The EndTag checksum makes the template's bytes sum to zero (6.4.2.9). */
static void end_resource_template(struct aml_buf *b, size_t start)
{
	uint8_t sum = RES_END_TAG;
	size_t i;

	for (i = start; i < b->len; i++)
		sum += b->data[i];
	aml_byte(b, RES_END_TAG);
	aml_byte(b, (uint8_t)-sum);
}

void aml_end(struct aml_buf *b)
{
	struct aml_open_object *o;
	uint8_t prefix[9];
	size_t body_len;
	int n;

	if (b->err)
		return;
	if (!b->depth) {
		aml_fail(b, -EINVAL);
		return;
	}
	o = &b->open[--b->depth];
	if (o->kind == AML_OPEN_RESOURCES)
		end_resource_template(b, o->body_start);
	if (o->kind == AML_OPEN_RESOURCES || o->kind == AML_OPEN_BUFFER) {
		body_len = b->len - o->body_start;
		aml_insert(b, o->body_start, prefix,
			   integer_encode(prefix, body_len));
	}
	n = aml_pkglength_encode(prefix, b->len - o->body_start);
	if (n < 0) {
		aml_fail(b, n);
		return;
	}
	aml_insert(b, o->body_start, prefix, (size_t)n);
}

/* ---- names ---- */

static bool nameseg_char_ok(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return true;
	return !first && c >= '0' && c <= '9';
}

/*
 * Parses the segment at *p (up to '.' or the end), pads it to four chars in
 * seg, and moves *p past it. -EINVAL for an empty, long or bad segment.
 */
static int nameseg_parse(const char **p, char seg[NAMESEG_LEN])
{
	size_t i = 0;

	while (**p && **p != '.') {
		if (i == NAMESEG_LEN || !nameseg_char_ok(**p, i == 0))
			return -EINVAL;
		seg[i++] = *(*p)++;
	}
	if (!i)
		return -EINVAL;
	for (; i < NAMESEG_LEN; i++)
		seg[i] = '_';
	return 0;
}

/* Validates path and counts its segments; returns the count or -EINVAL. */
static int namepath_segments(const char *path)
{
	char seg[NAMESEG_LEN];
	int count = 0;

	if (!*path)
		return 0;
	for (;;) {
		if (nameseg_parse(&path, seg))
			return -EINVAL;
		count++;
		if (!*path)
			return count;
		path++;	/* the '.' */
	}
}

void aml_namestring(struct aml_buf *b, const char *path)
{
	bool prefixed = false;
	char seg[NAMESEG_LEN];
	int nsegs;

	if (b->err)
		return;
	if (*path == ROOT_CHAR) {
		aml_byte(b, ROOT_CHAR);
		path++;
		prefixed = true;
	} else {
		for (; *path == PARENT_PREFIX_CHAR; path++) {
			aml_byte(b, PARENT_PREFIX_CHAR);
			prefixed = true;
		}
	}
	nsegs = namepath_segments(path);
	if (nsegs < 0 || nsegs > UINT8_MAX || (!nsegs && !prefixed)) {
		aml_fail(b, -EINVAL);
		return;
	}
	if (nsegs == 0)
		aml_byte(b, NULL_NAME);
	else if (nsegs == 2)
		aml_byte(b, DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(b, MULTI_NAME_PREFIX);
		aml_byte(b, (uint8_t)nsegs);
	}
	while (nsegs--) {
		nameseg_parse(&path, seg);
		aml_bytes(b, seg, NAMESEG_LEN);
		if (*path == '.')
			path++;
	}
}

/* ---- data objects ---- */

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t out[9];

	aml_bytes(b, out, integer_encode(out, v));
}

void aml_string(struct aml_buf *b, const char *s)
{
	const char *c;

	for (c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	aml_byte(b, STRING_PREFIX);
	aml_bytes(b, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int aml_eisaid_value(const char *id, uint32_t *value)
{
	uint8_t letter[3], bytes[4];
	int i, h[4];

	if (strlen(id) != 7)
		return -EINVAL;
	/* Three letters, 5 bits each ('A' is 1), then four hex digits. */
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		letter[i] = (uint8_t)(id[i] - '@');
	}
	for (i = 0; i < 4; i++) {
		h[i] = hex_digit(id[3 + i]);
		if (h[i] < 0 || (id[3 + i] >= 'a' && id[3 + i] <= 'f'))
			return -EINVAL;
	}
	bytes[0] = (uint8_t)((letter[0] << 2) | (letter[1] >> 3));
	bytes[1] = (uint8_t)(((letter[1] & 0x7) << 5) | letter[2]);
	bytes[2] = (uint8_t)((h[0] << 4) | h[1]);
	bytes[3] = (uint8_t)((h[2] << 4) | h[3]);
	*value = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
		 (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
	return 0;
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint32_t value;

	if (aml_eisaid_value(id, &value)) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, DWORD_PREFIX);
	aml_le(b, value, 4);
}

/*
 * ToUUID byte order: the first three groups are little-endian numbers, the
 * last two are bytes in the order written.
 */
static int uuid_parse(const char *s, uint8_t out[16])
{
	static const uint8_t order[16] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15,
	};
	uint8_t text_order[16];
	int i = 0, hi, lo;

	if (strlen(s) != 36)
		return -EINVAL;
	while (*s) {
		if (*s == '-') {
			s++;
			continue;
		}
		if (i == 16)
			return -EINVAL;
		hi = hex_digit(s[0]);
		lo = hex_digit(s[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		text_order[i++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	if (i != 16)
		return -EINVAL;
	for (i = 0; i < 16; i++)
		out[i] = text_order[order[i]];
	return 0;
}

void aml_uuid(struct aml_buf *b, const char *uuid)
{
	uint8_t bytes[16];

	if (uuid_parse(uuid, bytes)) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_buffer_begin(b);
	aml_bytes(b, bytes, sizeof(bytes));
	aml_end(b);
}

void aml_package_begin(struct aml_buf *b, unsigned int nelems)
{
	if (nelems > UINT8_MAX) {	/* would need VarPackage */
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, PACKAGE_OP);
	aml_open(b, AML_OPEN_PKG);
	aml_byte(b, (uint8_t)nelems);
}

void aml_buffer_begin(struct aml_buf *b)
{
	aml_byte(b, BUFFER_OP);
	aml_open(b, AML_OPEN_BUFFER);
}

/* ---- named objects and scopes ---- */

void aml_name(struct aml_buf *b, const char *name)
{
	aml_byte(b, NAME_OP);
	aml_namestring(b, name);
}

void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v)
{
	aml_name(b, name);
	aml_integer(b, v);
}

void aml_name_string(struct aml_buf *b, const char *name, const char *s)
{
	aml_name(b, name);
	aml_string(b, s);
}

void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id)
{
	aml_name(b, name);
	aml_eisaid(b, id);
}

void aml_scope_begin(struct aml_buf *b, const char *path)
{
	aml_byte(b, SCOPE_OP);
	aml_open(b, AML_OPEN_PKG);
	aml_namestring(b, path);
}

void aml_device_begin(struct aml_buf *b, const char *path)
{
	aml_byte(b, EXT_OP_PREFIX);
	aml_byte(b, DEVICE_OP);
	aml_open(b, AML_OPEN_PKG);
	aml_namestring(b, path);
}

void aml_method_begin(struct aml_buf *b, const char *path,
		      unsigned int nargs, bool serialized)
{
	if (nargs > 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, METHOD_OP);
	aml_open(b, AML_OPEN_PKG);
	aml_namestring(b, path);
	/* MethodFlags: ArgCount 2:0, SerializeFlag 3, SyncLevel 7:4 = 0 */
	aml_byte(b, (uint8_t)(nargs | (serialized ? 1u << 3 : 0)));
}

void aml_operation_region(struct aml_buf *b, const char *name,
			  enum aml_region_space space, uint64_t offset,
			  uint64_t len)
{
	aml_byte(b, EXT_OP_PREFIX);
	aml_byte(b, OP_REGION_OP);
	aml_namestring(b, name);
	aml_byte(b, (uint8_t)space);
	aml_integer(b, offset);
	aml_integer(b, len);
}

void aml_field_begin(struct aml_buf *b, const char *region,
		     enum aml_field_access access,
		     enum aml_field_update update)
{
	aml_byte(b, EXT_OP_PREFIX);
	aml_byte(b, FIELD_OP);
	aml_open(b, AML_OPEN_FIELD);
	aml_namestring(b, region);
	/* FieldFlags: AccessType 3:0, LockRule 4 = NoLock, UpdateRule 6:5 */
	aml_byte(b, (uint8_t)(access | update << 5));
}

void aml_field_unit(struct aml_buf *b, const char *name, uint32_t bits)
{
	const char *p = name;
	char seg[NAMESEG_LEN];
	uint8_t len[4];
	int n;

	if (!aml_inside(b, AML_OPEN_FIELD))
		return;
	n = pkglength_encode_value(len, bits);
	if (n < 0) {
		aml_fail(b, n);
		return;
	}
	if (!*name) {
		aml_byte(b, 0x00);	/* ReservedField */
	} else {
		if (nameseg_parse(&p, seg) || *p) {
			aml_fail(b, -EINVAL);
			return;
		}
		aml_bytes(b, seg, NAMESEG_LEN);
	}
	aml_bytes(b, len, (size_t)n);
}

/* ---- statements and expressions ---- */

void aml_if_begin(struct aml_buf *b)
{
	aml_byte(b, IF_OP);
	aml_open(b, AML_OPEN_PKG);
}

void aml_else_begin(struct aml_buf *b)
{
	aml_byte(b, ELSE_OP);
	aml_open(b, AML_OPEN_PKG);
}

void aml_return(struct aml_buf *b) { aml_byte(b, RETURN_OP); }
void aml_store(struct aml_buf *b) { aml_byte(b, STORE_OP); }
void aml_and(struct aml_buf *b) { aml_byte(b, AND_OP); }
void aml_or(struct aml_buf *b) { aml_byte(b, OR_OP); }
void aml_lequal(struct aml_buf *b) { aml_byte(b, LEQUAL_OP); }
void aml_lnot(struct aml_buf *b) { aml_byte(b, LNOT_OP); }
void aml_notify(struct aml_buf *b) { aml_byte(b, NOTIFY_OP); }
void aml_no_target(struct aml_buf *b) { aml_byte(b, NULL_NAME); }

void aml_create_dword_field(struct aml_buf *b)
{
	aml_byte(b, CREATE_DWORD_FIELD_OP);
}

void aml_local(struct aml_buf *b, unsigned int n)
{
	if (n > 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, (uint8_t)(LOCAL0_OP + n));
}

void aml_arg(struct aml_buf *b, unsigned int n)
{
	if (n > 6) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, (uint8_t)(ARG0_OP + n));
}

/* ---- resource templates ---- */

void aml_resource_template_begin(struct aml_buf *b)
{
	aml_byte(b, BUFFER_OP);
	aml_open(b, AML_OPEN_RESOURCES);
}

void aml_io(struct aml_buf *b, bool decode16, uint16_t min, uint16_t max,
	    uint8_t align, uint8_t len)
{
	if (!aml_inside(b, AML_OPEN_RESOURCES))
		return;
	if (min > max) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_IO);
	aml_byte(b, decode16 ? 1 : 0);
	aml_le(b, min, 2);
	aml_le(b, max, 2);
	aml_byte(b, align);
	aml_byte(b, len);
}

void aml_fixed_io(struct aml_buf *b, uint16_t base, uint8_t len)
{
	if (!aml_inside(b, AML_OPEN_RESOURCES))
		return;
	if (base > 0x3ff) {	/* 10-bit decode */
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_FIXED_IO);
	aml_le(b, base, 2);
	aml_byte(b, len);
}

void aml_irq_no_flags(struct aml_buf *b, unsigned int irq)
{
	if (!aml_inside(b, AML_OPEN_RESOURCES))
		return;
	if (irq > 15) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_IRQ_NO_FLAGS);
	aml_le(b, 1u << irq, 2);
}

void aml_interrupt(struct aml_buf *b, unsigned int flags, uint32_t gsi)
{
	const unsigned int known = AML_INT_CONSUMER | AML_INT_EDGE |
				   AML_INT_ACTIVE_LOW | AML_INT_SHARED |
				   AML_INT_WAKE;

	if (!aml_inside(b, AML_OPEN_RESOURCES))
		return;
	if (flags & ~known) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_EXT_INTERRUPT);
	aml_le(b, 6, 2);	/* flags, count, one 32-bit interrupt */
	aml_byte(b, (uint8_t)flags);
	aml_byte(b, 1);
	aml_le(b, gsi, 4);
}

void aml_memory32_fixed(struct aml_buf *b, bool rw, uint32_t base,
			uint32_t len)
{
	if (!aml_inside(b, AML_OPEN_RESOURCES))
		return;
	aml_byte(b, RES_MEMORY32_FIXED);
	aml_le(b, 9, 2);
	aml_byte(b, rw ? 1 : 0);
	aml_le(b, base, 4);
	aml_le(b, len, 4);
}

/*
 * Word/DWord/QWord address space descriptor (6.4.3.5): the three differ
 * only in the width of granularity, min, max, translation and length.
 */
static void address_space(struct aml_buf *b, unsigned int width,
			  uint8_t type, uint8_t general_flags,
			  uint8_t type_flags, uint64_t min, uint64_t max)
{
	static const struct {
		uint8_t tag;
		uint16_t len;	/* bytes after the length field */
	} form[] = {
		[2] = { RES_WORD_ADDRESS, 13 },
		[4] = { RES_DWORD_ADDRESS, 23 },
		[8] = { RES_QWORD_ADDRESS, 43 },
	};
	uint64_t width_max = width == 8 ? UINT64_MAX :
			     (UINT64_C(1) << (8 * width)) - 1;
	uint64_t len = max - min + 1;

	if (!aml_inside(b, AML_OPEN_RESOURCES))
		return;
	/* len == 0 means the range wrapped: it covers the whole space. */
	if (min > max || max > width_max || len == 0 || len > width_max) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, form[width].tag);
	aml_le(b, form[width].len, 2);
	aml_byte(b, type);
	aml_byte(b, general_flags);
	aml_byte(b, type_flags);
	aml_le(b, 0, width);		/* granularity */
	aml_le(b, min, width);
	aml_le(b, max, width);
	aml_le(b, 0, width);		/* translation offset */
	aml_le(b, len, width);
}

void aml_word_bus_number(struct aml_buf *b, uint16_t min, uint16_t max)
{
	address_space(b, 2, ADDR_TYPE_BUS, ADDR_MIN_MAX_FIXED | AML_PRODUCER,
		      0, min, max);
}

void aml_word_io(struct aml_buf *b, uint16_t min, uint16_t max)
{
	address_space(b, 2, ADDR_TYPE_IO, ADDR_MIN_MAX_FIXED | AML_PRODUCER,
		      ADDR_IO_ENTIRE_RANGE, min, max);
}

/* Memory type-specific flags: _RW bit 0, _MEM 2:1; AddressRangeMemory. */
static uint8_t memory_flags(enum aml_cache cache, bool rw)
{
	return (uint8_t)((rw ? 1 : 0) | (cache & 3) << 1);
}

void aml_dword_memory(struct aml_buf *b, enum aml_usage usage,
		      enum aml_cache cache, bool rw, uint32_t min,
		      uint32_t max)
{
	address_space(b, 4, ADDR_TYPE_MEMORY, ADDR_MIN_MAX_FIXED | usage,
		      memory_flags(cache, rw), min, max);
}

void aml_qword_memory(struct aml_buf *b, enum aml_usage usage,
		      enum aml_cache cache, bool rw, uint64_t min,
		      uint64_t max)
{
	address_space(b, 8, ADDR_TYPE_MEMORY, ADDR_MIN_MAX_FIXED | usage,
		      memory_flags(cache, rw), min, max);
}
