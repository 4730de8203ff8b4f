// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tests of libibv-odp against a device with the rxe ODP series: every
 * function, its results checked byte for byte and counter by counter, and
 * its error paths.  Prints one "RESULT PASS|FAIL name" line per test;
 * exits 1 when any failed.
 *
 * usage: libibv-odp-test [DEVICE]   (default rxe0)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <infiniband/verbs.h>

#include "ibv_odp.h"
#include "test.h"

static long page;

static struct loop lp;
static struct ibv_context *ctx;
static struct ibv_pd *pd;

static int rdma2(enum ibv_wr_opcode op, void *local, uint32_t lkey,
		 void *remote, uint32_t rkey, size_t len)
{
	return loop_rdma(&lp, op, local, lkey, remote, rkey, len);
}

static int rdma(enum ibv_wr_opcode op, void *local, void *remote, size_t len,
		struct ibv_mr *mr)
{
	return loop_rdma(&lp, op, local, mr->lkey, remote, mr->rkey, len);
}

static void *fresh(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static size_t resident(void *p, size_t len)
{
	unsigned char vec[1024];
	size_t i, n = len / page, r = 0;

	if (n > sizeof(vec) || mincore(p, len, vec))
		return (size_t)-1;
	for (i = 0; i < n; i++)
		r += vec[i] & 1;
	return r;
}

static uint64_t cnt(enum ibv_odp_counter c)
{
	struct ibv_odp_counters v;

	/* sysfs keeps the values for the port's lifespan (10 ms). */
	usleep(20000);
	if (ibv_odp_read_counters(ctx, 1, &v) || !(v.valid & (1U << c)))
		return UINT64_MAX;
	return v.value[c];
}

static void test_strings(void)
{
	char buf[128];
	int n;

	check(!strcmp(ibv_odp_op_str(IBV_ODP_OP_FLUSH), "FLUSH"), "FLUSH name");
	check(!strcmp(ibv_odp_op_str(IBV_ODP_OP_ATOMIC_WRITE), "ATOMIC_WRITE"),
	      "ATOMIC_WRITE name");
	check(!strcmp(ibv_odp_op_str(IBV_ODP_OP_SEND), "SEND"), "SEND name");
	check(!ibv_odp_op_str(1 << 8), "unknown op has no name");
	check(!ibv_odp_op_str(IBV_ODP_OP_SEND | IBV_ODP_OP_RECV),
	      "two bits have no name");
	check(!strcmp(ibv_odp_transport_str(IBV_ODP_TRANSPORT_XRC), "XRC"),
	      "XRC name");
	check(!ibv_odp_transport_str(IBV_ODP_TRANSPORT_NUM), "bad transport");
	check(!strcmp(ibv_odp_counter_name(IBV_ODP_CNT_PAGE_PREFETCH),
		      "page_prefetch"), "counter name");
	check(!ibv_odp_counter_name(IBV_ODP_CNT_NUM), "bad counter");

	n = ibv_odp_ops_str(0xff, buf, sizeof(buf));
	check(!strcmp(buf, "SEND RECV WRITE READ ATOMIC SRQ_RECV FLUSH ATOMIC_WRITE"),
	      "0xff is '%s'", buf);
	check(n == (int)strlen(buf), "length %d", n);
	n = ibv_odp_ops_str(0, buf, sizeof(buf));
	check(!strcmp(buf, "none") && n == 4, "0 is '%s'", buf);
	n = ibv_odp_ops_str(IBV_ODP_OP_READ | 0x100, buf, sizeof(buf));
	check(!strcmp(buf, "READ 0x100") && n == 10, "0x108 is '%s'", buf);
	/* Truncated like snprintf(): the full length, a terminated prefix. */
	n = ibv_odp_ops_str(0xff, buf, 8);
	check(n == 55 && !strcmp(buf, "SEND RE"), "truncated '%s' %d", buf, n);
	n = ibv_odp_ops_str(0xff, NULL, 0);
	check(n == 55, "length only %d", n);
	result("strings");
}

static void test_caps(void)
{
	struct ibv_odp_dev_caps caps;
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	check(!ibv_odp_query_caps(ctx, &caps), "query caps");
	check(caps.odp && caps.implicit, "odp %d implicit %d", caps.odp,
	      caps.implicit);
	check(caps.general_caps == (IBV_ODP_SUPPORT | IBV_ODP_SUPPORT_IMPLICIT),
	      "general 0x%" PRIx64, caps.general_caps);
	/* What the rxe series advertises, FLUSH and ATOMIC_WRITE included. */
	check(caps.ops[IBV_ODP_TRANSPORT_RC] == 0xff, "RC 0x%x",
	      caps.ops[IBV_ODP_TRANSPORT_RC]);
	check(caps.ops[IBV_ODP_TRANSPORT_UC] == 0x07, "UC 0x%x",
	      caps.ops[IBV_ODP_TRANSPORT_UC]);
	check(caps.ops[IBV_ODP_TRANSPORT_UD] == 0x23, "UD 0x%x",
	      caps.ops[IBV_ODP_TRANSPORT_UD]);
	check(caps.ops[IBV_ODP_TRANSPORT_XRC] == 0, "XRC 0x%x",
	      caps.ops[IBV_ODP_TRANSPORT_XRC]);
	f = open_memstream(&text, &size);
	check(f && !ibv_odp_print_caps(f, &caps), "print caps");
	if (f)
		fclose(f);
	check(text && !strcmp(text,
		"odp: yes\nimplicit: yes\n"
		"RC: SEND RECV WRITE READ ATOMIC SRQ_RECV FLUSH ATOMIC_WRITE\n"
		"UC: SEND RECV WRITE\nUD: SEND RECV SRQ_RECV\nXRC: none\n"),
	      "printed:\n%s", text ? text : "");
	free(text);
	result("caps");
}

static void test_counters(void)
{
	struct ibv_odp_counters c;
	int i;

	check(!ibv_odp_read_counters(ctx, 1, &c), "read port 1");
	check(c.valid == (1U << IBV_ODP_CNT_NUM) - 1, "valid 0x%x", c.valid);
	for (i = 0; i < IBV_ODP_CNT_NUM; i++) {
		char path[512];
		unsigned long long v = ~0ULL;
		FILE *f;

		snprintf(path, sizeof(path), "%s/ports/1/hw_counters/%s",
			 ctx->device->ibdev_path, ibv_odp_counter_name(i));
		f = fopen(path, "r");
		check(f && fscanf(f, "%llu", &v) == 1, "read %s", path);
		if (f)
			fclose(f);
		/* Nothing runs meanwhile: sysfs agrees. */
		check(v == c.value[i], "%s: %llu vs %" PRIu64,
		      ibv_odp_counter_name(i), v, c.value[i]);
	}
	check(ibv_odp_read_counters(ctx, 2, &c) == ENODEV, "port 2: ENODEV");
	check(ibv_odp_read_counters(ctx, 0, &c) == ENODEV, "port 0: ENODEV");
	result("counters");
}

static void test_implicit(void)
{
	size_t len = 16 * page;
	unsigned char *src = fresh(len), *dst = fresh(len), *back = fresh(len);
	uint64_t f0, pf0, pf1, inv0, pinv0;
	struct ibv_mr *mr, *ro;
	size_t i;

	mr = ibv_odp_reg_implicit(pd, IBV_ACCESS_LOCAL_WRITE |
				  IBV_ACCESS_REMOTE_WRITE |
				  IBV_ACCESS_REMOTE_READ);
	check(mr != NULL, "implicit MR: %s", strerror(errno));
	if (!mr)
		goto out;
	check(ibv_odp_mr_is_implicit(mr), "is implicit");
	check(!mr->addr && mr->length == SIZE_MAX, "addr %p length %zu",
	      mr->addr, mr->length);
	for (i = 0; i < len; i++)
		src[i] = (unsigned char)(i / page * 31 + i);
	/* WRITE into pages nothing touched, mid-page start, across pages. */
	f0 = cnt(IBV_ODP_CNT_FAULTS);
	pf0 = cnt(IBV_ODP_CNT_PAGE_FAULTS);
	check(rdma(IBV_WR_RDMA_WRITE, src + 100, dst + 100, len - 200, mr) ==
	      IBV_WC_SUCCESS, "write");
	check(rdma(IBV_WR_RDMA_READ, back + 100, dst + 100, len - 200, mr) ==
	      IBV_WC_SUCCESS, "read");
	pf1 = cnt(IBV_ODP_CNT_PAGE_FAULTS);
	check(!memcmp(dst + 100, src + 100, len - 200) &&
	      !memcmp(back + 100, src + 100, len - 200), "data");
	check(dst[99] == 0 && dst[len - 100] == 0 && back[99] == 0,
	      "bytes outside the range untouched");
	check(cnt(IBV_ODP_CNT_FAULTS) > f0, "odp_faults moved");
	/* src read, dst written, back written: 16 pages each. */
	check(pf1 - pf0 >= 48, "page_faults +%" PRIu64 " (>= 48)", pf1 - pf0);

	/* Unmapping the CPU's pages invalidates the device's. */
	inv0 = cnt(IBV_ODP_CNT_INVALIDATIONS);
	pinv0 = cnt(IBV_ODP_CNT_PAGE_INVALIDATIONS);
	check(!madvise(dst, len, MADV_DONTNEED), "madvise");
	check(cnt(IBV_ODP_CNT_INVALIDATIONS) > inv0, "odp_invalidations moved");
	check(cnt(IBV_ODP_CNT_PAGE_INVALIDATIONS) - pinv0 >= 16,
	      "page_invalidations +%" PRIu64,
	      cnt(IBV_ODP_CNT_PAGE_INVALIDATIONS) - pinv0);
	/* and the next access faults again, reading zeroes now. */
	pf0 = cnt(IBV_ODP_CNT_PAGE_FAULTS);
	check(rdma(IBV_WR_RDMA_READ, back, dst, len, mr) == IBV_WC_SUCCESS,
	      "read after DONTNEED");
	check(cnt(IBV_ODP_CNT_PAGE_FAULTS) - pf0 >= 16, "re-faulted");
	for (i = 0; i < len && !back[i]; i++)
		;
	check(i == len, "zero after DONTNEED (byte %zu)", i);
	check(!ibv_dereg_mr(mr), "dereg");

	/* An implicit MR is no more than what was asked: read-only remote. */
	ro = ibv_odp_reg_implicit(pd, IBV_ACCESS_REMOTE_READ);
	check(ro != NULL, "read-only implicit MR: %s", strerror(errno));
	if (ro) {
		mr = ibv_odp_reg_implicit(pd, IBV_ACCESS_LOCAL_WRITE);
		check(mr != NULL, "local implicit MR");
		if (mr) {
			int st = rdma2(IBV_WR_RDMA_WRITE, src, mr->lkey, dst,
				       ro->rkey, 64);

			check(st == IBV_WC_REM_ACCESS_ERR,
			      "write through a read-only rkey: %s",
			      st < 0 ? "none" : ibv_wc_status_str(st));
			/* The QP is in error now: make it anew. */
			check(!loop_create(&lp), "new QP");
			ibv_dereg_mr(mr);
		}
		ibv_dereg_mr(ro);
	}
	/* Invalid flags come back as the kernel's error. */
	errno = 0;
	mr = ibv_odp_reg_implicit(pd, IBV_ACCESS_REMOTE_WRITE);
	check(!mr && errno == EINVAL, "REMOTE_WRITE without LOCAL_WRITE: %s",
	      strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
out:
	munmap(src, len);
	munmap(dst, len);
	munmap(back, len);
	result("implicit");
}

static void test_prefetch(void)
{
	size_t len = 32 * page;
	unsigned char *a = fresh(len), *b = fresh(len), *c = fresh(len);
	struct ibv_mr *mr, *rmr, *pinned, *explicit;
	uint64_t pp0, np0, pf0;
	struct ibv_sge sg;
	time_t end;
	int ret;

	mr = ibv_odp_reg_implicit(pd, IBV_ACCESS_LOCAL_WRITE |
				  IBV_ACCESS_REMOTE_WRITE |
				  IBV_ACCESS_REMOTE_READ);
	rmr = ibv_odp_reg_implicit(pd, IBV_ACCESS_REMOTE_READ);
	pinned = ibv_reg_mr(pd, c, len, IBV_ACCESS_LOCAL_WRITE);
	explicit = ibv_reg_mr(pd, b, len, IBV_ACCESS_LOCAL_WRITE |
			      IBV_ACCESS_ON_DEMAND);
	check(mr && rmr && pinned && explicit, "MRs");
	if (!mr || !rmr || !pinned || !explicit)
		goto out;

	/* libibverbs alone cannot: rdma-core 44's rxe has no advise_mr. */
	sg = (struct ibv_sge){ (uintptr_t)a, len, mr->lkey };
	ret = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			    IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == EOPNOTSUPP, "ibv_advise_mr: %d", ret);

	/* Synchronous PREFETCH_WRITE: all pages in, CPU's and device's. */
	check(resident(a, len) == 0, "fresh memory not resident");
	pp0 = cnt(IBV_ODP_CNT_PAGE_PREFETCH);
	np0 = cnt(IBV_ODP_CNT_PREFETCHES);
	ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			       IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == 0, "prefetch write: %s", strerror(ret));
	check(cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0 == 32,
	      "page_prefetch +%" PRIu64 " (32)",
	      cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0);
	check(cnt(IBV_ODP_CNT_PREFETCHES) - np0 == 1, "odp_prefetches +1");
	check(resident(a, len) == 32, "resident after prefetch: %zu",
	      resident(a, len));
	/* A WRITE into the prefetched range faults nothing. */
	memset(c, 0x5a, len);
	pf0 = cnt(IBV_ODP_CNT_PAGE_FAULTS);
	check(rdma2(IBV_WR_RDMA_WRITE, c, pinned->lkey, a, mr->rkey, len) ==
	      IBV_WC_SUCCESS, "write from pinned memory");
	check(cnt(IBV_ODP_CNT_PAGE_FAULTS) == pf0,
	      "page_faults +%" PRIu64 " after prefetch (0)",
	      cnt(IBV_ODP_CNT_PAGE_FAULTS) - pf0);
	check(a[0] == 0x5a && a[len - 1] == 0x5a && !memcmp(a, c, len),
	      "written data");

	/* The ioctl path directly, too. */
	pp0 = cnt(IBV_ODP_CNT_PAGE_PREFETCH);
	sg = (struct ibv_sge){ (uintptr_t)b, len, explicit->lkey };
	ret = ibv_odp_prefetch_ioctl(pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
				     IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == 0, "ioctl prefetch: %s", strerror(ret));
	check(cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0 == 32,
	      "explicit MR page_prefetch +%" PRIu64,
	      cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0);

	/* NO_FAULT enters only what the CPU maps. */
	{
		unsigned char *d = fresh(len);

		d[0] = 1;
		d[5 * page] = 1;
		pp0 = cnt(IBV_ODP_CNT_PAGE_PREFETCH);
		sg = (struct ibv_sge){ (uintptr_t)d, len, mr->lkey };
		ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
				       IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
		check(ret == 0, "no-fault prefetch: %s", strerror(ret));
		check(cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0 == 2,
		      "no-fault page_prefetch +%" PRIu64 " (2)",
		      cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0);
		check(resident(d, len) == 2, "no-fault made nothing resident");
		munmap(d, len);
	}

	/* Asynchronous: returns at once, the work shows up soon after. */
	{
		unsigned char *d = fresh(len);

		pp0 = cnt(IBV_ODP_CNT_PAGE_PREFETCH);
		sg = (struct ibv_sge){ (uintptr_t)d, len, mr->lkey };
		ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
				       0, &sg, 1);
		check(ret == 0, "async prefetch: %s", strerror(ret));
		end = time(NULL) + 30;
		while (cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0 < 32 &&
		       time(NULL) < end)
			usleep(10000);
		check(cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0 == 32,
		      "async page_prefetch +%" PRIu64,
		      cnt(IBV_ODP_CNT_PAGE_PREFETCH) - pp0);
		munmap(d, len);
	}

	/* Errors, as ibv_advise_mr(3) has them. */
	sg = (struct ibv_sge){ (uintptr_t)a, len, mr->lkey ^ 0x80 };
	ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
			       IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == EFAULT, "bad lkey: %d", ret);
	sg = (struct ibv_sge){ (uintptr_t)c, len, pinned->lkey };
	ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
			       IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == EFAULT, "pinned MR: %d", ret);
	sg = (struct ibv_sge){ (uintptr_t)b + page, len, explicit->lkey };
	ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
			       IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == EFAULT, "range past the MR: %d", ret);
	sg = (struct ibv_sge){ (uintptr_t)a, len, rmr->lkey };
	ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			       IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == EPERM, "write prefetch without LOCAL_WRITE: %d", ret);
	sg = (struct ibv_sge){ (uintptr_t)a, len, mr->lkey };
	ret = ibv_odp_prefetch(pd, 77, IBV_ADVISE_MR_FLAG_FLUSH, &sg, 1);
	check(ret == EOPNOTSUPP, "unknown advice: %d", ret);
	ret = ibv_odp_prefetch_ioctl(pd, IBV_ADVISE_MR_ADVICE_PREFETCH, 0,
				     &sg, 0);
	check(ret == EINVAL, "no ranges: %d", ret);
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (rmr)
		ibv_dereg_mr(rmr);
	if (pinned)
		ibv_dereg_mr(pinned);
	if (explicit)
		ibv_dereg_mr(explicit);
	munmap(a, len);
	munmap(b, len);
	munmap(c, len);
	result("prefetch");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "rxe0";

	page = sysconf(_SC_PAGESIZE);
	test_strings();
	if (test_open(&lp, name))
		return 1;
	ctx = lp.ctx;
	pd = lp.pd;
	test_caps();
	test_counters();
	test_implicit();
	test_prefetch();
	loop_destroy(&lp);
	check(!ibv_dealloc_pd(pd), "dealloc PD: every MR was deregistered");
	result("teardown");
	ibv_close_device(ctx);
	return failed;
}
