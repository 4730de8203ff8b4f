// SPDX-License-Identifier: GPL-2.0
/*
 * Access checks of rxe through libibverbs, over a loopback RC QP pair on
 * rxe0: what a peer may and may not reach through an rkey, with the exact
 * completion status a NIC gives, and the memory it must not reach checked
 * byte for byte afterwards.  Also: ODP MRs follow the mapping that is at an
 * address now, not the one that was there at registration.
 *
 * Prints TAP ("ok N name" / "not ok N name"); exits 1 if any case failed.
 */
#define _GNU_SOURCE
#include "rdma-loop.h"

/* One RDMA WRITE or READ from qp[0]; the completion status. */
static int rdma(struct pair *p, enum ibv_wr_opcode op, void *local,
		uint32_t lkey, uint32_t len, uint64_t remote, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.opcode = op, .sg_list = &sge, .num_sge = 1,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = remote, .rkey = rkey },
	}, *bad;

	if (ibv_post_send(p->qp[0], &wr, &bad))
		return -1;
	return wait_wc(p->cq[0]);
}

static void *map(size_t len, int prot)
{
	void *m = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static bool all(const unsigned char *b, size_t len, unsigned char v)
{
	while (len--)
		if (*b++ != v)
			return false;
	return true;
}

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: ", __func__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		return false;						\
	}								\
} while (0)

static struct ibv_mr *reg(struct pair *p, void *addr, size_t len, int flags)
{
	if (flags & IBV_ACCESS_ON_DEMAND && !addr)
		return ibv_reg_mr(p->pd, NULL, SIZE_MAX, flags);
	return ibv_reg_mr(p->pd, addr, len, flags);
}

/*
 * A type 1 window over the middle page of a 3-page MR: RDMA WRITE through
 * its rkey lands inside it, and is refused (remote access error) one byte
 * outside it, in the pages of the MR that the window does not grant.
 */
static bool mw_range(struct pair *p, int odp_flags, bool implicit)
{
	unsigned char *buf = map(3 * PAGE, PROT_READ | PROT_WRITE);
	unsigned char *src = map(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *smr;
	struct ibv_mw *mw;
	struct ibv_mw_bind bind = { .send_flags = IBV_SEND_SIGNALED };
	int st;

	CHECK(buf && src, "mmap");
	memset(buf, 0, 3 * PAGE);
	fill(src, PAGE, 1);
	mr = reg(p, implicit ? NULL : buf, 3 * PAGE,
		 ACCESS_ALL | IBV_ACCESS_MW_BIND | odp_flags);
	CHECK(mr, "reg_mr: %s", strerror(errno));
	smr = reg(p, src, PAGE, ACCESS_ALL);
	CHECK(smr, "reg_mr src: %s", strerror(errno));
	mw = ibv_alloc_mw(p->pd, IBV_MW_TYPE_1);
	CHECK(mw, "alloc_mw: %s", strerror(errno));
	bind.bind_info.mr = mr;
	bind.bind_info.addr = (uintptr_t)buf + PAGE;
	bind.bind_info.length = PAGE;
	bind.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	CHECK(!ibv_bind_mw(p->qp[1], mw, &bind), "bind_mw: %s", strerror(errno));
	st = wait_wc(p->cq[1]);
	CHECK(st == IBV_WC_SUCCESS, "bind completion %d", st);

	st = rdma(p, IBV_WR_RDMA_WRITE, src, smr->lkey, PAGE,
		  (uintptr_t)buf + PAGE, mw->rkey);
	CHECK(st == IBV_WC_SUCCESS, "write inside the window: status %d", st);
	CHECK(is_filled(buf + PAGE, PAGE, 1), "window contents");

	st = rdma(p, IBV_WR_RDMA_WRITE, src, smr->lkey, 16,
		  (uintptr_t)buf + 2 * PAGE - 8, mw->rkey);
	CHECK(st == IBV_WC_REM_ACCESS_ERR,
	      "write across the window's end: status %d, want %d", st,
	      IBV_WC_REM_ACCESS_ERR);
	CHECK(all(buf, PAGE, 0) && all(buf + 2 * PAGE, PAGE, 0),
	      "memory outside the window was written");
	CHECK(is_filled(buf + PAGE, PAGE - 8, 1), "window contents changed");
	return true;
}

static bool mw_range_pinned(struct pair *p)
{
	return mw_range(p, 0, false);
}

static bool mw_range_odp(struct pair *p)
{
	return mw_range(p, IBV_ACCESS_ON_DEMAND, false);
}

static bool mw_range_implicit(struct pair *p)
{
	return mw_range(p, IBV_ACCESS_ON_DEMAND, true);
}

/*
 * The remote side of an implicit (or explicit) ODP MR: a page the owner
 * maps PROT_READ cannot be written, PROT_NONE cannot be read, an unmapped
 * address cannot be written; each is a remote access error at the
 * requester, and the memory is unchanged.
 */
static bool odp_remote_errors(struct pair *p, bool implicit)
{
	unsigned char *t = map(4 * PAGE, PROT_READ | PROT_WRITE);
	unsigned char *src = map(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *smr;
	int st;

	CHECK(t && src, "mmap");
	fill(t, 4 * PAGE, 5);
	fill(src, PAGE, 9);
	mr = reg(p, implicit ? NULL : t, 4 * PAGE,
		 ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "reg_mr: %s", strerror(errno));
	smr = reg(p, src, PAGE, ACCESS_ALL);
	CHECK(smr, "reg_mr src");

	CHECK(!mprotect(t, PAGE, PROT_READ), "mprotect");
	st = rdma(p, IBV_WR_RDMA_WRITE, src, smr->lkey, 64,
		  (uintptr_t)t + 100, mr->rkey);
	CHECK(st == IBV_WC_REM_ACCESS_ERR, "write to PROT_READ: status %d", st);
	CHECK(is_filled(t, PAGE, 5), "PROT_READ page changed");
	return true;
}

static bool odp_prot_none_read(struct pair *p, bool implicit)
{
	unsigned char *t = map(2 * PAGE, PROT_READ | PROT_WRITE);
	unsigned char *dst = map(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *dmr;
	int st;

	CHECK(t && dst, "mmap");
	fill(t, 2 * PAGE, 3);
	memset(dst, 0xee, PAGE);
	mr = reg(p, implicit ? NULL : t, 2 * PAGE,
		 ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "reg_mr: %s", strerror(errno));
	dmr = reg(p, dst, PAGE, ACCESS_ALL);
	CHECK(dmr, "reg_mr dst");
	CHECK(!mprotect(t + PAGE, PAGE, PROT_NONE), "mprotect");
	st = rdma(p, IBV_WR_RDMA_READ, dst, dmr->lkey, 256,
		  (uintptr_t)t + PAGE + 8, mr->rkey);
	CHECK(st == IBV_WC_REM_ACCESS_ERR, "read of PROT_NONE: status %d", st);
	CHECK(all(dst, PAGE, 0xee), "local buffer written by a failed read");
	return true;
}

static bool odp_unmapped_write(struct pair *p, bool implicit)
{
	unsigned char *t = map(2 * PAGE, PROT_READ | PROT_WRITE);
	unsigned char *src = map(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *smr;
	int st;

	CHECK(t && src, "mmap");
	fill(src, PAGE, 2);
	mr = reg(p, implicit ? NULL : t, 2 * PAGE,
		 ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "reg_mr: %s", strerror(errno));
	smr = reg(p, src, PAGE, ACCESS_ALL);
	CHECK(smr, "reg_mr src");
	CHECK(!munmap(t + PAGE, PAGE), "munmap");
	st = rdma(p, IBV_WR_RDMA_WRITE, src, smr->lkey, 128,
		  (uintptr_t)t + PAGE, mr->rkey);
	CHECK(st == IBV_WC_REM_ACCESS_ERR, "write to unmapped: status %d", st);
	return true;
}

/* A local SGE in unmapped memory of an ODP MR: local protection error. */
static bool odp_local_unmapped(struct pair *p, bool implicit)
{
	unsigned char *src = map(2 * PAGE, PROT_READ | PROT_WRITE);
	unsigned char *t = map(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *tmr;
	int st;

	CHECK(src && t, "mmap");
	memset(t, 0x11, PAGE);
	mr = reg(p, implicit ? NULL : src, 2 * PAGE,
		 ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "reg_mr: %s", strerror(errno));
	tmr = reg(p, t, PAGE, ACCESS_ALL);
	CHECK(tmr, "reg_mr target");
	CHECK(!munmap(src, 2 * PAGE), "munmap");
	st = rdma(p, IBV_WR_RDMA_WRITE, src + 10, mr->lkey, 64,
		  (uintptr_t)t, tmr->rkey);
	CHECK(st == IBV_WC_LOC_PROT_ERR, "unmapped local SGE: status %d", st);
	CHECK(all(t, PAGE, 0x11), "target written");
	return true;
}

/* Past the end of an explicit ODP MR: remote access error, nothing written. */
static bool odp_past_end(struct pair *p)
{
	unsigned char *t = map(3 * PAGE, PROT_READ | PROT_WRITE);
	unsigned char *src = map(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *smr;
	int st;

	CHECK(t && src, "mmap");
	memset(t, 0x22, 3 * PAGE);
	fill(src, PAGE, 4);
	mr = reg(p, t, 2 * PAGE, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "reg_mr: %s", strerror(errno));
	smr = reg(p, src, PAGE, ACCESS_ALL);
	CHECK(smr, "reg_mr src");
	st = rdma(p, IBV_WR_RDMA_WRITE, src, smr->lkey, 64,
		  (uintptr_t)t + 2 * PAGE - 32, mr->rkey);
	CHECK(st == IBV_WC_REM_ACCESS_ERR, "write past the end: status %d", st);
	CHECK(all(t, 3 * PAGE, 0x22), "memory written");
	return true;
}

/*
 * munmap and a new mapping at the same address, with new data: an ODP MR
 * reads the new data and writes land in the new mapping.
 */
static bool odp_remap(struct pair *p, bool implicit)
{
	size_t len = 3 * PAGE;
	unsigned char *t = map(len, PROT_READ | PROT_WRITE);
	unsigned char *loc = map(len, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr, *lmr;
	int st;

	CHECK(t && loc, "mmap");
	fill(t, len, 6);
	mr = reg(p, implicit ? NULL : t, len, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "reg_mr: %s", strerror(errno));
	lmr = reg(p, loc, len, ACCESS_ALL);
	CHECK(lmr, "reg_mr local");
	st = rdma(p, IBV_WR_RDMA_READ, loc, lmr->lkey, len - 200,
		  (uintptr_t)t + 100, mr->rkey);
	CHECK(st == IBV_WC_SUCCESS, "first read: status %d", st);
	CHECK(!memcmp(loc, t + 100, len - 200), "first read data");

	CHECK(!munmap(t, len), "munmap");
	CHECK(mmap(t, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == t,
	      "mmap at the same address");
	fill(t, len, 77);
	st = rdma(p, IBV_WR_RDMA_READ, loc, lmr->lkey, len - 200,
		  (uintptr_t)t + 100, mr->rkey);
	CHECK(st == IBV_WC_SUCCESS, "read after remap: status %d", st);
	CHECK(!memcmp(loc, t + 100, len - 200), "read after remap: old data");

	fill(loc, len, 200);
	st = rdma(p, IBV_WR_RDMA_WRITE, loc, lmr->lkey, len - 200,
		  (uintptr_t)t + 100, mr->rkey);
	CHECK(st == IBV_WC_SUCCESS, "write after remap: status %d", st);
	CHECK(!memcmp(loc, t + 100, len - 200), "write after remap not seen");
	return true;
}

#define VARIANTS(fn) \
	static bool fn##_odp(struct pair *p) { return fn(p, false); } \
	static bool fn##_implicit(struct pair *p) { return fn(p, true); }
VARIANTS(odp_remote_errors)
VARIANTS(odp_prot_none_read)
VARIANTS(odp_unmapped_write)
VARIANTS(odp_local_unmapped)
VARIANTS(odp_remap)

static const struct {
	const char *name;
	bool (*fn)(struct pair *p);
} cases[] = {
	{ "mw_range_pinned", mw_range_pinned },
	{ "mw_range_odp", mw_range_odp },
	{ "mw_range_implicit", mw_range_implicit },
	{ "odp_write_prot_read_odp", odp_remote_errors_odp },
	{ "odp_write_prot_read_implicit", odp_remote_errors_implicit },
	{ "odp_read_prot_none_odp", odp_prot_none_read_odp },
	{ "odp_read_prot_none_implicit", odp_prot_none_read_implicit },
	{ "odp_write_unmapped_odp", odp_unmapped_write_odp },
	{ "odp_write_unmapped_implicit", odp_unmapped_write_implicit },
	{ "odp_local_sge_unmapped_odp", odp_local_unmapped_odp },
	{ "odp_local_sge_unmapped_implicit", odp_local_unmapped_implicit },
	{ "odp_write_past_end", odp_past_end },
	{ "odp_remap_odp", odp_remap_odp },
	{ "odp_remap_implicit", odp_remap_implicit },
};

int main(int argc, char **argv)
{
	unsigned int i, n = sizeof(cases) / sizeof(cases[0]), failed = 0;

	if (argc > 1)
		loop_dev = argv[1];
	if (loop_find_gid() < 0) {
		printf("Bail out! no RoCE v2 GID for 10.0.2.15 on %s\n", loop_dev);
		return 1;
	}
	printf("TAP version 13\n1..%u\n", n);
	for (i = 0; i < n; i++) {
		struct pair p;
		bool ok;

		/* Each case gets fresh QPs: an error moves them to ERR. */
		if (pair_open(&p)) {
			printf("# setup: %s\n", strerror(errno));
			ok = false;
		} else {
			ok = cases[i].fn(&p);
		}
		pair_close(&p);
		printf("%sok %u %s\n", ok ? "" : "not ", i + 1, cases[i].name);
		failed += !ok;
	}
	return failed ? 1 : 0;
}
