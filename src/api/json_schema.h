/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Table-driven reading of JSON request bodies into C structs.
 *
 * Each JSON object type of the API contract is a table (struct js_schema)
 * listing every field the contract defines: how we store it (a string,
 * boolean or bounded integer at an offset in the C struct, a nested object,
 * an array of objects, or a function for the odd ones), or JS_F_NO:
 * "defined by the contract, not implemented", with the one value we still
 * accept. One walker, js_parse_object(), applies a table to an object, so a
 * field missing from the table is refused, and every error starts with the
 * field's full path ("disks[1].readonly: expected a boolean").
 */
#ifndef PHYLLO_API_JSON_SCHEMA_H
#define PHYLLO_API_JSON_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

struct js_ctx {
	char *err;
	size_t errlen;
	char path[192]; /* the field being read, e.g. "disks[1].queue_size" */
	size_t plen;
	void *extra;    /* the caller's scratch state, for its check functions */
};

enum js_kind {
	JS_F_STR,   /* char * at off (.min = 1: must not be empty) */
	JS_F_BOOL,  /* bool at off */
	JS_F_UINT,  /* unsigned int at off, from .min to .max */
	JS_F_OBJ,   /* an object described by .sub; its C struct is at base + off */
	JS_F_ARRAY, /* .sub objects: .max_elems C structs of .elem_size at off, count at .count_off */
	JS_F_FN,    /* .fn reads it */
	JS_F_NO,    /* defined, not implemented: accepts null, .dflt, or without .dflt "empty" */
};

struct js_schema;

struct js_field {
	const char *name;
	enum js_kind kind;
	size_t off;
	uint64_t min, max;
	const struct js_schema *sub;
	size_t elem_size, count_off;
	unsigned int max_elems;
	void (*init)(void *elem); /* JS_F_ARRAY: an element's defaults */
	int (*fn)(struct js_ctx *c, json_t *v, void *base);
	json_type type;   /* JS_F_NO: the contract's type (JSON_TRUE: a boolean) */
	const char *dflt; /* JS_F_NO: JSON text of the contract's default */
	bool required;    /* absent or null is an error */
};

struct js_schema {
	const char *what; /* the contract's name for the object, for messages */
	const struct js_field *fields;
	size_t nr;
	int (*check)(struct js_ctx *c, void *base); /* after all fields were read */
};

#define JS_SCHEMA(what_, f, chk) { .what = what_, .fields = f, .nr = ARRAY_SIZE(f), .check = chk }
#define JS_STR(n, T, m, ...) { .name = n, .kind = JS_F_STR, .off = offsetof(T, m), __VA_ARGS__ }
#define JS_BOOL(n, T, m) { .name = n, .kind = JS_F_BOOL, .off = offsetof(T, m) }
#define JS_UINT(n, T, m, lo, hi) \
	{ .name = n, .kind = JS_F_UINT, .off = offsetof(T, m), .min = lo, .max = hi }
#define JS_OBJ(n, offset, s, ...) \
	{ .name = n, .kind = JS_F_OBJ, .off = offset, .sub = s, __VA_ARGS__ }
#define JS_FN(n, f, ...) { .name = n, .kind = JS_F_FN, .fn = f, __VA_ARGS__ }
#define JS_NO(n, t, d) { .name = n, .kind = JS_F_NO, .type = JSON_##t, .dflt = d }
#define JS_NO_BOOL(n, d) JS_NO(n, TRUE, d)

/* Format "<path>: <message>" into c->err ("<path> is ..." for a message
 * starting with "is "); returns -EINVAL. */
int js_bad(struct js_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Descend into field name (index < 0) or array element index; returns
 * the mark to give js_path_pop(). */
size_t js_path_push(struct js_ctx *c, const char *name, long index);
void js_path_pop(struct js_ctx *c, size_t mark);
int js_get_uint(struct js_ctx *c, json_t *v, uint64_t min, uint64_t max, uint64_t *out);
int js_set_string(struct js_ctx *c, json_t *v, char **dst, bool nonempty);
int js_parse_object(struct js_ctx *c, const struct js_schema *s, json_t *obj, void *base);
/* Parse text as one JSON object (duplicate keys refused) and apply s to
 * base. Returns 0, -EINVAL or -ENOMEM, with err set. */
int js_parse_body(const char *text, size_t len, const struct js_schema *s, void *base,
		  void *extra, char *err, size_t errlen);
/* A JSON string for s; bytes that are not UTF-8 (a path may hold them)
 * become '?', since jansson refuses them. NULL when out of memory. */
json_t *js_text(const char *s);

#endif
