// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VMs table (store.h): one row a VM, written in one statement each,
 * so that a daemon killed at any moment finds every VM it had, with the
 * last state it recorded. References work as Docker's: a name first, else
 * an ID or a unique prefix of one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "manager/store_priv.h"

#define VM_COLUMNS \
	"id, name, image_id, state, created, cpus, memory_mib, disk, config, pid, started, reason"

void store_vm_clear(struct store_vm *vm)
{
	free(vm->disk);
	free(vm->config);
	free(vm->reason);
	memset(vm, 0, sizeof(*vm));
}

void store_vm_list_free(struct store_vm *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_vm_clear(&list[i]);
	free(list);
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static int vm_from_row(sqlite3_stmt *st, struct store_vm *vm, char *err, size_t errlen)
{
	memset(vm, 0, sizeof(*vm));
	snprintf(vm->id, sizeof(vm->id), "%s", col_text(st, 0));
	snprintf(vm->name, sizeof(vm->name), "%s", col_text(st, 1));
	snprintf(vm->image_id, sizeof(vm->image_id), "%s", col_text(st, 2));
	snprintf(vm->state, sizeof(vm->state), "%s", col_text(st, 3));
	vm->created = sqlite3_column_int64(st, 4);
	vm->cpus = (unsigned)sqlite3_column_int(st, 5);
	vm->memory_mib = (uint64_t)sqlite3_column_int64(st, 6);
	vm->disk = store_column_dup(st, 7);
	vm->config = store_column_dup(st, 8);
	vm->pid = sqlite3_column_int(st, 9);
	vm->started = sqlite3_column_int64(st, 10);
	vm->reason = store_column_dup(st, 11);
	if (!vm->disk || !vm->config || !vm->reason) {
		store_vm_clear(vm);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int store_vm_add(struct store *s, const struct store_vm *vm, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO vms (" VM_COLUMNS ") VALUES "
					 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", err, errlen);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, vm->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vm->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, vm->image_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, vm->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, vm->created);
	sqlite3_bind_int(st, 6, (int)vm->cpus);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)vm->memory_mib);
	sqlite3_bind_text(st, 8, vm->disk ? vm->disk : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, vm->config ? vm->config : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, vm->pid);
	sqlite3_bind_int64(st, 11, vm->started);
	sqlite3_bind_text(st, 12, vm->reason ? vm->reason : "", -1, SQLITE_STATIC);
	ret = store_step_done(s, st, err, errlen);
	if (ret == -EEXIST)
		errbuf_set(err, errlen, "the name '%s' is taken by another VM", vm->name);
	return ret;
}

int store_vm_get(struct store *s, const char *id, struct store_vm *out, char *err,
		 size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " VM_COLUMNS " FROM vms WHERE id = ?", err,
					 errlen);
	int rc, ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = vm_from_row(st, out, err, errlen);
	} else if (rc == SQLITE_DONE) {
		errbuf_set(err, errlen, "no VM %.12s", id);
		ret = -ENOENT;
	} else {
		ret = store_db_fail(s, "reading VMs", err, errlen);
	}
	sqlite3_finalize(st);
	return ret;
}

int store_vm_list(struct store *s, struct store_vm **out, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " VM_COLUMNS " FROM vms "
					 "ORDER BY created, name", err, errlen);
	struct store_vm *list = NULL;
	size_t count = 0;
	int rc, ret = 0;

	*out = NULL;
	*n = 0;
	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_vm *l = realloc(list, (count + 1) * sizeof(*l));

		if (!l) {
			errbuf_set(err, errlen, "out of memory");
			ret = -ENOMEM;
			break;
		}
		list = l;
		ret = vm_from_row(st, &list[count], err, errlen);
		if (ret)
			break;
		count++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_db_fail(s, "listing VMs", err, errlen);
	sqlite3_finalize(st);
	if (ret) {
		store_vm_list_free(list, count);
		return ret;
	}
	*out = list;
	*n = count;
	return 0;
}

int store_vm_resolve(struct store *s, const char *ref, char id[STORE_ID_LEN + 1], char *err,
		     size_t errlen)
{
	char like[STORE_ID_LEN + 2], first[13] = "", second[13] = "";
	sqlite3_stmt *st;
	int rc, found = 0;

	id[0] = '\0';
	st = store_prepare(s, "SELECT id FROM vms WHERE name = ?", err, errlen);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(id, STORE_ID_LEN + 1, "%s", col_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_db_fail(s, "reading VMs", err, errlen);
	if (!ref_is_id_prefix(ref)) {
		errbuf_set(err, errlen, "no VM '%s'", ref);
		return -ENOENT;
	}
	snprintf(like, sizeof(like), "%s%%", ref);
	st = store_prepare(s, "SELECT id FROM vms WHERE id LIKE ? ORDER BY id LIMIT 2", err,
			   errlen);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = col_text(st, 0);

		if (found++ == 0) {
			snprintf(id, STORE_ID_LEN + 1, "%s", t);
			snprintf(first, sizeof(first), "%.12s", t);
		} else {
			snprintf(second, sizeof(second), "%.12s", t);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, "reading VMs", err, errlen);
	if (found == 0) {
		errbuf_set(err, errlen, "no VM '%s'", ref);
		return -ENOENT;
	}
	if (found > 1) {
		id[0] = '\0';
		errbuf_set(err, errlen, "'%s' names more than one VM (%s, %s, ...): give more of "
			   "the ID or the name", ref, first, second);
		return -EINVAL;
	}
	return 0;
}

static int changed_one(struct store *s, int ret, const char *id, char *err, size_t errlen)
{
	if (!ret && sqlite3_changes(s->db) == 0) {
		errbuf_set(err, errlen, "no VM %.12s", id);
		ret = -ENOENT;
	}
	return ret;
}

int store_vm_set_state(struct store *s, const char *id, const char *state, int pid,
		       int64_t started, const char *reason, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE vms SET state = ?, pid = ?, started = ?, "
					 "reason = ? WHERE id = ?", err, errlen);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, pid);
	sqlite3_bind_int64(st, 3, started);
	sqlite3_bind_text(st, 4, reason ? reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
	return changed_one(s, store_step_done(s, st, err, errlen), id, err, errlen);
}

int store_vm_remove(struct store *s, const char *id, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "DELETE FROM vms WHERE id = ?", err, errlen);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return changed_one(s, store_step_done(s, st, err, errlen), id, err, errlen);
}

int vm_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || !isalnum((unsigned char)name[0])) {
		errbuf_set(err, errlen, "VM name '%.80s': starts with a letter or digit and has "
			   "1 to 64 characters", name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
			errbuf_set(err, errlen, "VM name '%.80s': only letters, digits, '.', '_' "
				   "and '-'", name);
			return -EINVAL;
		}
	}
	return 0;
}
