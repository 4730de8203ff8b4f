// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A plain verbs program (no libibv-odp) to run with and without the preload
 * shim: `shim-test shim` expects its registrations to be served by implicit
 * ODP MRs, `shim-test plain` expects ordinary pinned MRs.  Both check the
 * data moved and that no MR grants more than it was asked for.  One
 * "RESULT PASS|FAIL name" line per test; exits 1 when any failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <infiniband/verbs.h>

#include "test.h"

static long vmpin_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

#define RW (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
	    IBV_ACCESS_REMOTE_READ)

int main(int argc, char **argv)
{
	size_t len = 64 * 4096, i;
	struct ibv_mr *a, *b, *c, *d, *e, *f;
	unsigned char *buf;
	struct loop lp = { };
	int shim, st;
	static volatile unsigned int vaccess = RW;
	unsigned int access;

	if (argc != 2 || (strcmp(argv[1], "shim") && strcmp(argv[1], "plain"))) {
		fprintf(stderr, "usage: shim-test shim|plain\n");
		return 2;
	}
	shim = !strcmp(argv[1], "shim");
	if (test_open(&lp, "rxe0"))
		return 1;
	buf = mmap(NULL, 4 * len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;

	/* ibv_reg_mr with constant flags: the ibv_reg_mr symbol. */
	a = ibv_reg_mr(lp.pd, buf, len, RW);
	/* with flags not known at compile time: ibv_reg_mr_iova2. */
	access = vaccess;
	b = ibv_reg_mr(lp.pd, buf + len, len, access);
	check(a && b, "reg: %s", strerror(errno));
	if (!a || !b)
		goto out;
	check(a->addr == buf && a->length == len && b->addr == buf + len &&
	      b->length == len, "addr/length as asked");
	check(a->pd == lp.pd && a->context == lp.ctx, "pd/context");
	if (shim)
		check(a->lkey == b->lkey && a->rkey == b->rkey,
		      "same access, same implicit MR: 0x%x 0x%x", a->lkey,
		      b->lkey);
	else
		check(a->lkey != b->lkey, "plain MRs have their own keys");
	if (shim)
		check(vmpin_kb() == 0, "VmPin %ld kB with the shim", vmpin_kb());
	else
		check(vmpin_kb() >= 2 * (long)len / 1024, "VmPin %ld kB pinned",
		      vmpin_kb());
	result("register");

	/* Data through the program's keys: write a -> b, read b -> c area. */
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 13 + i / 4096);
	check(loop_rdma(&lp, IBV_WR_RDMA_WRITE, buf, a->lkey, buf + len,
			b->rkey, len) == IBV_WC_SUCCESS, "write");
	check(!memcmp(buf, buf + len, len), "written data");
	c = ibv_reg_mr(lp.pd, buf + 2 * len, len, IBV_ACCESS_LOCAL_WRITE);
	check(c != NULL, "local-only MR");
	if (!c)
		goto out;
	check(loop_rdma(&lp, IBV_WR_RDMA_READ, buf + 2 * len + 8, c->lkey,
			buf + len + 8, b->rkey, len - 16) == IBV_WC_SUCCESS,
	      "read");
	check(!memcmp(buf + 2 * len + 8, buf + 8, len - 16), "read data");
	result("transfer");

	/* No more than asked: c has no remote access, its rkey gets none. */
	if (shim)
		check(c->lkey != a->lkey, "other access, other MR");
	st = loop_rdma(&lp, IBV_WR_RDMA_WRITE, buf, a->lkey, buf + 2 * len,
		       c->rkey, 64);
	check(st == IBV_WC_REM_ACCESS_ERR, "write through a local-only rkey: %s",
	      st < 0 ? "no completion" : ibv_wc_status_str(st));
	check(!loop_create(&lp), "new QP");
	/* A read-only MR cannot be written remotely either. */
	d = ibv_reg_mr(lp.pd, buf + 3 * len, len, IBV_ACCESS_REMOTE_READ);
	check(d != NULL, "read-only MR");
	if (d) {
		st = loop_rdma(&lp, IBV_WR_RDMA_WRITE, buf, a->lkey,
			       buf + 3 * len, d->rkey, 64);
		check(st == IBV_WC_REM_ACCESS_ERR,
		      "write through a read-only rkey: %s",
		      st < 0 ? "no completion" : ibv_wc_status_str(st));
		check(!loop_create(&lp), "new QP");
		st = loop_rdma(&lp, IBV_WR_RDMA_READ, buf + 2 * len, c->lkey,
			       buf + 3 * len, d->rkey, 64);
		check(st == IBV_WC_SUCCESS, "read through the read-only rkey");
	}
	result("access");

	/* What the shim cannot serve gets a real MR: iova != addr, MW_BIND. */
	e = ibv_reg_mr_iova(lp.pd, buf + 3 * len, len, 0x10000, RW);
	f = ibv_reg_mr(lp.pd, buf + 3 * len, len, RW | IBV_ACCESS_MW_BIND);
	check(e && f, "fall-through registrations: %s", strerror(errno));
	if (e && f) {
		check(e->lkey != a->lkey && f->lkey != a->lkey &&
		      e->lkey != f->lkey, "own keys");
		check(vmpin_kb() >= 2 * (long)len / 1024,
		      "VmPin %ld kB: real registrations pin", vmpin_kb());
		/* iova-based: write to iova 0x10000 + 4096 lands at page 1. */
		memset(buf + 3 * len, 0, len);
		st = loop_rdma(&lp, IBV_WR_RDMA_WRITE, buf, a->lkey,
			       (void *)0x11000, e->rkey, 4096);
		check(st == IBV_WC_SUCCESS && !memcmp(buf + 3 * len + 4096, buf,
						      4096),
		      "write at an iova");
		check(!ibv_dereg_mr(e) && !ibv_dereg_mr(f), "dereg real MRs");
	}
	result("fall-through");

	/* rereg: a new translation keeps the keys with the shim. */
	if (shim) {
		uint32_t lkey = a->lkey;

		check(!ibv_rereg_mr(a, IBV_REREG_MR_CHANGE_TRANSLATION, NULL,
				    buf + 3 * len, len, 0), "rereg translation");
		check(a->addr == buf + 3 * len && a->lkey == lkey,
		      "moved, same keys");
		check(!ibv_rereg_mr(a, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL,
				    0, IBV_ACCESS_LOCAL_WRITE),
		      "rereg access");
		check(a->lkey == c->lkey, "now shares the local-only MR");
		check(!ibv_rereg_mr(a, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL,
				    0, RW), "rereg access back");
		check(a->lkey == b->lkey, "back on the RW MR");
		result("rereg");
	}

	/* Deregistration; with the shim the implicit MR goes with the last. */
	{
		uint32_t rkey = b->rkey;

		check(!ibv_dereg_mr(a), "dereg a");
		st = loop_rdma(&lp, IBV_WR_RDMA_WRITE, buf + 2 * len, c->lkey,
			       buf + len, rkey, 64);
		check(st == IBV_WC_SUCCESS, "b's keys still work: %d", st);
		check(!ibv_dereg_mr(b), "dereg b");
		st = loop_rdma(&lp, IBV_WR_RDMA_WRITE, buf + 2 * len, c->lkey,
			       buf + len, rkey, 64);
		check(st == IBV_WC_REM_ACCESS_ERR,
		      "after the last dereg the rkey is dead: %s",
		      st < 0 ? "no completion" : ibv_wc_status_str(st));
		check(!ibv_dereg_mr(c), "dereg c");
		if (d)
			check(!ibv_dereg_mr(d), "dereg d");
	}
	loop_destroy(&lp);
	check(!ibv_dealloc_pd(lp.pd), "PD free: no MR left behind");
	check(vmpin_kb() == 0, "VmPin %ld kB at the end", vmpin_kb());
	result("dereg");
out:
	munmap(buf, 4 * len);
	ibv_close_device(lp.ctx);
	return failed;
}
