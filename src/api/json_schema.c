// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The walker behind json_schema.h: applies a field table to a JSON object.
 *
 * null counts as absent everywhere (Cloud Hypervisor writes absent options
 * as null). A field in no table is an error, a defined-but-unimplemented
 * one (JS_F_NO) passes only with the value that asks for nothing, and an
 * array is bounded before any element is read. Recursion follows the
 * tables, never the input, except in is_empty_value(), which jansson's own
 * nesting limit (2048) bounds.
 */
#include "api/json_schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int js_bad(struct js_ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* "memory.size: expected an integer", but "payload is required". */
	errbuf_set(c->err, c->errlen, "%s%s%s", c->path,
		   !c->plen ? "" : strncmp(msg, "is ", 3) ? ": " : " ", msg);
	return -EINVAL;
}

size_t js_path_push(struct js_ctx *c, const char *name, long index)
{
	size_t mark = c->plen;
	int n;

	if (index >= 0)
		n = snprintf(c->path + mark, sizeof(c->path) - mark, "[%ld]", index);
	else
		n = snprintf(c->path + mark, sizeof(c->path) - mark, "%s%s", mark ? "." : "",
			     name);
	if (n < 0)
		n = 0;
	c->plen = mark + (size_t)n < sizeof(c->path) ? mark + (size_t)n : sizeof(c->path) - 1;
	c->path[c->plen] = '\0';
	return mark;
}

void js_path_pop(struct js_ctx *c, size_t mark)
{
	c->plen = mark;
	c->path[mark] = '\0';
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static bool type_is(json_t *v, json_type t)
{
	return t == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == t;
}

/* null, false, 0, "", [] or an object of such values. */
static bool is_empty_value(json_t *v)
{
	const char *key;
	json_t *m;

	switch (json_typeof(v)) {
	case JSON_NULL: case JSON_FALSE: return true;
	case JSON_INTEGER: return json_integer_value(v) == 0;
	case JSON_STRING: return json_string_length(v) == 0;
	case JSON_ARRAY: return json_array_size(v) == 0;
	case JSON_OBJECT:
		json_object_foreach(v, key, m)
			if (!is_empty_value(m))
				return false;
		return true;
	default: return false;
	}
}

int js_set_string(struct js_ctx *c, json_t *v, char **dst, bool nonempty)
{
	char *copy;

	if (!json_is_string(v))
		return js_bad(c, "expected a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return js_bad(c, "contains a NUL character");
	if (nonempty && !json_string_length(v))
		return js_bad(c, "must not be empty");
	copy = strdup(json_string_value(v));
	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

int js_get_uint(struct js_ctx *c, json_t *v, uint64_t min, uint64_t max, uint64_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return js_bad(c, "expected an integer");
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return js_bad(c, "%lld is out of range (%llu to %llu)", (long long)i,
			   (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)i;
	return 0;
}

static int check_unsupported(struct js_ctx *c, const struct js_field *f, json_t *v)
{
	json_t *dflt;
	bool same;

	if (!type_is(v, f->type))
		return js_bad(c, "expected %s", type_name(f->type));
	if (!f->dflt)
		return is_empty_value(v) ? 0 : js_bad(c, "is not supported (only null or an empty "
						   "value is accepted)");
	dflt = json_loads(f->dflt, JSON_DECODE_ANY, NULL);
	if (!dflt)
		return -ENOMEM;
	same = json_equal(v, dflt);
	json_decref(dflt);
	return same ? 0 : js_bad(c, "is not supported (only %s is accepted)", f->dflt);
}

static int parse_array(struct js_ctx *c, const struct js_field *f, json_t *v, void *base)
{
	unsigned int *count = (unsigned int *)((char *)base + f->count_off);
	size_t i;
	json_t *item;
	int ret;

	if (!json_is_array(v))
		return js_bad(c, "expected an array");
	if (json_array_size(v) > f->max_elems)
		return js_bad(c, "at most %u entries are supported", f->max_elems);
	json_array_foreach(v, i, item) {
		void *elem = (char *)base + f->off + i * f->elem_size;
		size_t mark = js_path_push(c, NULL, (long)i);

		memset(elem, 0, f->elem_size);
		if (f->init)
			f->init(elem);
		*count = (unsigned int)i + 1; /* so a failure frees what is set */
		ret = json_is_object(item) ? js_parse_object(c, f->sub, item, elem) :
		      js_bad(c, "expected an object (%s)", f->sub->what);
		if (ret < 0)
			return ret;
		js_path_pop(c, mark);
	}
	return 0;
}

static int parse_field(struct js_ctx *c, const struct js_field *f, json_t *v, void *base)
{
	void *dst = (char *)base + f->off;
	uint64_t u;
	int ret;

	switch (f->kind) {
	case JS_F_STR:
		return js_set_string(c, v, dst, f->min > 0);
	case JS_F_BOOL:
		if (!json_is_boolean(v))
			return js_bad(c, "expected a boolean");
		*(bool *)dst = json_is_true(v);
		return 0;
	case JS_F_UINT:
		ret = js_get_uint(c, v, f->min, f->max, &u);
		if (!ret)
			*(unsigned int *)dst = (unsigned int)u;
		return ret;
	case JS_F_OBJ:
		if (!json_is_object(v))
			return js_bad(c, "expected an object (%s)", f->sub->what);
		return js_parse_object(c, f->sub, v, dst);
	case JS_F_ARRAY:
		return parse_array(c, f, v, base);
	case JS_F_FN:
		return f->fn(c, v, base);
	case JS_F_NO:
		return check_unsupported(c, f, v);
	}
	return -EINVAL;
}

int js_parse_object(struct js_ctx *c, const struct js_schema *s, json_t *obj, void *base)
{
	const char *key;
	size_t key_len;
	json_t *v;
	int ret;

	json_object_keylen_foreach(obj, key, key_len, v) {
		const struct js_field *f = NULL;
		size_t mark = js_path_push(c, key, -1);

		if (strlen(key) != key_len)
			return js_bad(c, "field name contains a NUL character");
		for (size_t i = 0; i < s->nr && !f; i++)
			if (!strcmp(s->fields[i].name, key))
				f = &s->fields[i];
		if (!f)
			return js_bad(c, "is not a field of %s", s->what);
		if (!json_is_null(v)) { /* null: as if absent */
			ret = parse_field(c, f, v, base);
			if (ret < 0)
				return ret;
		}
		js_path_pop(c, mark);
	}
	for (size_t i = 0; i < s->nr; i++) {
		json_t *given = json_object_get(obj, s->fields[i].name);

		if (s->fields[i].required && (!given || json_is_null(given))) {
			size_t mark = js_path_push(c, s->fields[i].name, -1);

			ret = js_bad(c, "is required");
			js_path_pop(c, mark);
			return ret;
		}
	}
	return s->check ? s->check(c, base) : 0;
}


int js_parse_body(const char *text, size_t len, const struct js_schema *s, void *base,
		  void *extra, char *err, size_t errlen)
{
	struct js_ctx c = { .err = err, .errlen = errlen, .extra = extra };
	json_error_t jerr;
	json_t *root;
	int ret;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		errbuf_set(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line,
			   jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(root))
		ret = js_bad(&c, "the body must be a JSON object (%s)", s->what);
	else
		ret = js_parse_object(&c, s, root, base);
	if (ret == -ENOMEM)
		errbuf_set(err, errlen, "out of memory");
	json_decref(root);
	return ret;
}

json_t *js_text(const char *s)
{
	json_t *v = json_string(s);
	char *copy;

	if (v || !(copy = strdup(s)))
		return v;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}
