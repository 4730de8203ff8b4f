// SPDX-License-Identifier: GPL-2.0
/*
 * Micro-benchmarks of On-Demand Paging on the soft-RoCE device rxe0:
 * pinned, explicit ODP and implicit ODP memory regions measured side by
 * side in one process.
 *
 * usage: odp-bench TEST [-r REPS] [-s BYTES]
 *
 *   reg    time of ibv_reg_mr: 1 MiB, 64 MiB, 1 GiB (pinned, explicit ODP,
 *          implicit) and 64 GiB of MAP_NORESERVE (ODP only)
 *   reg-implicit  registrations of the implicit MR only (for tracing)
 *   cold   RDMA WRITE passes into a fresh buffer: registration + first
 *          pass, a warm pass, and a pass after MADV_DONTNEED (re-fault)
 *   fault  RDMA WRITE into never-touched memory through the implicit MR, per
 *          4 KiB page and per 2 MiB THP, against the CPU's first touch
 *          (-s 4K or -s 2M: only one of them)
 *   inval  munmap and MADV_DONTNEED of faulted memory with and without an
 *          implicit MR that mirrors it
 *   scale  fault and invalidation cost with 1, 64 and 4096 live granules
 *   swap   an implicit-ODP run over a buffer larger than RAM (-s BYTES):
 *          the CPU fills it, RDMA reads and writes a page in every 2 MiB,
 *          the CPU checks every byte
 *
 * Two RC QPs of this process, connected to each other through the RoCE v2
 * GID of 10.0.2.15, move the data: qp[0] requests, qp[1] responds.
 *
 * Every measurement is a line on stdout:
 *   CSV,test,metric,variant,param,rep,value,unit
 * progress goes to stderr.  Data moved is checked; a mismatch, a failed
 * completion or a failed verb ends the program with exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#define RDMA_LOOP_SETUP_ONLY
#include "rdma-loop.h"

#define PORT		1

#define KiB		(1024UL)
#define MiB		(1024UL * KiB)
#define GiB		(1024UL * MiB)
#define PAGE		(4 * KiB)
#define GRANULE		(2 * MiB)

#define ACCESS_ALL	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)
#define SQ_DEPTH	64	/* work requests in flight */
#define POLL_SECONDS	30

enum kind { PINNED, ODP, IMPLICIT, NKINDS };
static const char *const kind_name[] = { "pinned", "odp", "implicit" };

static struct {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	struct ibv_mr *implicit;	/* the address space, when registered */
} c;

static int reps = 5;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "odp-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "# ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void csv(const char *test, const char *metric, const char *variant,
		const char *param, int rep, double value, const char *unit)
{
	printf("CSV,%s,%s,%s,%s,%d,%.6g,%s\n", test, metric, variant, param,
	       rep, value, unit);
	fflush(stdout);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n values (sorts them). */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *size_name(size_t len)
{
	static char buf[4][32];
	static int i;
	char *s = buf[i++ % 4];

	if (len >= GiB && !(len % GiB))
		snprintf(s, 32, "%zuG", len / GiB);
	else if (len >= MiB && !(len % MiB))
		snprintf(s, 32, "%zuM", len / MiB);
	else
		snprintf(s, 32, "%zuK", len / KiB);
	return s;
}

/* /proc/self/status VmPin in kB */
static long vmpin_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A /proc/vmstat counter, or -1 */
static long vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	long v, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name)) {
			ret = v;
			break;
		}
	fclose(f);
	return ret;
}

/* Pages pinned system-wide (FOLL_PIN) right now. */
static long sys_pinned_pages(void)
{
	return vmstat("nr_foll_pin_acquired") - vmstat("nr_foll_pin_released");
}

static void record_pins(const char *variant, const char *param, int rep)
{
	csv("mem", "vmpin", variant, param, rep, vmpin_kb(), "kB");
	csv("mem", "sys_pinned", variant, param, rep, sys_pinned_pages(),
	    "pages");
}

static void *map(size_t len, int flags, int advice)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes: %s", len, strerror(errno));
	if (advice && madvise(p, len, advice))
		die("madvise: %s", strerror(errno));
	return p;
}

/* A mapping of @len bytes aligned to @align (a power of two). */
static void *map_aligned(size_t len, size_t align, int flags, int advice)
{
	char *p = map(len + align, flags, 0);
	char *a = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));

	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + align - a);
	if (advice && madvise(a, len, advice))
		die("madvise: %s", strerror(errno));
	return a;
}

/* Device, connection */

static void conn_open(void)
{
	struct ibv_port_attr port;
	union ibv_gid gid;
	int i;

	c.ctx = loop_open();
	if (!c.ctx)
		die("cannot open %s", loop_dev);
	c.pd = ibv_alloc_pd(c.ctx);
	if (!c.pd)
		die("ibv_alloc_pd: %s", strerror(errno));
	if (ibv_query_port(c.ctx, PORT, &port))
		die("ibv_query_port: %s", strerror(errno));
	if (loop_find_gid() < 0 || ibv_query_gid(c.ctx, PORT, loop_gid, &gid))
		die("%s has no RoCE v2 GID of 10.0.2.15", loop_dev);
	for (i = 0; i < 2; i++) {
		struct ibv_qp_init_attr attr = {
			.qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = SQ_DEPTH,
				 .max_recv_wr = SQ_DEPTH,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		c.cq[i] = ibv_create_cq(c.ctx, 2 * SQ_DEPTH, NULL, NULL, 0);
		if (!c.cq[i])
			die("ibv_create_cq: %s", strerror(errno));
		attr.send_cq = attr.recv_cq = c.cq[i];
		c.qp[i] = ibv_create_qp(c.pd, &attr);
		if (!c.qp[i])
			die("ibv_create_qp: %s", strerror(errno));
	}
	/* the port's MTU, and 16 reads in flight each way */
	for (i = 0; i < 2; i++)
		if (loop_qp_to_rts(c.qp[i], c.qp[!i]->qp_num, &gid,
				   port.active_mtu, 16))
			die("QP to RTS: %s", strerror(errno));
}

static struct ibv_mr *reg(enum kind kind, void *addr, size_t len)
{
	struct ibv_mr *mr;

	if (kind == IMPLICIT)
		mr = ibv_reg_mr(c.pd, NULL, SIZE_MAX,
				ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	else
		mr = ibv_reg_mr(c.pd, addr, len, ACCESS_ALL |
				(kind == ODP ? IBV_ACCESS_ON_DEMAND : 0));
	if (!mr)
		die("ibv_reg_mr (%s, %zu bytes): %s", kind_name[kind], len,
		    strerror(errno));
	return mr;
}

static void dereg(struct ibv_mr *mr)
{
	if (ibv_dereg_mr(mr))
		die("ibv_dereg_mr: %s", strerror(errno));
}

static void implicit_open(void)
{
	if (!c.implicit)
		c.implicit = reg(IMPLICIT, NULL, 0);
}

static void implicit_close(void)
{
	if (c.implicit)
		dereg(c.implicit);
	c.implicit = NULL;
}

/*
 * Post @count RDMA operations of @len bytes from @laddr (the same local
 * buffer each time, or advancing by @lstride) to @raddr + i * @rstride, at
 * most SQ_DEPTH in flight, and wait for all of them.
 */
static void rdma_run(enum ibv_wr_opcode op, char *laddr, uint32_t lkey,
		     size_t lstride, uint32_t len, uint64_t raddr,
		     uint32_t rkey, size_t rstride, size_t count)
{
	size_t posted = 0, done = 0;
	uint64_t deadline = now_ns() + POLL_SECONDS * 1000000000ULL;
	struct ibv_wc wc[16];

	while (done < count) {
		while (posted < count && posted - done < SQ_DEPTH) {
			struct ibv_sge sge = {
				.addr = (uintptr_t)(laddr + posted * lstride),
				.length = len, .lkey = lkey,
			};
			struct ibv_send_wr wr = {
				.wr_id = posted, .sg_list = &sge,
				.num_sge = 1, .opcode = op,
				.send_flags = IBV_SEND_SIGNALED,
				.wr.rdma = {
					.remote_addr = raddr + posted * rstride,
					.rkey = rkey,
				},
			}, *bad;

			if (ibv_post_send(c.qp[0], &wr, &bad))
				die("ibv_post_send: %s", strerror(errno));
			posted++;
		}
		int n = ibv_poll_cq(c.cq[0], 16, wc);

		if (n < 0)
			die("ibv_poll_cq");
		for (int i = 0; i < n; i++)
			if (wc[i].status != IBV_WC_SUCCESS)
				die("work request %" PRIu64 ": %s",
				    wc[i].wr_id, ibv_wc_status_str(wc[i].status));
		if (n) {
			done += n;
			deadline = now_ns() + POLL_SECONDS * 1000000000ULL;
			continue;
		}
		if (now_ns() > deadline)
			die("no completion for %d s (%zu of %zu done)",
			    POLL_SECONDS, done, count);
		/*
		 * rxe does the work in kernel work items on these same CPUs;
		 * on a kernel without preemption a poller that never yields
		 * keeps them waiting until the next tick.
		 */
		sched_yield();
	}
}

/*
 * ibv_advise_mr(PREFETCH_WRITE, FLUSH) of @len bytes at @addr, one SGE
 * of at most 2 GiB at a time.
 */
static void prefetch_write(struct ibv_mr *mr, void *addr, size_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = mr->lkey,
	};
	int err;

	/* one SGE's length is 32 bits */
	if (len > 2 * GiB) {
		prefetch_write(mr, addr, 2 * GiB);
		prefetch_write(mr, (char *)addr + 2 * GiB, len - 2 * GiB);
		return;
	}
	if (len == 2 * GiB) {
		prefetch_write(mr, addr, GiB);
		prefetch_write(mr, (char *)addr + GiB, GiB);
		return;
	}
	err = advise_mr_ioctl(c.pd, IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			      IB_UVERBS_ADVISE_MR_FLAG_FLUSH, &sge, 1);
	if (err)
		die("advise_mr(PREFETCH_WRITE) of %zu bytes: %s", len,
		    strerror(err));
}

/* Byte @i of page @page of data generation @seed */
static unsigned char pattern(size_t page, size_t i, unsigned int seed)
{
	return (page * 37 + i * 11 + (i >> 8) + seed * 101) & 0xff;
}

static void fill(char *p, size_t len, size_t first_page, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(first_page + i / PAGE, i % PAGE, seed);
}

static void check(const char *what, const char *p, size_t len,
		  size_t first_page, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] !=
		    pattern(first_page + i / PAGE, i % PAGE, seed))
			die("%s: byte %zu is 0x%02x, expected 0x%02x", what, i,
			    (unsigned char)p[i],
			    pattern(first_page + i / PAGE, i % PAGE, seed));
}

/* reg: registration time */

static void test_reg(void)
{
	static const size_t sizes[] = { MiB, 64 * MiB, GiB };
	const size_t huge = 64 * GiB;
	char *big;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s];
		char *buf = map(len, 0, MADV_NOHUGEPAGE);

		memset(buf, 1, len);	/* the application's data */
		for (int r = 0; r < reps; r++) {
			for (int k = 0; k < NKINDS; k++) {
				uint64_t t0 = now_ns();
				struct ibv_mr *mr = reg(k, buf, len);
				uint64_t t1 = now_ns();

				csv("reg", "time", kind_name[k],
				    size_name(len), r, (t1 - t0) / 1e3, "us");
				record_pins(kind_name[k], size_name(len), r);
				t0 = now_ns();
				dereg(mr);
				csv("reg", "dereg", kind_name[k],
				    size_name(len), r, (now_ns() - t0) / 1e3,
				    "us");
			}
		}
		progress("reg %s done", size_name(len));
		munmap(buf, len);
	}

	big = map(huge, MAP_NORESERVE, 0);
	for (int r = 0; r < reps; r++) {
		for (int k = ODP; k < NKINDS; k++) {
			uint64_t t0 = now_ns();
			struct ibv_mr *mr = reg(k, big, huge);
			uint64_t t1 = now_ns();

			csv("reg", "time", kind_name[k], size_name(huge), r,
			    (t1 - t0) / 1e3, "us");
			record_pins(kind_name[k], size_name(huge), r);
			dereg(mr);
		}
	}
	munmap(big, huge);
	progress("reg 64G done");
}

/*
 * reg-implicit: registrations of the implicit MR and nothing else, for
 * bench/guest-trace.sh to time in the kernel.
 */
static void test_reg_implicit(void)
{
	for (int r = 0; r < reps; r++) {
		uint64_t t0 = now_ns();
		struct ibv_mr *mr = reg(IMPLICIT, NULL, 0);

		csv("reg", "time", "implicit", "-", r, (now_ns() - t0) / 1e3,
		    "us");
		dereg(mr);
	}
}

/* cold: first pass, warm pass, re-fault pass */

static void test_cold(size_t len)
{
	const size_t msg = 64 * KiB;
	const size_t n = len / msg;
	char *src = map(msg, 0, 0);
	const char *param = size_name(len);

	fill(src, msg, 0, 7);
	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < NKINDS; k++) {
			char *buf = map(len, 0, MADV_NOHUGEPAGE);
			struct ibv_mr *mr = NULL, *src_mr;
			uint32_t rkey, lkey;
			uint64_t t0, t1;

			/*
			 * The source is registered the same way, so that
			 * VmPin shows what the kind pins; it is warmed up
			 * before the clock starts.
			 */
			if (k == IMPLICIT) {
				implicit_open();
				src_mr = c.implicit;
			} else {
				src_mr = reg(k, src, msg);
			}
			lkey = src_mr->lkey;
			rdma_run(IBV_WR_RDMA_READ, src, lkey, 0, msg,
				 (uintptr_t)src, src_mr->rkey, 0, 1);
			t0 = now_ns();
			if (k != IMPLICIT)
				mr = reg(k, buf, len);
			rkey = mr ? mr->rkey : c.implicit->rkey;
			rdma_run(IBV_WR_RDMA_WRITE, src, lkey, 0, msg,
				 (uintptr_t)buf, rkey, msg, n);
			t1 = now_ns();
			csv("cold", "first", kind_name[k], param, r,
			    (t1 - t0) / 1e3, "us");
			record_pins(kind_name[k], param, r);
			for (size_t i = 0; i < n; i++)
				check("cold: first pass", buf + i * msg, msg,
				      0, 7);

			t0 = now_ns();
			rdma_run(IBV_WR_RDMA_WRITE, src, lkey, 0, msg,
				 (uintptr_t)buf, rkey, msg, n);
			csv("cold", "warm", kind_name[k], param, r,
			    (now_ns() - t0) / 1e3, "us");

			/*
			 * The CPU mapping goes: ODP faults again, a pinned
			 * MR keeps writing to the pages it holds.
			 */
			if (madvise(buf, len, MADV_DONTNEED))
				die("MADV_DONTNEED: %s", strerror(errno));
			t0 = now_ns();
			rdma_run(IBV_WR_RDMA_WRITE, src, lkey, 0, msg,
				 (uintptr_t)buf, rkey, msg, n);
			csv("cold", "refault", kind_name[k], param, r,
			    (now_ns() - t0) / 1e3, "us");
			if (k != PINNED)
				for (size_t i = 0; i < n; i++)
					check("cold: re-fault pass",
					      buf + i * msg, msg, 0, 7);
			if (mr)
				dereg(mr);
			if (src_mr != c.implicit)
				dereg(src_mr);
			munmap(buf, len);
		}
		implicit_close();
		progress("cold rep %d/%d done", r + 1, reps);
	}
	munmap(src, msg);
}

/* fault: device fault against CPU first touch */

static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Time, for each @unit of [buf, buf + len), one 64-byte RDMA WRITE into
 * every 4 KiB page of it, one at a time: the device touches each page once,
 * as the CPU's memset does.  ns per unit in @t.
 */
static void touch_rdma(char *src, uint32_t lkey, char *buf, size_t len,
		       size_t unit, double *t)
{
	for (size_t u = 0; u < len / unit; u++) {
		uint64_t t0 = now_ns();

		for (size_t off = 0; off < unit; off += PAGE)
			rdma_run(IBV_WR_RDMA_WRITE, src, lkey, 0, 64,
				 (uintptr_t)(buf + u * unit + off),
				 c.implicit->rkey, 0, 1);
		t[u] = now_ns() - t0;
	}
}

static void touch_cpu(char *buf, size_t len, size_t unit, double *t)
{
	for (size_t u = 0; u < len / unit; u++) {
		uint64_t t0 = now_ns();

		memset(buf + u * unit, 0x5a, unit);
		__asm__ volatile("" : : "r"(buf) : "memory");
		t[u] = now_ns() - t0;
	}
}

/*
 * The cost of the first touch of a unit: the median over units of (first
 * touch - second touch) of the same unit.  Medians, because the host's
 * other work stalls the vCPUs now and then: a stall hits a few units, not
 * the median.
 */
static double first_touch_cost(const double *cold, const double *warm,
			       size_t n)
{
	double *d = malloc(n * sizeof(*d));
	double m;

	if (!d)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		d[i] = cold[i] - warm[i];
	m = median(d, n);
	free(d);
	return m;
}

/* @only: 0 for both, PAGE or GRANULE for one kind of memory */
static void test_fault(size_t only)
{
	const size_t len4k = 4 * MiB, lenthp = 32 * MiB;
	char *src = map(PAGE, 0, 0);
	struct ibv_mr *src_mr = reg(PINNED, src, PAGE);
	double *cold = calloc(len4k / PAGE, sizeof(double));
	double *warm = calloc(len4k / PAGE, sizeof(double));

	if (!cold || !warm)
		die("out of memory");
	fill(src, PAGE, 0, 3);
	implicit_open();
	for (int r = 0; r < reps; r++) {
		for (int thp = 0; thp < 2; thp++) {
			size_t len = thp ? lenthp : len4k;
			size_t unit = thp ? GRANULE : PAGE, n = len / unit;
			int adv = thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
			const char *param = thp ? "2M-thp" : "4K";
			long huge0, huge1;
			char *buf;

			if (only && only != unit)
				continue;
			/* the CPU's first touch */
			buf = map_aligned(len, GRANULE, 0, adv);
			huge0 = anon_huge_kb();
			touch_cpu(buf, len, unit, cold);
			huge1 = anon_huge_kb();
			touch_cpu(buf, len, unit, warm);
			csv("fault", "cpu", "memset", param, r,
			    first_touch_cost(cold, warm, n) / 1e3, "us");
			csv("fault", "cpu-warm", "memset", param, r,
			    median(warm, n) / 1e3, "us");
			if (thp)
				csv("fault", "thp-kb", "memset", param, r,
				    huge1 - huge0, "kB");
			munmap(buf, len);

			/* the device's, through the implicit MR */
			buf = map_aligned(len, GRANULE, 0, adv);
			huge0 = anon_huge_kb();
			touch_rdma(src, src_mr->lkey, buf, len, unit, cold);
			huge1 = anon_huge_kb();
			touch_rdma(src, src_mr->lkey, buf, len, unit, warm);
			for (size_t off = 0; off < len; off += PAGE)
				check("fault: device write", buf + off, 64, 0,
				      3);
			csv("fault", "rdma", "implicit", param, r,
			    first_touch_cost(cold, warm, n) / 1e3, "us");
			csv("fault", "rdma-warm", "implicit", param, r,
			    median(warm, n) / 1e3, "us");
			if (thp)
				csv("fault", "thp-kb", "implicit", param, r,
				    huge1 - huge0, "kB");
			munmap(buf, len);
		}
		progress("fault rep %d/%d done", r + 1, reps);
	}
	implicit_close();
	free(cold);
	free(warm);
	dereg(src_mr);
	munmap(src, PAGE);
}

/* inval: munmap / MADV_DONTNEED with and without a mirror */

static void test_inval(size_t len)
{
	const char *param = size_name(len);

	for (int r = 0; r < reps; r++) {
		for (int mirror = 0; mirror < 2; mirror++) {
			const char *variant = mirror ? "mirror" : "nomirror";

			if (mirror)
				implicit_open();
			for (int op = 0; op < 2; op++) {
				char *buf = map(len, 0, MADV_NOHUGEPAGE);
				uint64_t t0, t;

				memset(buf, 1, len);
				if (mirror)
					prefetch_write(c.implicit, buf, len);
				t0 = now_ns();
				if (op) {
					if (madvise(buf, len, MADV_DONTNEED))
						die("MADV_DONTNEED: %s",
						    strerror(errno));
				} else {
					munmap(buf, len);
				}
				t = now_ns() - t0;
				csv("inval", op ? "dontneed" : "munmap",
				    variant, param, r, t / 1e3, "us");
				if (op)
					munmap(buf, len);
			}
			implicit_close();
		}
		progress("inval rep %d/%d done", r + 1, reps);
	}
}

/* scale: fault and invalidation with N live granules */

#define SCALE_TESTS	4	/* test regions per repetition */

static void test_scale(void)
{
	static const size_t levels[] = { 1, 64, 4096 };
	const size_t test_len = MiB, npages = test_len / PAGE;
	const size_t nregions = 4096 + 2 * SCALE_TESTS * 3 * reps;
	char *src = map(PAGE, 0, 0);
	struct ibv_mr *src_mr = reg(PINNED, src, PAGE);
	size_t live = 0, next_test = 4096;
	char *space = map_aligned(nregions * GRANULE, GRANULE, MAP_NORESERVE,
				  MADV_NOHUGEPAGE);
	double *cold = calloc(SCALE_TESTS * npages, sizeof(double));
	double *warm = calloc(SCALE_TESTS * npages, sizeof(double));
	double inv[SCALE_TESTS], unm[SCALE_TESTS];

	if (!cold || !warm)
		die("out of memory");
	fill(src, PAGE, 0, 5);
	implicit_open();
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		char param[16];

		snprintf(param, sizeof(param), "%zu", levels[l]);
		/* one page in each granule that goes live */
		rdma_run(IBV_WR_RDMA_WRITE, src, src_mr->lkey, 0, 64,
			 (uintptr_t)(space + live * GRANULE),
			 c.implicit->rkey, GRANULE, levels[l] - live);
		live = levels[l];
		for (int r = 0; r < reps; r++) {
			for (int i = 0; i < SCALE_TESTS; i++) {
				char *t = space + next_test++ * GRANULE;
				char *other = space + next_test++ * GRANULE;
				uint64_t t0;

				if (next_test > nregions)
					die("scale: out of test regions");
				touch_rdma(src, src_mr->lkey, t, test_len,
					   PAGE, cold + i * npages);
				touch_rdma(src, src_mr->lkey, t, test_len,
					   PAGE, warm + i * npages);
				/* an invalidation no granule covers */
				memset(other, 1, test_len);
				t0 = now_ns();
				if (madvise(other, test_len, MADV_DONTNEED))
					die("MADV_DONTNEED: %s",
					    strerror(errno));
				unm[i] = now_ns() - t0;
				/* one of 256 mirrored pages */
				t0 = now_ns();
				if (madvise(t, test_len, MADV_DONTNEED))
					die("MADV_DONTNEED: %s",
					    strerror(errno));
				inv[i] = now_ns() - t0;
			}
			csv("scale", "fault", "implicit", param, r,
			    first_touch_cost(cold, warm,
					     SCALE_TESTS * npages) / 1e3,
			    "us");
			csv("scale", "inval", "implicit", param, r,
			    median(inv, SCALE_TESTS) / 1e3, "us");
			csv("scale", "inval-unmirrored", "implicit", param, r,
			    median(unm, SCALE_TESTS) / 1e3, "us");
			check("scale: live granule", space + (r % live) *
			      GRANULE, 64, 0, 5);
		}
		progress("scale %zu granules done", live);
	}
	implicit_close();
	free(cold);
	free(warm);
	munmap(space, nregions * GRANULE);
	dereg(src_mr);
	munmap(src, PAGE);
}

/* swap: an implicit-ODP run over more memory than the machine has */

/*
 * A page that compresses well but is not one repeated word (zram stores
 * those without compressing): its number, the generation, then a pattern.
 */
static void swap_page(char *p, size_t page, unsigned int seed)
{
	uint64_t hdr[2] = { page, seed };

	memset(p, (page * 7 + seed) & 0xff, PAGE);
	memcpy(p, hdr, sizeof(hdr));
}

static int swap_page_ok(const char *p, size_t page, unsigned int seed)
{
	char want[PAGE];

	swap_page(want, page, seed);
	return !memcmp(p, want, PAGE);
}

static void test_swap(size_t len)
{
	const size_t npages = len / PAGE;
	const size_t stride = GRANULE / PAGE;	/* device touches 1 in 512 */
	char *loc = map(2 * PAGE, 0, 0);
	struct ibv_mr *loc_mr;
	char *buf;
	long in0, out0, vmpin_max = 0, sys_pin_max = 0;
	uint64_t t0;
	size_t i, sampled = 0;

	implicit_open();
	loc_mr = c.implicit;
	buf = map(len, MAP_NORESERVE, MADV_NOHUGEPAGE);
	in0 = vmstat("pswpin");
	out0 = vmstat("pswpout");
	t0 = now_ns();
	for (i = 0; i < npages; i++) {
		swap_page(buf + i * PAGE, i, 1);
		if (!((i + 1) % (GiB / PAGE)))
			progress("swap: CPU wrote %zu of %zu GiB",
				 (i + 1) / (GiB / PAGE), len / GiB);
	}
	csv("swap", "cpu-fill", "implicit", size_name(len), 0,
	    (now_ns() - t0) / 1e9, "s");

	/* the device reads a page in every 2 MiB, checks it, rewrites it */
	t0 = now_ns();
	for (i = 0; i < npages; i += stride) {
		char *page = buf + i * PAGE;

		rdma_run(IBV_WR_RDMA_READ, loc, loc_mr->lkey, 0, PAGE,
			 (uintptr_t)page, c.implicit->rkey, 0, 1);
		if (!swap_page_ok(loc, i, 1))
			die("swap: the device read wrong data from page %zu", i);
		swap_page(loc + PAGE, i, 2);
		rdma_run(IBV_WR_RDMA_WRITE, loc + PAGE, loc_mr->lkey, 0, PAGE,
			 (uintptr_t)page, c.implicit->rkey, 0, 1);
		sampled++;
		if (vmpin_kb() > vmpin_max)
			vmpin_max = vmpin_kb();
		if (sys_pinned_pages() > sys_pin_max)
			sys_pin_max = sys_pinned_pages();
		if (!(sampled % 1024))
			progress("swap: device read+wrote %zu of %zu pages",
				 sampled, npages / stride);
	}
	csv("swap", "rdma-pass", "implicit", size_name(len), 0,
	    (now_ns() - t0) / 1e9, "s");
	csv("swap", "device-pages", "implicit", size_name(len), 0, sampled,
	    "pages");

	/* every byte, as the CPU sees it */
	t0 = now_ns();
	for (i = 0; i < npages; i++) {
		unsigned int seed = i % stride ? 1 : 2;

		if (!swap_page_ok(buf + i * PAGE, i, seed))
			die("swap: page %zu does not hold generation %u", i,
			    seed);
		if (!((i + 1) % (GiB / PAGE)))
			progress("swap: CPU checked %zu of %zu GiB",
				 (i + 1) / (GiB / PAGE), len / GiB);
	}
	csv("swap", "cpu-check", "implicit", size_name(len), 0,
	    (now_ns() - t0) / 1e9, "s");
	/* without CONFIG_VM_EVENT_COUNTERS there are none */
	if (out0 >= 0 && in0 >= 0) {
		csv("swap", "pswpout", "implicit", size_name(len), 0,
		    vmstat("pswpout") - out0, "pages");
		csv("swap", "pswpin", "implicit", size_name(len), 0,
		    vmstat("pswpin") - in0, "pages");
	}
	csv("swap", "vmpin-max", "implicit", size_name(len), 0, vmpin_max,
	    "kB");
	csv("swap", "sys-pinned-max", "implicit", size_name(len), 0,
	    sys_pin_max, "pages");
	csv("swap", "intact", "implicit", size_name(len), 0, 1, "bool");
	munmap(buf, len);
	implicit_close();
	munmap(loc, 2 * PAGE);
}

static size_t parse_size(const char *s)
{
	char *end;
	size_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g': v *= GiB; break;
	case 'M': case 'm': v *= MiB; break;
	case 'K': case 'k': v *= KiB; break;
	case '\0': break;
	default: die("bad size %s", s);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *test;
	size_t size = 0;
	int opt;

	if (argc < 2)
		die("usage: odp-bench reg|reg-implicit|cold|fault|inval|scale|swap [-r REPS] [-s BYTES]");
	test = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "r:s:")) != -1) {
		switch (opt) {
		case 'r': reps = atoi(optarg); break;
		case 's': size = parse_size(optarg); break;
		default: die("bad option");
		}
	}
	if (sysconf(_SC_PAGESIZE) != PAGE)
		die("the page size is not 4 KiB");
	conn_open();
	if (!strcmp(test, "reg"))
		test_reg();
	else if (!strcmp(test, "reg-implicit"))
		test_reg_implicit();
	else if (!strcmp(test, "cold"))
		test_cold(size ? size : 8 * MiB);
	else if (!strcmp(test, "fault"))
		test_fault(size);
	else if (!strcmp(test, "inval"))
		test_inval(size ? size : GiB);
	else if (!strcmp(test, "scale"))
		test_scale();
	else if (!strcmp(test, "swap"))
		test_swap(size ? size : 8 * GiB);
	else
		die("unknown test %s", test);
	return 0;
}
