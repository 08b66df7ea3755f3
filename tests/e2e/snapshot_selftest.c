// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * snapshot-selftest: the snapshot building blocks against a real KVM.
 *
 * A VM as phyllo-vmm makes it (in-kernel irqchip and PIT, the VMM's CPUID
 * and vCPU start state, private anonymous RAM) with two vCPUs runs a small
 * 64-bit guest on vCPU 0 (vCPU 1 stays waiting for a SIPI, as an AP does).
 * The guest programs the PIC and PIT (IRQ0, 100 Hz) and its x2APIC timer
 * (periodic, 100 Hz), counts interrupts of each in memory, and loops:
 * count in RBX, store it, add an SSE constant kept in XMM1, store that, OUT
 * the count to port 0x10. So a resumed guest proves its general registers,
 * SSE state, interrupt controllers, timers and memory all came back.
 *
 *   snapshot-selftest save DIR       run, stop mid-way, save into DIR
 *   snapshot-selftest restore DIR    build a fresh VM from DIR, compare the
 *                                    state KVM reads back, run on: the first
 *                                    OUT must be the saved count + 1
 *   snapshot-selftest roundtrip DIR  both in one process
 *   snapshot-selftest corrupt DIR SECTION   flip a byte in a section
 *
 * Exit 0 when all held; otherwise 1 and a line naming what did not.
 * SNAPSHOT_SELFTEST_TRACE=1 names each restore step on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/cpu_state.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "arch/x86/vm_state.h"
#include "base/log.h"
#include "snapshot/memfile.h"
#include "snapshot/snapfile.h"
#include "base/memory.h"

#define NR_VCPUS 2
#define RAM_SIZE (64ull << 20)
#define GDT 0x1000
#define IDT 0x2000
#define PML4 0x3000
#define DATA 0x6000 /* count, PIT ticks, LAPIC ticks, count + XMM1 */
#define STACK_TOP 0x8000
#define CODE 0x10000
#define PATTERN_PAGE (48ull << 20)
#define XMM_CONSTANT 0x1234567890abcdefull
#define OUT_PORT 0x10
#define TRAP_PORT 0x11
#define RUN_COUNT 1000 /* OUTs, at least, before saving and after restoring */
#define RUN_TICKS 5    /* interrupts of each timer, at least, likewise */

/* Our own MSR values, set before the first run, checked after restore. */
static const struct kvm_msr_entry marked_msrs[] = {
	{ .index = 0xc0000082, .data = 0xffffffff81234560ull }, /* LSTAR */
	{ .index = 0xc0000102, .data = 0x00007f0012345000ull }, /* KERNEL_GS_BASE */
	{ .index = 0x176, .data = 0x8100abcdull }, /* SYSENTER_EIP (32 bits on AMD) */
	{ .index = 0x277, .data = 0x0007010600070106ull },      /* PAT */
};

/* The guest, assembled with this program; copied to CODE. */
__asm__(".pushsection .rodata\n"
	".code64\n"
	".globl guest_start, guest_end, guest_isr_pit, guest_isr_lapic\n"
	".globl guest_isr_spurious, guest_isr_trap\n"
	"guest_start:\n"
	/* 8259 pair: ICW1-4, vectors 0x20/0x28, only IRQ0 unmasked */
	"  mov $0x11, %al; out %al, $0x20; mov $0x20, %al; out %al, $0x21\n"
	"  mov $0x04, %al; out %al, $0x21; mov $0x01, %al; out %al, $0x21\n"
	"  mov $0x11, %al; out %al, $0xa0; mov $0x28, %al; out %al, $0xa1\n"
	"  mov $0x02, %al; out %al, $0xa1; mov $0x01, %al; out %al, $0xa1\n"
	"  mov $0xfe, %al; out %al, $0x21; mov $0xff, %al; out %al, $0xa1\n"
	/* 8254 channel 0: rate generator, 1193182 / 11932 = 100 Hz */
	"  mov $0x34, %al; out %al, $0x43; mov $0x9c, %al; out %al, $0x40\n"
	"  mov $0x2e, %al; out %al, $0x40\n"
	/* x2APIC on; enabled, spurious vector 0xff; timer: divide 1,
	 * periodic, vector 0x30, 10,000,000 bus cycles (10 ms in KVM) */
	"  mov $0x1b, %ecx; rdmsr; or $0xc00, %eax; wrmsr\n"
	"  xor %edx, %edx\n"
	"  mov $0x80f, %ecx; mov $0x1ff, %eax; wrmsr\n"
	"  mov $0x83e, %ecx; mov $0xb, %eax; wrmsr\n"
	"  mov $0x832, %ecx; mov $0x20030, %eax; wrmsr\n"
	"  mov $0x838, %ecx; mov $10000000, %eax; wrmsr\n"
	"  mov $0x1234567890abcdef, %rax; movq %rax, %xmm1\n"
	"  sti\n"
	"1:inc %rbx\n"
	"  mov %rbx, 0x6000\n"
	"  movq %rbx, %xmm0; paddq %xmm1, %xmm0; movq %xmm0, 0x6018\n"
	"  mov %ebx, %eax; out %eax, $0x10\n"
	"  jmp 1b\n"
	"guest_isr_pit:\n"
	"  push %rax; incq 0x6008; mov $0x20, %al; out %al, $0x20; pop %rax; iretq\n"
	"guest_isr_lapic:\n"
	"  push %rax; push %rcx; push %rdx; incq 0x6010\n"
	"  mov $0x80b, %ecx; xor %eax, %eax; xor %edx, %edx; wrmsr\n"
	"  pop %rdx; pop %rcx; pop %rax; iretq\n"
	"guest_isr_spurious:\n"
	"  iretq\n"
	"guest_isr_trap:\n"
	"  out %eax, $0x11; 2: hlt; jmp 2b\n"
	"guest_end:\n"
	".popsection\n");
extern const uint8_t guest_start[], guest_end[], guest_isr_pit[], guest_isr_lapic[],
	guest_isr_spurious[], guest_isr_trap[];

struct box {
	int kvm, vm, run_size;
	struct guest_mem mem;
	int vcpu[NR_VCPUS];
	struct kvm_run *run[NR_VCPUS];
	struct kvm_cpuid2 *cpuid;
	struct x86_cpu_caps caps;
};

/* What the guest had done when saved: a section of its own, like a device's. */
struct progress {
	uint64_t count, pit_ticks, lapic_ticks, clock_ns, tsc;
};

static char err[1024];
static bool tracing; /* SNAPSHOT_SELFTEST_TRACE=1: name each step on stderr */

static void step(const char *what)
{
	if (tracing)
		fprintf(stderr, "snapshot-selftest: %s\n", what);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("snapshot-selftest: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = "snapshot-selftest: FAIL: time limit (the guest stopped exiting?)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t *guest_u64(struct box *b, uint64_t gpa)
{
	return guest_mem_ptr(&b->mem, gpa, 8);
}

/* A VM the way phyllo-vmm builds one (src/vmm/vm.c, vcpu.c). */
static void box_create(struct box *b, uint64_t ram)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	int ret;

	memset(b, 0, sizeof(*b));
	b->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (b->kvm < 0)
		die("open /dev/kvm: %s", strerror(errno));
	b->vm = ioctl(b->kvm, KVM_CREATE_VM, 0);
	b->run_size = ioctl(b->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (b->vm < 0 || b->run_size <= 0 ||
	    ioctl(b->vm, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0 ||
	    ioctl(b->vm, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 ||
	    ioctl(b->vm, KVM_CREATE_IRQCHIP, 0) < 0 || ioctl(b->vm, KVM_CREATE_PIT2, &pit) < 0)
		die("creating the VM: %s", strerror(errno));
	ret = guest_mem_init_opts(&b->mem, ram, false);
	if (ret == 0)
		ret = guest_mem_register(&b->mem, b->vm);
	if (ret < 0)
		die("guest RAM: %s", strerror(-ret));
	b->cpuid = cpuid_get_supported(b->kvm, &ret);
	if (!b->cpuid)
		die("KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
	for (int i = 0; i < NR_VCPUS; i++) {
		struct kvm_cpuid2 *c = cpuid_for_vcpu(b->cpuid, (unsigned int)i, NR_VCPUS);

		b->vcpu[i] = ioctl(b->vm, KVM_CREATE_VCPU, (unsigned long)i);
		if (b->vcpu[i] < 0 || !c || ioctl(b->vcpu[i], KVM_SET_CPUID2, c) < 0)
			die("creating vCPU %d: %s", i, strerror(errno));
		free(c);
		b->run[i] = mmap(NULL, (size_t)b->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 b->vcpu[i], 0);
		if (b->run[i] == MAP_FAILED)
			die("mmap kvm_run: %s", strerror(errno));
		ret = x86_vcpu_init_common(b->vcpu[i]);
		if (ret < 0)
			die("vCPU %d start state: %s", i, strerror(-ret));
	}
	if (x86_cpu_caps_probe(b->kvm, b->vm, &b->caps, err, sizeof(err)) < 0)
		die("%s", err);
}

static void box_destroy(struct box *b)
{
	for (int i = 0; i < NR_VCPUS; i++) {
		munmap(b->run[i], (size_t)b->run_size);
		close(b->vcpu[i]);
	}
	x86_cpu_caps_free(&b->caps);
	free(b->cpuid);
	guest_mem_free(&b->mem);
	close(b->vm);
	close(b->kvm);
}

static bool cpuid_has(const struct kvm_cpuid2 *c, uint32_t fn, int reg, int bit)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		uint32_t v[4] = { e->eax, e->ebx, e->ecx, e->edx };

		if (e->function == fn && e->index == 0)
			return v[reg] >> bit & 1;
	}
	return false;
}

static uint64_t idt_gate(const uint8_t *handler, uint64_t *hi)
{
	uint64_t off = CODE + (uint64_t)(handler - guest_start);

	*hi = off >> 32;
	return (off & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | ((off >> 16 & 0xffff) << 48);
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, uint8_t l, uint8_t db)
{
	return (struct kvm_segment){ .limit = 0xffffffff, .selector = sel, .type = type,
				     .present = 1, .db = db, .s = 1, .l = l, .g = 1 };
}

/* Tables, code and vCPU 0's registers for a fresh boot into 64-bit mode. */
static void guest_boot(struct box *b)
{
	static const uint64_t gdt[] = { 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull,
					0x008f8b000000ffffull };
	uint64_t *idt = guest_mem_ptr(&b->mem, IDT, 4096), *pt;
	struct kvm_msrs *m;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE, .rsp = STACK_TOP, .rflags = 2 };
	bool xsave = cpuid_has(b->cpuid, 1, 2, 26);

	memcpy(guest_mem_ptr(&b->mem, GDT, sizeof(gdt)), gdt, sizeof(gdt));
	for (int v = 0; v < 256; v++) {
		/* 0x27: the 8259's spurious IRQ 7 needs no EOI; 0xff: the LAPIC's. */
		const uint8_t *h = v == 0x20 ? guest_isr_pit : v == 0x30 ? guest_isr_lapic
				 : v == 0x27 || v == 0xff ? guest_isr_spurious : guest_isr_trap;

		idt[2 * v] = idt_gate(h, &idt[2 * v + 1]);
	}
	pt = guest_mem_ptr(&b->mem, PML4, 3 * 4096);
	pt[0] = (PML4 + 0x1000) | 3;       /* PML4[0] -> PDPT */
	pt[512] = (PML4 + 0x2000) | 3;     /* PDPT[0] -> PD */
	for (int i = 0; i < 512; i++)      /* PD: 1 GiB of 2 MiB pages */
		pt[1024 + i] = ((uint64_t)i << 21) | 0x83;
	memcpy(guest_mem_ptr(&b->mem, CODE, (size_t)(guest_end - guest_start)), guest_start,
	       (size_t)(guest_end - guest_start));
	memset(guest_mem_ptr(&b->mem, PATTERN_PAGE, 4096), 0x5a, 4096);

	if (ioctl(b->vcpu[0], KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	sregs.cs = seg(0x08, 0xb, 1, 0);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg(0x10, 0x3, 0, 1);
	sregs.tr = seg(0x18, 0xb, 0, 0);
	sregs.tr.s = 0;
	sregs.tr.g = 0;
	sregs.tr.limit = 0xfffff;
	sregs.gdt = (struct kvm_dtable){ .base = GDT, .limit = sizeof(gdt) - 1 };
	sregs.idt = (struct kvm_dtable){ .base = IDT, .limit = 4095 };
	sregs.cr3 = PML4;
	sregs.cr0 = 0x80000033;             /* PG, NE, ET, MP, PE */
	sregs.cr4 = 0x620 | (xsave ? 1u << 18 : 0); /* PAE, OSFXSR, OSXMMEXCPT, OSXSAVE */
	sregs.efer = 0x500;                 /* LME, LMA */
	if (ioctl(b->vcpu[0], KVM_SET_SREGS, &sregs) < 0 || ioctl(b->vcpu[0], KVM_SET_REGS, &regs) < 0)
		die("setting the boot registers: %s", strerror(errno));
	if (xsave) {
		struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = 3 } } };

		if (ioctl(b->vcpu[0], KVM_SET_XCRS, &xcrs) < 0)
			die("KVM_SET_XCRS: %s", strerror(errno));
	}
	m = calloc(1, sizeof(*m) + sizeof(marked_msrs));
	m->nmsrs = ARRAY_SIZE(marked_msrs);
	memcpy(m->entries, marked_msrs, sizeof(marked_msrs));
	if (ioctl(b->vcpu[0], KVM_SET_MSRS, m) != (int)ARRAY_SIZE(marked_msrs))
		die("KVM_SET_MSRS of our marked MSRs failed");
	free(m);
}

/*
 * Run vCPU 0 until it has done `count` more OUTs and taken `ticks` more
 * interrupts of each timer, checking each OUT: one more than the last,
 * and what the guest stored agrees (XMM1 alive). Returns the last count.
 */
static uint64_t guest_run(struct box *b, uint64_t last, uint64_t count, uint64_t ticks)
{
	uint64_t pit0 = *guest_u64(b, DATA + 8), lapic0 = *guest_u64(b, DATA + 16);
	struct kvm_run *run = b->run[0];

	alarm(120);
	for (;;) {
		uint32_t value;

		if (ioctl(b->vcpu[0], KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN: %s", strerror(errno));
		}
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != OUT_PORT) {
			struct kvm_regs r;

			const uint64_t *top;

			ioctl(b->vcpu[0], KVM_GET_REGS, &r);
			top = guest_mem_ptr(&b->mem, r.rsp, 8);
			die("unexpected exit %u (port 0x%x) at RIP 0x%llx, RSP 0x%llx, [RSP] 0x%" PRIx64
			    ", after count %" PRIu64, run->exit_reason,
			    run->exit_reason == KVM_EXIT_IO ? run->io.port : 0, r.rip, r.rsp,
			    top ? *top : 0, last);
		}
		memcpy(&value, (uint8_t *)run + run->io.data_offset, 4);
		if (value != (uint32_t)(last + 1))
			die("the guest wrote %u after %" PRIu64 ": not where it was", value, last);
		last++;
		if (*guest_u64(b, DATA) != last || *guest_u64(b, DATA + 24) != last + XMM_CONSTANT)
			die("guest memory at count %" PRIu64 ": count %" PRIu64 ", count + XMM1 0x%"
			    PRIx64 " (SSE state lost?)", last, *guest_u64(b, DATA),
			    *guest_u64(b, DATA + 24));
		if (count)
			count--;
		if (!count && *guest_u64(b, DATA + 8) - pit0 >= ticks &&
		    *guest_u64(b, DATA + 16) - lapic0 >= ticks)
			break;
	}
	alarm(0);
	/* Finish the OUT inside KVM so RIP moves past it before we save. */
	if (x86_vcpu_complete_pending_exit(b->vcpu[0], run) != 0)
		die("completing the last OUT failed");
	return last;
}

static void save(const char *dir)
{
	struct x86_cpu_state cpu[NR_VCPUS];
	struct snap_mem_layout layout;
	struct snap_mem_stats stats;
	struct x86_vm_state vm;
	struct snap_writer w;
	struct progress p;
	struct box b;
	struct stat st;
	double t0, t1;
	char path[4096];

	box_create(&b, RAM_SIZE);
	guest_boot(&b);
	t0 = now();
	p.count = guest_run(&b, 0, RUN_COUNT, RUN_TICKS);
	p.pit_ticks = *guest_u64(&b, DATA + 8);
	p.lapic_ticks = *guest_u64(&b, DATA + 16);
	printf("snapshot-selftest: ran to count %" PRIu64 " (PIT ticks %" PRIu64 ", LAPIC ticks %"
	       PRIu64 ") in %.2f s\n", p.count, p.pit_ticks, p.lapic_ticks, now() - t0);

	t1 = now();
	for (int i = 0; i < NR_VCPUS; i++)
		if (x86_cpu_state_save(&b.caps, b.vcpu[i], &cpu[i], err, sizeof(err)) < 0)
			die("vCPU %d: %s", i, err);
	if (x86_vm_state_save(b.vm, &vm, err, sizeof(err)) < 0)
		die("%s", err);
	p.clock_ns = vm.clock.clock;
	x86_cpu_state_msr(&cpu[0], 0x10, &p.tsc);
	if (snap_mem_save(&b.mem, dir, SNAP_MEMORY_FILE, &layout, &stats, err, sizeof(err)) < 0 ||
	    snap_writer_open(&w, dir, SNAP_STATE_FILE, err, sizeof(err)) < 0 ||
	    snap_mem_layout_write(&layout, &w, err, sizeof(err)) < 0)
		die("%s", err);
	for (int i = 0; i < NR_VCPUS; i++)
		if (x86_cpu_state_write(&cpu[i], (unsigned int)i, &w, err, sizeof(err)) < 0)
			die("%s", err);
	if (x86_vm_state_write(&vm, &w, err, sizeof(err)) < 0 ||
	    snap_writer_add(&w, "test.progress", &p, sizeof(p), err, sizeof(err)) < 0 ||
	    snap_writer_finish(&w, err, sizeof(err)) < 0)
		die("%s", err);
	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_STATE_FILE);
	stat(path, &st);
	printf("snapshot-selftest: saved at count %" PRIu64 " in %.1f ms: state %lld bytes (vCPU 0: "
	       "%u MSRs, %u CPUID entries, %u XSAVE bytes, %s), memory %" PRIu64 " MiB with %"
	       PRIu64 " KiB of data using %" PRIu64 " KiB on disk\n", p.count, (now() - t1) * 1e3,
	       (long long)st.st_size, cpu[0].nmsrs, cpu[0].ncpuid, cpu[0].xsave_size,
	       b.caps.sregs2 ? "SREGS2" : "SREGS", stats.ram_bytes >> 20, stats.data_bytes >> 10,
	       stats.disk_bytes >> 10);
	for (int i = 0; i < NR_VCPUS; i++)
		x86_cpu_state_free(&cpu[i]);
	box_destroy(&b);
}

static void expect_same(const char *what, int vcpu, const void *a, const void *b, size_t len)
{
	if (memcmp(a, b, len)) {
		size_t i = 0;

		while (((const uint8_t *)a)[i] == ((const uint8_t *)b)[i])
			i++;
		die("vCPU %d: %s read back differs at byte %zu", vcpu, what, i);
	}
}

/* What KVM reads back from a restored vCPU equals what was saved. */
static void compare(const struct x86_cpu_state *saved, const struct x86_cpu_state *now_st, int i)
{
	struct kvm_lapic_state a = saved->lapic, b = now_st->lapic;

	expect_same("REGS", i, &saved->regs, &now_st->regs, sizeof(saved->regs));
	expect_same("SREGS", i, &saved->sregs, &now_st->sregs, sizeof(saved->sregs));
	expect_same("XCRS", i, &saved->xcrs, &now_st->xcrs, sizeof(saved->xcrs));
	expect_same("DEBUGREGS", i, &saved->debugregs, &now_st->debugregs, sizeof(saved->debugregs));
	expect_same("VCPU_EVENTS", i, &saved->events, &now_st->events, sizeof(saved->events));
	expect_same("MP_STATE", i, &saved->mp_state, &now_st->mp_state, sizeof(saved->mp_state));
	if (saved->xsave_size != now_st->xsave_size)
		die("vCPU %d: XSAVE size %u, saved %u", i, now_st->xsave_size, saved->xsave_size);
	expect_same("XSAVE", i, saved->xsave, now_st->xsave, saved->xsave_size);
	if (saved->ncpuid != now_st->ncpuid)
		die("vCPU %d: %u CPUID entries, saved %u", i, now_st->ncpuid, saved->ncpuid);
	expect_same("CPUID", i, saved->cpuid, now_st->cpuid, saved->ncpuid * sizeof(saved->cpuid[0]));
	/* The LAPIC timer's current count (0x390) runs, the IRR (0x200..0x27f)
	 * takes timer interrupts that come due: the rest must match. */
	memset(a.regs + 0x390, 0, 4);
	memset(b.regs + 0x390, 0, 4);
	memset(a.regs + 0x200, 0, 0x80);
	memset(b.regs + 0x200, 0, 0x80);
	expect_same("LAPIC", i, &a, &b, sizeof(a));
	if (saved->nmsrs != now_st->nmsrs)
		die("vCPU %d: %u MSRs readable, saved %u", i, now_st->nmsrs, saved->nmsrs);
	for (uint32_t k = 0; k < saved->nmsrs; k++) {
		const struct kvm_msr_entry *s = &saved->msrs[k], *n = &now_st->msrs[k];

		if (s->index != n->index)
			die("vCPU %d: MSR list differs at entry %u", i, k);
		if (s->index == 0x10) {
			/* The TSC goes on from the saved value: only the time since
			 * restore (< 2 s), not the downtime, has passed. */
			uint64_t khz = saved->tsc_khz ? saved->tsc_khz : 1000000;

			if (n->data < s->data || (n->data - s->data) / khz > 2000)
				die("vCPU %d: TSC 0x%llx after restore, saved 0x%llx", i,
				    (unsigned long long)n->data, (unsigned long long)s->data);
		} else if (s->data != n->data) {
			die("vCPU %d: MSR 0x%x reads 0x%llx, saved 0x%llx", i, s->index,
			    (unsigned long long)n->data, (unsigned long long)s->data);
		}
	}
}

static void restore(const char *dir)
{
	struct x86_cpu_state cpu[NR_VCPUS], back;
	const struct snap_section *s;
	struct snap_mem_layout layout;
	struct snap_mem_stats stats;
	struct x86_vm_state vm;
	struct kvm_clock_data clock;
	struct snap_reader r;
	struct progress p;
	struct box b;
	uint64_t last, v;
	char path[4096];
	double t0 = now();

	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_STATE_FILE);
	if (snap_reader_open(&r, path, 0, err, sizeof(err)) < 0 ||
	    snap_mem_layout_read(&r, &layout, err, sizeof(err)) < 0 ||
	    x86_vm_state_read(&r, &vm, err, sizeof(err)) < 0 ||
	    snap_reader_need(&r, "test.progress", &s, err, sizeof(err)) < 0)
		die("%s", err);
	if (s->len != sizeof(p))
		die("test.progress has %zu bytes", s->len);
	memcpy(&p, s->data, sizeof(p));
	for (int i = 0; i < NR_VCPUS; i++)
		if (x86_cpu_state_read(&r, (unsigned int)i, &cpu[i], err, sizeof(err)) < 0)
			die("%s", err);
	step("creating the VM");
	box_create(&b, snap_mem_layout_ram_size(&layout));
	step("loading RAM");
	if (snap_mem_load(&b.mem, dir, SNAP_MEMORY_FILE, &layout, &stats, err, sizeof(err)) < 0)
		die("%s", err);
	for (int i = 0; i < NR_VCPUS; i++) {
		step(i ? "restoring vCPU 1" : "restoring vCPU 0");
		if (x86_cpu_state_restore(&b.caps, b.vcpu[i], &cpu[i], err, sizeof(err)) < 0)
			die("vCPU %d: %s", i, err);
	}
	step("restoring irqchip, PIT, clock");
	if (x86_vm_state_restore(b.vm, &vm, 0, err, sizeof(err)) < 0)
		die("%s", err);
	step("restored");
	if (ioctl(b.vm, KVM_GET_CLOCK, &clock) < 0)
		die("KVM_GET_CLOCK: %s", strerror(errno));
	printf("snapshot-selftest: restored in %.1f ms (%" PRIu64 " KiB of RAM read back)\n",
	       (now() - t0) * 1e3, stats.data_bytes >> 10);
	/* The guest's clock goes on from the saved value, the downtime unseen. */
	if (clock.clock < p.clock_ns || clock.clock - p.clock_ns > 1000000000ull)
		die("kvmclock %llu ns after restore, saved %" PRIu64 " ns", clock.clock, p.clock_ns);
	for (int k = 0; k < 4096; k++)
		if (((const uint8_t *)guest_mem_ptr(&b.mem, PATTERN_PAGE, 4096))[k] != 0x5a)
			die("the page at 0x%llx did not come back", PATTERN_PAGE);

	for (int i = 0; i < NR_VCPUS; i++) {
		if (x86_cpu_state_save(&b.caps, b.vcpu[i], &back, err, sizeof(err)) < 0)
			die("reading vCPU %d back: %s", i, err);
		compare(&cpu[i], &back, i);
		x86_cpu_state_free(&back);
	}
	for (size_t k = 0; k < ARRAY_SIZE(marked_msrs); k++)
		if (!x86_cpu_state_msr(&cpu[0], marked_msrs[k].index, &v) || v != marked_msrs[k].data)
			die("MSR 0x%x was not carried over", marked_msrs[k].index);
	if (cpu[1].mp_state.mp_state != KVM_MP_STATE_UNINITIALIZED)
		die("vCPU 1 is in MP state %u, not waiting for a SIPI", cpu[1].mp_state.mp_state);
	printf("snapshot-selftest: REGS, SREGS, XSAVE, XCRS, DEBUGREGS, LAPIC, events, MP state, "
	       "CPUID and %u MSRs read back as saved; TSC and kvmclock continue\n", cpu[0].nmsrs);

	last = guest_run(&b, p.count, RUN_COUNT, RUN_TICKS);
	printf("snapshot-selftest: ok: the guest went on from %" PRIu64 " to %" PRIu64
	       " (PIT ticks %" PRIu64 " -> %" PRIu64 ", LAPIC ticks %" PRIu64 " -> %" PRIu64 ")\n",
	       p.count + 1, last, p.pit_ticks, *guest_u64(&b, DATA + 8), p.lapic_ticks,
	       *guest_u64(&b, DATA + 16));
	for (int i = 0; i < NR_VCPUS; i++)
		x86_cpu_state_free(&cpu[i]);
	snap_reader_close(&r);
	box_destroy(&b);
}

/* Flip one byte in the middle of a section's payload, in place. */
static void corrupt(const char *dir, const char *section)
{
	const struct snap_section *s;
	struct snap_reader r;
	char path[4096];
	long off;
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_STATE_FILE);
	if (snap_reader_open(&r, path, 0, err, sizeof(err)) < 0 ||
	    snap_reader_need(&r, section, &s, err, sizeof(err)) < 0)
		die("%s", err);
	off = (long)(s->data - r.buf) + (long)s->len / 2;
	snap_reader_close(&r);
	f = fopen(path, "r+b");
	if (!f || fseek(f, off, SEEK_SET) || (c = fgetc(f)) == EOF || fseek(f, off, SEEK_SET) ||
	    fputc(c ^ 0x10, f) == EOF || fclose(f))
		die("cannot change %s", path);
	printf("snapshot-selftest: flipped a bit at offset %ld of %s (section '%s')\n", off, path,
	       section);
}

int main(int argc, char **argv)
{
	signal(SIGALRM, on_alarm);
	setvbuf(stdout, NULL, _IOLBF, 0);
	tracing = getenv("SNAPSHOT_SELFTEST_TRACE") != NULL;
	if (argc == 3 && !strcmp(argv[1], "save")) {
		save(argv[2]);
	} else if (argc == 3 && !strcmp(argv[1], "restore")) {
		restore(argv[2]);
	} else if (argc == 3 && !strcmp(argv[1], "roundtrip")) {
		save(argv[2]);
		restore(argv[2]);
	} else if (argc == 4 && !strcmp(argv[1], "corrupt")) {
		corrupt(argv[2], argv[3]);
	} else {
		fprintf(stderr, "usage: snapshot-selftest save|restore|roundtrip DIR\n"
			"       snapshot-selftest corrupt DIR SECTION\n");
		return 2;
	}
	return 0;
}
