// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The x86 state blobs without KVM: a vCPU's state and the VM's irqchip,
 * PIT and clock encode and decode to the same bytes, go through a state
 * file under their section names, and damaged or foreign blobs are refused
 * with a message naming the section. (tests/e2e/snapshot_selftest.c takes
 * them through a real KVM.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/cpu_state.h"
#include "arch/x86/vm_state.h"
#include "snap_test.h"

static void scribble(void *p, size_t len, unsigned int seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

static void sample_cpu(struct x86_cpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->flags = X86_CPU_STATE_XSAVE | X86_CPU_STATE_XCRS;
	st->tsc_khz = 2995200;
	scribble(&st->regs, sizeof(st->regs), 1);
	scribble(&st->sregs, sizeof(st->sregs), 2);
	scribble(&st->fpu, sizeof(st->fpu), 3);
	scribble(&st->xcrs, sizeof(st->xcrs), 4);
	st->xcrs.nr_xcrs = 1;
	scribble(&st->debugregs, sizeof(st->debugregs), 5);
	scribble(&st->lapic, sizeof(st->lapic), 6);
	scribble(&st->events, sizeof(st->events), 7);
	st->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
	st->nmsrs = 3;
	st->msrs = calloc(3, sizeof(st->msrs[0]));
	st->msrs[0] = (struct kvm_msr_entry){ .index = 0x10, .data = 123456789 };
	st->msrs[1] = (struct kvm_msr_entry){ .index = 0xc0000082, .data = 0xffffffff81000000ull };
	st->msrs[2] = (struct kvm_msr_entry){ .index = 0x6e0, .data = 0 };
	st->ncpuid = 2;
	st->cpuid = calloc(2, sizeof(st->cpuid[0]));
	scribble(st->cpuid, 2 * sizeof(st->cpuid[0]), 8);
	st->xsave_size = 4096;
	st->xsave = malloc(4096);
	scribble(st->xsave, 4096, 9);
}

static void assert_cpu_equal(const struct x86_cpu_state *a, const struct x86_cpu_state *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->tsc_khz, b->tsc_khz);
	assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
	assert_memory_equal(&a->sregs, &b->sregs, sizeof(a->sregs));
	assert_memory_equal(&a->fpu, &b->fpu, sizeof(a->fpu));
	assert_memory_equal(&a->xcrs, &b->xcrs, sizeof(a->xcrs));
	assert_memory_equal(&a->debugregs, &b->debugregs, sizeof(a->debugregs));
	assert_memory_equal(&a->lapic, &b->lapic, sizeof(a->lapic));
	assert_memory_equal(&a->events, &b->events, sizeof(a->events));
	assert_int_equal(a->mp_state.mp_state, b->mp_state.mp_state);
	assert_int_equal(a->nmsrs, b->nmsrs);
	assert_memory_equal(a->msrs, b->msrs, a->nmsrs * sizeof(a->msrs[0]));
	assert_int_equal(a->ncpuid, b->ncpuid);
	assert_memory_equal(a->cpuid, b->cpuid, a->ncpuid * sizeof(a->cpuid[0]));
	assert_int_equal(a->xsave_size, b->xsave_size);
	assert_memory_equal(a->xsave, b->xsave, a->xsave_size);
}

static void test_cpu_roundtrip(void **state)
{
	struct x86_cpu_state st, got;
	char err[256];
	uint64_t v;
	size_t len;
	void *blob;

	(void)state;
	sample_cpu(&st);
	assert_int_equal(x86_cpu_state_encode(&st, &blob, &len), 0);
	assert_int_equal(len, 2528 + 3 * 16 + 2 * 40 + 4096);
	assert_int_equal(x86_cpu_state_decode(blob, len, "vcpu", &got, err, sizeof(err)), 0);
	assert_cpu_equal(&st, &got);
	assert_true(x86_cpu_state_msr(&got, 0xc0000082, &v));
	assert_int_equal(v, 0xffffffff81000000ull);
	assert_false(x86_cpu_state_msr(&got, 0x1b, &v));
	x86_cpu_state_free(&got);
	free(blob);

	/* Without XSAVE: only the legacy FPU view. */
	free(st.xsave);
	st.xsave = NULL;
	st.xsave_size = 0;
	st.flags = 0;
	assert_int_equal(x86_cpu_state_encode(&st, &blob, &len), 0);
	assert_int_equal(x86_cpu_state_decode(blob, len, "vcpu", &got, err, sizeof(err)), 0);
	assert_cpu_equal(&st, &got);
	assert_null(got.xsave);
	x86_cpu_state_free(&got);
	free(blob);
	x86_cpu_state_free(&st);
}

/* Change a u32 field of the fixed part and expect decode to refuse it. */
static void expect_refused(const void *blob, size_t len, size_t field, uint32_t value,
			   int expected, const char *words)
{
	struct x86_cpu_state got;
	unsigned char *copy = malloc(len);
	char err[256] = "";

	memcpy(copy, blob, len);
	memcpy(copy + field, &value, 4);
	assert_int_equal(x86_cpu_state_decode(copy, len, "section 'vcpu.3'", &got, err,
					      sizeof(err)), expected);
	assert_non_null(strstr(err, "section 'vcpu.3'"));
	assert_non_null(strstr(err, words));
	free(copy);
}

static void test_cpu_damage(void **state)
{
	struct x86_cpu_state st, got;
	char err[256];
	size_t len;
	void *blob;

	(void)state;
	sample_cpu(&st);
	assert_int_equal(x86_cpu_state_encode(&st, &blob, &len), 0);
	for (size_t n = 0; n < len; n += (n < 64 ? 1 : 61))
		assert_true(x86_cpu_state_decode(blob, n, "v", &got, err, sizeof(err)) < 0);
	/* Offsets: kind 0, version 4, size 8, flags 12, tsc_khz 16, nmsrs 20,
	 * ncpuid 24, xsave_size 28. */
	expect_refused(blob, len, 0, 0x58585858, -EBADMSG, "no VCPU state");
	expect_refused(blob, len, 4, 2, -ENOTSUP, "version 2 is newer");
	expect_refused(blob, len, 8, (uint32_t)len + 8, -EBADMSG, "its header says");
	expect_refused(blob, len, 12, 0x80 | X86_CPU_STATE_XSAVE, -EBADMSG, "damaged");
	expect_refused(blob, len, 12, X86_CPU_STATE_XCRS, -EBADMSG, "damaged"); /* XSAVE bytes, no flag */
	expect_refused(blob, len, 20, 4, -EBADMSG, "add up");
	expect_refused(blob, len, 20, 100000, -EBADMSG, "damaged");
	expect_refused(blob, len, 24, 1, -EBADMSG, "add up");
	expect_refused(blob, len, 28, 100, -EBADMSG, "damaged");
	free(blob);
	x86_cpu_state_free(&st);
}

static void sample_vm(struct x86_vm_state *st)
{
	memset(st, 0, sizeof(*st));
	scribble(st, sizeof(*st), 11);
	st->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	st->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	st->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	for (int i = 0; i < 3; i++) {
		st->pit.channels[i].mode = 2;
		st->pit.channels[i].read_state = 3;
		st->pit.channels[i].write_state = 3;
		st->pit.channels[i].rw_mode = 3;
	}
	st->pit.flags = KVM_PIT_FLAGS_SPEAKER_DATA_ON;
}

static void test_files(void **state)
{
	struct x86_cpu_state cpu, cpu_got;
	struct x86_vm_state vm, vm_got;
	struct snap_writer w;
	struct snap_reader r;
	char *dir = scratch_dir(), err[256] = "", *path;

	(void)state;
	sample_cpu(&cpu);
	sample_vm(&vm);
	assert_int_equal(snap_writer_open(&w, dir, "state", err, sizeof(err)), 0);
	assert_int_equal(x86_cpu_state_write(&cpu, 0, &w, err, sizeof(err)), 0);
	assert_int_equal(x86_cpu_state_write(&cpu, 1, &w, err, sizeof(err)), 0);
	assert_int_equal(x86_vm_state_write(&vm, &w, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);

	assert_int_equal(asprintf(&path, "%s/state", dir) > 0, 1);
	assert_int_equal(snap_reader_open(&r, path, 0, err, sizeof(err)), 0);
	assert_non_null(snap_reader_find(&r, "vcpu.1"));
	assert_non_null(snap_reader_find(&r, "irqchip"));
	assert_non_null(snap_reader_find(&r, "pit"));
	assert_non_null(snap_reader_find(&r, "clock"));
	assert_int_equal(x86_cpu_state_read(&r, 1, &cpu_got, err, sizeof(err)), 0);
	assert_cpu_equal(&cpu, &cpu_got);
	x86_cpu_state_free(&cpu_got);
	assert_int_equal(x86_cpu_state_read(&r, 2, &cpu_got, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no section 'vcpu.2'"));
	assert_int_equal(x86_vm_state_read(&r, &vm_got, err, sizeof(err)), 0);
	assert_memory_equal(&vm, &vm_got, sizeof(vm));
	/* A section of the wrong kind names itself. */
	assert_int_equal(x86_cpu_state_decode(snap_reader_find(&r, "pit")->data,
					      snap_reader_find(&r, "pit")->len, "section 'pit'",
					      &cpu_got, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "section 'pit': holds no VCPU state"));
	snap_reader_close(&r);
	x86_cpu_state_free(&cpu);
	free(path);
	scratch_remove(dir);
}

static void test_vm_damage(void **state)
{
	unsigned char buf[X86_IRQCHIP_BLOB_SIZE + 8];
	struct x86_vm_state vm, got;
	char err[256];
	size_t len;

	(void)state;
	sample_vm(&vm);
	len = x86_irqchip_encode(&vm, buf);
	assert_int_equal(len, X86_IRQCHIP_BLOB_SIZE);
	assert_int_equal(x86_irqchip_decode(buf, len, "irq", &got, err, sizeof(err)), 0);
	buf[16 + 520] = 7; /* the second chip is no PIC slave */
	assert_int_equal(x86_irqchip_decode(buf, len, "irq", &got, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "PIC slave"));
	assert_int_equal(x86_pit_decode(buf, len, "irq", &got, err, sizeof(err)), -EBADMSG);

	len = x86_pit_encode(&vm, buf);
	assert_int_equal(x86_pit_decode(buf, len, "pit", &got, err, sizeof(err)), 0);
	assert_true(x86_pit_decode(buf, len - 1, "pit", &got, err, sizeof(err)) < 0);
	vm.pit.channels[1].mode = 7;
	len = x86_pit_encode(&vm, buf);
	assert_int_equal(x86_pit_decode(buf, len, "pit", &got, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "channel 1"));

	len = x86_clock_encode(&vm, buf);
	assert_int_equal(len, X86_CLOCK_BLOB_SIZE);
	assert_int_equal(x86_clock_decode(buf, len, "clock", &got, err, sizeof(err)), 0);
	assert_int_equal(got.clock.clock, vm.clock.clock);
	buf[4] = 9; /* version 9 */
	assert_int_equal(x86_clock_decode(buf, len, "clock", &got, err, sizeof(err)), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_roundtrip),
		cmocka_unit_test(test_cpu_damage),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_vm_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
