// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to memory registration, prefetch (advise_mr) and RDMA access on
 * rxe, over a loopback RC QP pair on rxe0: each case has one exact expected
 * errno or completion status, and where the peer was refused, the memory it
 * aimed at (and the memory around it) is checked byte for byte afterwards.
 * A remote peer must never read or write what the MR's owner did not grant.
 *
 * Where ODP and pinned MRs must behave alike, the case runs for each kind:
 * the pinned result is what a NIC does (rxe's pinned path follows the IBTA
 * checks), the ODP results must equal it.
 *
 * Prints TAP ("ok N name" / "not ok N name") and a table of expected and
 * observed results; exits 1 if any case failed.
 */
#include "rdma-loop.h"
#include <inttypes.h>
#include "rxe-flush.h"

struct result {
	char got[96];
	char why[160];
	const char *xfail;	/* a recorded deviation of rxe was seen */
};

#define FAILIF(cond, ...) do {						\
	if (cond) {							\
		snprintf(r->why, sizeof(r->why), __VA_ARGS__);		\
		return false;						\
	}								\
} while (0)

#define GOT(...) snprintf(r->got, sizeof(r->got), __VA_ARGS__)

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EPERM: return "EPERM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case ENOENT: return "ENOENT";
	default: return strerror(e);
	}
}

/* Registration that must fail with @want; the MR is released if it did not. */
static bool reg_fails(struct result *r, struct ibv_mr *mr, int err, int want)
{
	GOT("%s", mr ? "0" : errname(err));
	if (mr) {
		ibv_dereg_mr(mr);
		FAILIF(true, "registered, want %s", errname(want));
	}
	FAILIF(err != want, "errno %s, want %s", errname(err), errname(want));
	return true;
}

static int kind_flag(enum mr_kind k)
{
	return k == MR_PINNED ? 0 : IBV_ACCESS_ON_DEMAND;
}

/* ---- registration ---------------------------------------------------- */

static bool reg_zero_length(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(p->pd, b, 0, ACCESS_ALL | kind_flag(k));
	return reg_fails(r, mr, errno, EINVAL);
}

/* addr + length wraps past the top of the 64-bit space. */
static bool reg_len_wraps(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(p->pd, b, (size_t)0 - (uintptr_t)b + 2 * PAGE,
			ACCESS_ALL | kind_flag(k));
	return reg_fails(r, mr, errno, EINVAL);
}

/* A start address with length U64_MAX is not the implicit MR. */
static bool reg_len_u64max(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(p->pd, b, SIZE_MAX, ACCESS_ALL | kind_flag(k));
	return reg_fails(r, mr, errno, EINVAL);
}

/* addr + length ends exactly at U64_MAX: rounding it up to a page wraps. */
static bool reg_len_to_top(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(p->pd, b, SIZE_MAX - (uintptr_t)b,
			ACCESS_ALL | kind_flag(k));
	return reg_fails(r, mr, errno, EINVAL);
}

/* The iova's offset in its page must be the address's (uverbs). */
static bool reg_iova_unaligned(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr_iova(p->pd, b, PAGE, 0x100008, ACCESS_ALL | kind_flag(k));
	return reg_fails(r, mr, errno, EINVAL);
}

static bool reg_implicit_hugetlb(struct pair *p, enum mr_kind k,
				 struct result *r)
{
	struct ibv_mr *mr;

	(void)k;
	errno = 0;
	mr = ibv_reg_mr(p->pd, NULL, SIZE_MAX, ACCESS_ALL |
			IBV_ACCESS_ON_DEMAND | IBV_ACCESS_HUGETLB);
	return reg_fails(r, mr, errno, EINVAL);
}

/* The whole address space at a non-zero iova. */
static bool reg_implicit_iova(struct pair *p, enum mr_kind k, struct result *r)
{
	struct ibv_mr *mr;

	(void)k;
	errno = 0;
	mr = ibv_reg_mr_iova(p->pd, NULL, SIZE_MAX, 0x200000,
			     ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	return reg_fails(r, mr, errno, EINVAL);
}

/* "Implicit" from a non-zero address: the range wraps. */
static bool reg_implicit_addr(struct pair *p, enum mr_kind k, struct result *r)
{
	struct ibv_mr *mr;

	(void)k;
	errno = 0;
	mr = ibv_reg_mr(p->pd, (void *)0x200000, SIZE_MAX,
			ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	return reg_fails(r, mr, errno, EINVAL);
}

/* Remote write needs local write (IBTA 10.6.3.1; ib_check_mr_access()). */
static bool reg_rw_no_lw(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = reg_kind(p->pd, b, PAGE, IBV_ACCESS_REMOTE_WRITE |
		      IBV_ACCESS_REMOTE_READ, k);
	return reg_fails(r, mr, errno, EINVAL);
}

static bool reg_ratomic_no_lw(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = reg_kind(p->pd, b, PAGE, IBV_ACCESS_REMOTE_ATOMIC, k);
	return reg_fails(r, mr, errno, EINVAL);
}

/* IBV_ACCESS_HUGETLB over anonymous small pages: not hugetlbfs. */
static bool reg_hugetlb_anon(struct pair *p, enum mr_kind k, struct result *r)
{
	void *b = map_anon(4 * PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	(void)k;
	errno = 0;
	mr = ibv_reg_mr(p->pd, b, 4 * PAGE, ACCESS_ALL | IBV_ACCESS_ON_DEMAND |
			IBV_ACCESS_HUGETLB);
	return reg_fails(r, mr, errno, EINVAL);
}

/* Pinning a PROT_READ page for remote write: the pin itself fails. */
static bool reg_pinned_write_ro(struct pair *p, enum mr_kind k,
				struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ);
	struct ibv_mr *mr;

	(void)k;
	errno = 0;
	mr = ibv_reg_mr(p->pd, b, PAGE, ACCESS_ALL);
	return reg_fails(r, mr, errno, EFAULT);
}

/* Pinning an address with nothing mapped. */
static bool reg_pinned_unmapped(struct pair *p, enum mr_kind k,
				struct result *r)
{
	void *b = map_anon(2 * PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	(void)k;
	munmap(b, 2 * PAGE);
	errno = 0;
	mr = ibv_reg_mr(p->pd, b, 2 * PAGE, ACCESS_ALL);
	return reg_fails(r, mr, errno, EFAULT);
}

/*
 * FLUSH to persistence needs persistent memory.  rxe refuses the access
 * over ordinary pages as it pins them (EINVAL), and for ODP MRs at once
 * (EOPNOTSUPP): pages that are not present cannot be made persistent.
 */
static bool reg_flush_persistent(struct pair *p, enum mr_kind k,
				 struct result *r)
{
	void *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr;

	errno = 0;
	mr = reg_kind(p->pd, b, PAGE, ACCESS_ALL | ACCESS_FLUSH_GLOBAL |
		      ACCESS_FLUSH_PERSISTENT, k);
	return reg_fails(r, mr, errno, k == MR_PINNED ? EINVAL : EOPNOTSUPP);
}

/* ---- advise_mr (prefetch) -------------------------------------------- */

#define PF	IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH
#define PF_W	IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE
#define PF_NF	IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT
#define FLUSH	IB_UVERBS_ADVISE_MR_FLAG_FLUSH

static bool advise_expect(struct result *r, int err, int want)
{
	GOT("%s", errname(err));
	FAILIF(err != want, "advise: %s, want %s", errname(err), errname(want));
	return true;
}

/* One SGE over [@addr, @addr + @len) of a fresh 2-page MR of kind @k. */
static bool advise_one(struct pair *p, enum mr_kind k, struct result *r,
		       int access, uint32_t advice, uint32_t flags,
		       uint64_t off, uint32_t len, int want)
{
	unsigned char *b = map_anon(2 * PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr = reg_kind(p->pd, b, 2 * PAGE, access, k);
	struct ibv_sge sge;
	int err;

	FAILIF(!mr, "reg_mr: %s", strerror(errno));
	sge.addr = (uintptr_t)b + off;
	sge.length = len;
	sge.lkey = mr->lkey;
	err = advise_mr_ioctl(p->pd, advice, flags, &sge, 1);
	ibv_dereg_mr(mr);
	return advise_expect(r, err, want);
}

/* The positive control: prefetch of a whole MR, synchronously. */
static bool advise_ok(struct pair *p, enum mr_kind k, struct result *r)
{
	return advise_one(p, k, r, ACCESS_ALL, PF_W, FLUSH, 0, 2 * PAGE, 0);
}

/* Prefetch for reading is allowed on a read-only MR. */
static bool advise_read_ro(struct pair *p, enum mr_kind k, struct result *r)
{
	return advise_one(p, k, r, IBV_ACCESS_REMOTE_READ, PF, FLUSH, 0,
			  2 * PAGE, 0);
}

static bool advise_write_ro(struct pair *p, enum mr_kind k, struct result *r)
{
	return advise_one(p, k, r, IBV_ACCESS_REMOTE_READ, PF_W, FLUSH, 0,
			  PAGE, EPERM);
}

static bool advise_pinned(struct pair *p, enum mr_kind k, struct result *r)
{
	(void)k;
	return advise_one(p, MR_PINNED, r, ACCESS_ALL, PF, FLUSH, 0, PAGE,
			  EFAULT);
}

static bool advise_past_end(struct pair *p, enum mr_kind k, struct result *r)
{
	return advise_one(p, k, r, ACCESS_ALL, PF, 0, PAGE, 2 * PAGE, EFAULT);
}

static bool advise_before_start(struct pair *p, enum mr_kind k,
				struct result *r)
{
	return advise_one(p, k, r, ACCESS_ALL, PF, 0, (uint64_t)-PAGE, PAGE,
			  EFAULT);
}

static bool advise_bad_advice(struct pair *p, enum mr_kind k, struct result *r)
{
	return advise_one(p, k, r, ACCESS_ALL, 77, FLUSH, 0, PAGE, EOPNOTSUPP);
}

static bool advise_bad_flags(struct pair *p, enum mr_kind k, struct result *r)
{
	return advise_one(p, k, r, ACCESS_ALL, PF, 1u << 5, 0, PAGE, EINVAL);
}

static bool advise_zero_len(struct pair *p, enum mr_kind k, struct result *r)
{
	return advise_one(p, k, r, ACCESS_ALL, PF, FLUSH, 0, 0, 0);
}

/* The lkey of an MR of another PD. */
static bool advise_wrong_pd(struct pair *p, enum mr_kind k, struct result *r)
{
	unsigned char *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_pd *pd2 = ibv_alloc_pd(p->ctx);
	struct ibv_mr *mr;
	struct ibv_sge sge;
	int err;

	FAILIF(!pd2, "alloc_pd");
	mr = reg_kind(pd2, b, PAGE, ACCESS_ALL, k);
	FAILIF(!mr, "reg_mr: %s", strerror(errno));
	sge.addr = (uintptr_t)b;
	sge.length = PAGE;
	sge.lkey = mr->lkey;
	err = advise_mr_ioctl(p->pd, PF, FLUSH, &sge, 1);
	ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd2);
	return advise_expect(r, err, EFAULT);
}

static bool advise_dereg(struct pair *p, enum mr_kind k, struct result *r)
{
	unsigned char *b = map_anon(PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr = reg_kind(p->pd, b, PAGE, ACCESS_ALL, k);
	struct ibv_sge sge;

	FAILIF(!mr, "reg_mr: %s", strerror(errno));
	sge.addr = (uintptr_t)b;
	sge.length = PAGE;
	sge.lkey = mr->lkey;
	ibv_dereg_mr(mr);
	return advise_expect(r, advise_mr_ioctl(p->pd, PF, FLUSH, &sge, 1),
			     EFAULT);
}

/* A synchronous prefetch of an unmapped range reports the fault. */
static bool advise_unmapped(struct pair *p, enum mr_kind k, struct result *r)
{
	unsigned char *b = map_anon(2 * PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *mr = reg_kind(p->pd, b, 2 * PAGE, ACCESS_ALL, k);
	struct ibv_sge sge;
	int err;

	FAILIF(!mr, "reg_mr: %s", strerror(errno));
	munmap(b + PAGE, PAGE);
	sge.addr = (uintptr_t)b;
	sge.length = 2 * PAGE;
	sge.lkey = mr->lkey;
	err = advise_mr_ioctl(p->pd, PF, FLUSH, &sge, 1);
	ibv_dereg_mr(mr);
	return advise_expect(r, err, EFAULT);
}

/* Implicit MR: a kernel address, and a range that wraps past U64_MAX. */
static bool advise_kernel_addr(struct pair *p, enum mr_kind k, struct result *r)
{
	struct ibv_mr *mr = reg_kind(p->pd, NULL, 0, ACCESS_ALL, k);
	struct ibv_sge sge = {
		.addr = 0xffff888000000000ULL, .length = PAGE,
	};
	int err;

	FAILIF(!mr, "reg_mr: %s", strerror(errno));
	sge.lkey = mr->lkey;
	err = advise_mr_ioctl(p->pd, PF, FLUSH, &sge, 1);
	ibv_dereg_mr(mr);
	return advise_expect(r, err, EFAULT);
}

static bool advise_wraps(struct pair *p, enum mr_kind k, struct result *r)
{
	struct ibv_mr *mr = reg_kind(p->pd, NULL, 0, ACCESS_ALL, k);
	struct ibv_sge sge = { .addr = UINT64_MAX - 100, .length = PAGE };
	int err;

	FAILIF(!mr, "reg_mr: %s", strerror(errno));
	sge.lkey = mr->lkey;
	err = advise_mr_ioctl(p->pd, PF, 0, &sge, 1);
	ibv_dereg_mr(mr);
	return advise_expect(r, err, EFAULT);
}

/* ---- remote and local access ----------------------------------------- */

/*
 * The target of a remote access: 3 MR pages between two guard pages that
 * no MR covers, all filled with a known pattern.
 */
struct target {
	unsigned char *map;	/* guard, 3 pages, guard */
	unsigned char *buf;	/* map + PAGE */
	struct ibv_mr *mr;
	unsigned char *loc;	/* a pinned local buffer of 2 pages */
	struct ibv_mr *lmr;
};

#define TSEED	41
#define LSEED	99

static bool target_make(struct pair *p, struct target *t, enum mr_kind k,
			int access, struct result *r)
{
	t->map = map_anon(5 * PAGE, PROT_READ | PROT_WRITE);
	t->loc = map_anon(2 * PAGE, PROT_READ | PROT_WRITE);
	FAILIF(!t->map || !t->loc, "mmap");
	t->buf = t->map + PAGE;
	fill(t->map, 5 * PAGE, TSEED);
	fill(t->loc, 2 * PAGE, LSEED);
	t->mr = reg_kind(p->pd, t->buf, 3 * PAGE, access, k);
	FAILIF(!t->mr, "reg_mr target: %s", strerror(errno));
	t->lmr = ibv_reg_mr(p->pd, t->loc, 2 * PAGE, ACCESS_ALL);
	FAILIF(!t->lmr, "reg_mr local: %s", strerror(errno));
	return true;
}

/* Nothing of the target moved (where it is still mapped). */
static bool target_intact(struct target *t, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		if (t->map[i] != pattern(i, TSEED))
			return false;
	return true;
}

static bool status_is(struct result *r, int st, int want)
{
	GOT("%s", wc_name(st));
	FAILIF(st != want, "status %s, want %s", wc_name(st), wc_name(want));
	return true;
}

#define INTACT(t)	target_intact(t, 0, 5 * PAGE)

/* A length larger than the whole MR, from its start. */
static bool write_longer_than_mr(struct pair *p, enum mr_kind k,
				 struct result *r)
{
	unsigned char *src = map_anon(4 * PAGE, PROT_READ | PROT_WRITE);
	struct ibv_mr *smr = ibv_reg_mr(p->pd, src, 4 * PAGE, ACCESS_ALL);
	struct target t;

	FAILIF(!smr, "reg_mr src");
	if (!target_make(p, &t, k, ACCESS_ALL, r))
		return false;
	if (!status_is(r, post_one(p, IBV_WR_RDMA_WRITE, src, smr->lkey,
				   4 * PAGE, (uintptr_t)t.buf, t.mr->rkey, 0, 0),
		       IBV_WC_REM_ACCESS_ERR))
		return false;
	FAILIF(!INTACT(&t), "memory changed by a refused write");
	return true;
}

/*
 * A pinned MR keeps the pages it pinned after munmap: a write still
 * succeeds, and goes to those pages, never to a new mapping at the address.
 */
static bool pinned_write_remapped(struct pair *p, enum mr_kind k,
				  struct result *r)
{
	struct target t;

	(void)k;
	if (!target_make(p, &t, MR_PINNED, ACCESS_ALL, r))
		return false;
	FAILIF(munmap(t.buf, 3 * PAGE), "munmap");
	FAILIF(mmap(t.buf, 3 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != t.buf,
	       "mmap");
	fill(t.buf, 3 * PAGE, 5);
	if (!status_is(r, post_one(p, IBV_WR_RDMA_WRITE, t.loc, t.lmr->lkey,
				   PAGE, (uintptr_t)t.buf + PAGE, t.mr->rkey,
				   0, 0), IBV_WC_SUCCESS))
		return false;
	FAILIF(!is_filled(t.buf, 3 * PAGE, 5),
	       "the new mapping was written through the old pinned MR");
	return true;
}

/*
 * Local SGE errors: an SGE whose lkey does not grant what the operation
 * does to it.  IBTA names them Local Protection Errors; a NIC completes the
 * work request with IBV_WC_LOC_PROT_ERR, whether the SGE is gathered for a
 * SEND or WRITE, scattered into by a READ response or an atomic's result,
 * or scattered into by the responder for a received SEND (then the receive
 * completes with the error and the requester with IBV_WC_REM_OP_ERR).
 * Pinned, explicit and implicit ODP MRs alike.
 */
enum local_op { L_WRITE, L_SEND, L_READ, L_FETCH_ADD, L_RECV };
enum local_bad {
	B_OTHER_PD,		/* the lkey of an MR in another PD */
	B_NO_LKEY,		/* the lkey of a deregistered MR */
	B_PAST_END,		/* an SGE that runs past the end of its MR */
	B_NO_LOCAL_WRITE,	/* written locally, MR without LOCAL_WRITE */
};

#define LSRC_SEED	7

static bool lb_intact(const unsigned char *lb, size_t from, size_t to)
{
	for (; from < to; from++)
		if (lb[from] != pattern(from, LSRC_SEED))
			return false;
	return true;
}

#define LOCAL_CASE(name, op, bad)					\
static bool local_##name(struct pair *p, enum mr_kind k,		\
			 struct result *r)				\
{									\
	return local_sge(p, k, r, op, bad);				\
}


static bool local_sge(struct pair *p, enum mr_kind k, struct result *r,
		      enum local_op op, enum local_bad bad)
{
	unsigned char *lb = map_anon(3 * PAGE, PROT_READ | PROT_WRITE);
	int access = bad == B_NO_LOCAL_WRITE ? IBV_ACCESS_REMOTE_READ :
					       ACCESS_ALL;
	size_t mrlen = bad == B_PAST_END ? PAGE : 2 * PAGE;
	struct ibv_pd *mpd = p->pd;
	unsigned char *at = lb;
	uint32_t len = 64, lkey;
	struct ibv_mr *mr;
	struct target t;
	uint64_t before, got;
	int st, rst = 0;

	FAILIF(!lb, "mmap");
	fill(lb, 3 * PAGE, LSRC_SEED);
	if (bad == B_OTHER_PD) {
		mpd = ibv_alloc_pd(p->ctx);
		FAILIF(!mpd, "alloc_pd");
	}
	mr = reg_kind(mpd, lb, mrlen, access, k);
	FAILIF(!mr, "reg_mr local: %s", strerror(errno));
	lkey = mr->lkey;
	if (bad == B_NO_LKEY)
		FAILIF(ibv_dereg_mr(mr), "dereg_mr: %s", strerror(errno));
	if (bad == B_PAST_END) {
		/* From the middle of the MR's only page into the next one. */
		len = op == L_FETCH_ADD ? 8 : PAGE;
		at = lb + PAGE - (op == L_FETCH_ADD ? 4 : PAGE / 2);
	}
	if (!target_make(p, &t, MR_PINNED, ACCESS_ALL, r))
		return false;
	memcpy(&before, t.buf, sizeof(before));

	switch (op) {
	case L_WRITE:
		st = post_one(p, IBV_WR_RDMA_WRITE, at, lkey, len,
			      (uintptr_t)t.buf, t.mr->rkey, 0, 0);
		break;
	case L_SEND:
	case L_RECV: {
		struct ibv_sge rsge = {
			.addr = (uintptr_t)t.buf, .length = 2 * PAGE,
			.lkey = t.mr->lkey,
		};
		struct ibv_recv_wr rwr = { .sg_list = &rsge, .num_sge = 1 };
		struct ibv_recv_wr *rbad;

		if (op == L_RECV) {
			rsge.addr = (uintptr_t)at;
			rsge.length = len;
			rsge.lkey = lkey;
		}
		FAILIF(ibv_post_recv(p->qp[1], &rwr, &rbad), "post_recv");
		if (op == L_SEND)
			st = post_one(p, IBV_WR_SEND, at, lkey, len, 0, 0, 0,
				      0);
		else
			st = post_one(p, IBV_WR_SEND, t.loc, t.lmr->lkey, len,
				      0, 0, 0, 0);
		break;
	}
	case L_READ:
		st = post_one(p, IBV_WR_RDMA_READ, at, lkey, len,
			      (uintptr_t)t.buf, t.mr->rkey, 0, 0);
		break;
	case L_FETCH_ADD:
		st = post_one(p, IBV_WR_ATOMIC_FETCH_AND_ADD, at, lkey, 8,
			      (uintptr_t)t.buf, t.mr->rkey, 1, 0);
		break;
	}

	if (op == L_RECV) {
		rst = wait_wc(p->cq[1]);
		GOT("%s, recv %s", wc_name(st), wc_name(rst));
		FAILIF(st != IBV_WC_REM_OP_ERR || rst != IBV_WC_LOC_PROT_ERR,
		       "send %s, recv %s; want REM_OP_ERR, recv LOC_PROT_ERR",
		       wc_name(st), wc_name(rst));
	} else if (!status_is(r, st, IBV_WC_LOC_PROT_ERR)) {
		return false;
	}

	switch (op) {
	case L_WRITE:
	case L_SEND:
		FAILIF(!lb_intact(lb, 0, 3 * PAGE), "local source changed");
		if (bad != B_PAST_END) {
			FAILIF(!INTACT(&t), "data sent from a refused SGE");
			break;
		}
		/*
		 * Packets whose source bytes lie inside the local MR may
		 * have gone out before the SGE ran past its end: the target
		 * may hold those bytes (lb + PAGE / 2 on), never any from
		 * beyond the local MR.
		 */
		for (size_t i = 0; i < PAGE / 2; i++)
			FAILIF(t.buf[i] != pattern(PAGE + i, TSEED) &&
			       t.buf[i] != lb[PAGE / 2 + i],
			       "target byte %zu is neither its own nor the source's",
			       i);
		FAILIF(!target_intact(&t, 0, PAGE) ||
		       !target_intact(&t, PAGE + PAGE / 2, 5 * PAGE),
		       "bytes from beyond the local MR reached the target");
		break;
	case L_READ:
	case L_FETCH_ADD:
	case L_RECV:
		/* Nothing lands outside the MR, or anywhere when refused. */
		if (bad == B_PAST_END)
			FAILIF(!lb_intact(lb, 0, at - lb) ||
			       !lb_intact(lb, PAGE, 3 * PAGE),
			       "local memory outside the MR written");
		else
			FAILIF(!lb_intact(lb, 0, 3 * PAGE),
			       "local memory written through a refused SGE");
		if (op != L_FETCH_ADD) {
			FAILIF(!INTACT(&t), "remote memory changed");
			break;
		}
		/* The responder performed the atomic: a NIC does too. */
		memcpy(&got, t.buf, sizeof(got));
		FAILIF(got != before + 1, "remote value %#" PRIx64
		       ", want %#" PRIx64, got, before + 1);
		FAILIF(!target_intact(&t, 0, PAGE) ||
		       !target_intact(&t, PAGE + 8, 5 * PAGE),
		       "remote memory around the atomic changed");
		break;
	}
	return true;
}

LOCAL_CASE(write_other_pd, L_WRITE, B_OTHER_PD)
LOCAL_CASE(write_no_lkey, L_WRITE, B_NO_LKEY)
LOCAL_CASE(write_past_end, L_WRITE, B_PAST_END)
LOCAL_CASE(send_other_pd, L_SEND, B_OTHER_PD)
LOCAL_CASE(send_no_lkey, L_SEND, B_NO_LKEY)
LOCAL_CASE(send_past_end, L_SEND, B_PAST_END)
LOCAL_CASE(read_other_pd, L_READ, B_OTHER_PD)
LOCAL_CASE(read_no_lkey, L_READ, B_NO_LKEY)
LOCAL_CASE(read_past_end, L_READ, B_PAST_END)
LOCAL_CASE(read_no_local_write, L_READ, B_NO_LOCAL_WRITE)
LOCAL_CASE(fadd_other_pd, L_FETCH_ADD, B_OTHER_PD)
LOCAL_CASE(fadd_no_lkey, L_FETCH_ADD, B_NO_LKEY)
LOCAL_CASE(fadd_past_end, L_FETCH_ADD, B_PAST_END)
LOCAL_CASE(fadd_no_local_write, L_FETCH_ADD, B_NO_LOCAL_WRITE)
LOCAL_CASE(recv_other_pd, L_RECV, B_OTHER_PD)
LOCAL_CASE(recv_no_lkey, L_RECV, B_NO_LKEY)
LOCAL_CASE(recv_past_end, L_RECV, B_PAST_END)
LOCAL_CASE(recv_no_local_write, L_RECV, B_NO_LOCAL_WRITE)

/*
 * An MR registered at an iova whose range wraps past U64_MAX.  Refusing it
 * (EINVAL) is right; a device that takes it must confine a WRITE across the
 * wrap to the MR: either refuse it, or put it exactly where the MR's bytes
 * at those iovas are (buf + PAGE - 32, 64 bytes), and nowhere else.
 */
static bool iova_wraps(struct pair *p, enum mr_kind k, struct result *r)
{
	struct target t;
	struct ibv_mr *mr;
	uint64_t iova = UINT64_MAX - PAGE + 1;
	size_t at = PAGE + PAGE - 32;	/* in t.map */
	int st;

	if (!target_make(p, &t, MR_PINNED, ACCESS_ALL, r))
		return false;
	ibv_dereg_mr(t.mr);
	mr = ibv_reg_mr_iova(p->pd, t.buf, 3 * PAGE, iova,
			     ACCESS_ALL | kind_flag(k));
	if (!mr) {
		GOT("%s", errname(errno));
		FAILIF(errno != EINVAL, "reg_mr_iova: %s", errname(errno));
		return true;
	}
	st = post_one(p, IBV_WR_RDMA_WRITE, t.loc, t.lmr->lkey, 64,
		      UINT64_MAX - 31, mr->rkey, 0, 0);
	GOT("reg 0, write %s", wc_name(st));
	if (st == IBV_WC_REM_ACCESS_ERR) {
		FAILIF(!INTACT(&t), "memory changed by a refused write");
		return true;
	}
	FAILIF(st != IBV_WC_SUCCESS, "write across the wrap: %s", wc_name(st));
	FAILIF(memcmp(t.map + at, t.loc, 64), "data not at the MR's bytes");
	FAILIF(!target_intact(&t, 0, at) ||
	       !target_intact(&t, at + 64, 5 * PAGE),
	       "bytes outside the 64 written changed");
	return true;
}

/* A type 1 window bound beyond its MR: the bind fails. */
static bool mw_bind_beyond(struct pair *p, enum mr_kind k, struct result *r)
{
	struct ibv_mw_bind bind = { .send_flags = IBV_SEND_SIGNALED };
	struct ibv_mw *mw;
	struct target t;
	int st;

	if (!target_make(p, &t, k, ACCESS_ALL | IBV_ACCESS_MW_BIND, r))
		return false;
	mw = ibv_alloc_mw(p->pd, IBV_MW_TYPE_1);
	FAILIF(!mw, "alloc_mw: %s", strerror(errno));
	bind.bind_info.mr = t.mr;
	bind.bind_info.addr = (uintptr_t)t.buf + 2 * PAGE;
	bind.bind_info.length = 2 * PAGE;
	bind.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	if (ibv_bind_mw(p->qp[0], mw, &bind)) {
		GOT("post %s", errname(errno));
		FAILIF(true, "bind_mw refused at post: %s", errname(errno));
	}
	st = wait_wc(p->cq[0]);
	if (!status_is(r, st, IBV_WC_MW_BIND_ERR))
		return false;
	FAILIF(!INTACT(&t), "memory changed");
	return true;
}

/*
 * A SEND longer than the posted receive buffer: the receive completes with
 * a Local Length Error and the responder NAKs the requester with an Invalid
 * Request (IBTA), pinned and ODP alike.
 */
static bool send_too_long(struct pair *p, enum mr_kind k, struct result *r)
{
	struct ibv_sge rsge;
	struct ibv_recv_wr rwr = { .sg_list = &rsge, .num_sge = 1 }, *bad;
	struct target t;
	int st;

	if (!target_make(p, &t, k, ACCESS_ALL, r))
		return false;
	rsge.addr = (uintptr_t)t.buf + PAGE;
	rsge.length = 256;
	rsge.lkey = t.mr->lkey;
	FAILIF(ibv_post_recv(p->qp[1], &rwr, &bad), "post_recv");
	st = post_one(p, IBV_WR_SEND, t.loc, t.lmr->lkey, 1024, 0, 0, 0, 0);
	if (!status_is(r, st, IBV_WC_REM_INV_REQ_ERR))
		return false;
	st = wait_wc(p->cq[1]);
	GOT("%s, recv %s", wc_name(IBV_WC_REM_INV_REQ_ERR), wc_name(st));
	FAILIF(st != IBV_WC_LOC_LEN_ERR, "receiver status %s, want %s",
	       wc_name(st), wc_name(IBV_WC_LOC_LEN_ERR));
	FAILIF(!target_intact(&t, 0, 2 * PAGE) ||
	       !target_intact(&t, 2 * PAGE + 256, 5 * PAGE),
	       "memory beyond the receive buffer written");
	return true;
}

/* ---- remote access, by description ---------------------------------- */

/*
 * Most remote cases have one shape: a target MR of the case's kind (struct
 * target), something done to it or its memory, one work request from the
 * pinned local buffer, its exact status, and the bytes that must not have
 * changed checked afterwards.  struct remote describes one such case.
 */
enum prep {
	PREP_NONE,
	PREP_RO_PAGE0,		/* the target's first page PROT_READ */
	PREP_RO_PAGE1,		/* its middle page PROT_READ */
	PREP_NONE_PAGE1,	/* its middle page PROT_NONE */
	PREP_UNMAP_PAGE1,	/* its middle page unmapped */
	PREP_DEREG,		/* the MR deregistered; its rkey is used */
	PREP_OTHER_PD,		/* the MR registered in another PD instead */
};

#define OP_FLUSH	(-1)	/* RDMA FLUSH (rxe-flush.h) */

/* What is checked afterwards. */
#define KEEP_TARGET	1	/* the target's pages and guards, but skip[] */
#define KEEP_LOCAL	2	/* the local buffer */
#define KEEP_HOLE	4	/* the unmapped page is still unmapped */

struct remote {
	int access;		/* of the target MR */
	enum prep prep;
	int op;			/* IBV_WR_* or OP_FLUSH */
	uint32_t len;
	bool abs;		/* @at is an address, not an offset in buf */
	uint64_t at;
	uint32_t rkey;		/* an rkey of no MR; 0: the target's */
	uint64_t add, swap;	/* atomics */
	uint8_t ftype, flevel;	/* FLUSH placement type, selectivity level */
	int qp_access;		/* responder QP's; 0: all (and FLUSH) */
	int want;		/* completion status, or -2 (post refused) */
	int want_errno;		/* errno of a refused post */
	int keep;		/* KEEP_* */
	size_t skip[2];		/* [from, to) in the target's map: may change */
	/*
	 * A status rxe gives where IBTA (or what rxe does elsewhere) wants
	 * @want: passes as a known deviation (TAP XFAIL), with @deviation.
	 */
	const char *deviation;
	int rxe_gives;
};

static bool remote_run(struct pair *p, enum mr_kind k, struct result *r,
		       const struct remote *c)
{
	bool prot = c->prep == PREP_RO_PAGE0 || c->prep == PREP_RO_PAGE1 ||
		    c->prep == PREP_NONE_PAGE1;
	struct ibv_pd *pd2 = NULL;
	struct target t;
	uint64_t raddr;
	uint32_t rkey;
	unsigned char vec;
	size_t i;
	int st, err = 0;

	if (c->op == OP_FLUSH || c->qp_access) {
		/* A requester that can post FLUSH, a responder that takes it. */
		pair_close(p);
		FAILIF(pair_open_ex(p, NULL, NULL, 8, IBV_QP_EX_WITH_RDMA_WRITE,
				    c->qp_access ? c->qp_access :
				    QP_REMOTE_ALL | ACCESS_FLUSH_GLOBAL |
				    ACCESS_FLUSH_PERSISTENT),
		       "QPs for FLUSH: %s", strerror(errno));
	}
	if (!target_make(p, &t, c->prep == PREP_OTHER_PD ? MR_PINNED : k,
			 c->access, r))
		return false;
	rkey = t.mr->rkey;
	switch (c->prep) {
	case PREP_NONE:
		break;
	case PREP_RO_PAGE0:
	case PREP_RO_PAGE1:
	case PREP_NONE_PAGE1:
		FAILIF(mprotect(c->prep == PREP_RO_PAGE0 ? t.buf : t.buf + PAGE,
				PAGE, c->prep == PREP_NONE_PAGE1 ? PROT_NONE :
				PROT_READ), "mprotect");
		break;
	case PREP_UNMAP_PAGE1:
		FAILIF(munmap(t.buf + PAGE, PAGE), "munmap");
		break;
	case PREP_DEREG:
		FAILIF(ibv_dereg_mr(t.mr), "dereg_mr");
		break;
	case PREP_OTHER_PD:
		pd2 = ibv_alloc_pd(p->ctx);
		FAILIF(!pd2, "alloc_pd");
		ibv_dereg_mr(t.mr);
		t.mr = reg_kind(pd2, t.buf, 3 * PAGE, c->access, k);
		FAILIF(!t.mr, "reg_mr in PD 2: %s", strerror(errno));
		rkey = t.mr->rkey;
		break;
	}
	if (c->rkey)
		rkey = c->rkey;
	raddr = c->abs ? (uint64_t)c->at : (uintptr_t)t.buf + c->at;

	if (c->op == OP_FLUSH) {
		st = rxe_post_flush(p->qpx, raddr, c->len, rkey, c->ftype,
				    c->flevel) ? -2 : wait_wc(p->cq[0]);
	} else {
		st = post_one(p, (enum ibv_wr_opcode)c->op, t.loc, t.lmr->lkey,
			      c->len, raddr, rkey, c->add, c->swap);
		err = errno;
	}
	if (c->want == -2) {
		GOT("%s %s", wc_name(st), st == -2 ? errname(err) : "");
		FAILIF(st != -2 || err != c->want_errno,
		       "status %s (%s), want post %s", wc_name(st),
		       errname(err), errname(c->want_errno));
	} else if (c->deviation && st == c->rxe_gives && st != c->want) {
		GOT("%s (rxe; want %s)", wc_name(st), wc_name(c->want));
		r->xfail = c->deviation;
	} else if (!status_is(r, st, c->want)) {
		return false;
	}

	/* The pages back to read-write, to read them. */
	if (prot)
		FAILIF(mprotect(t.buf, 3 * PAGE, PROT_READ | PROT_WRITE),
		       "mprotect back");
	if (c->keep & KEEP_TARGET) {
		size_t hole = c->prep == PREP_UNMAP_PAGE1 ? 2 * PAGE : 0;

		for (i = 0; i < 5 * PAGE; i++) {
			if (hole && i >= hole && i < hole + PAGE)
				continue;
			if (i >= c->skip[0] && i < c->skip[1])
				continue;
			FAILIF(t.map[i] != pattern(i, TSEED),
			       "target byte %zu (page %zu of guard, 3 MR pages, guard) changed",
			       i, i / PAGE);
		}
	}
	FAILIF((c->keep & KEEP_LOCAL) && !is_filled(t.loc, 2 * PAGE, LSEED),
	       "local buffer written by a refused request");
	FAILIF((c->keep & KEEP_HOLE) &&
	       (!mincore(t.buf + PAGE, PAGE, &vec) || errno != ENOMEM),
	       "the unmapped page was mapped again");
	if (pd2) {
		ibv_dereg_mr(t.mr);
		ibv_dealloc_pd(pd2);
	}
	return true;
}

/* ---- the table -------------------------------------------------------- */

#define P	(1 << MR_PINNED)
#define O	(1 << MR_ODP)
#define I	(1 << MR_IMPLICIT)

static const struct bad_case {
	const char *name;
	bool (*fn)(struct pair *p, enum mr_kind k, struct result *r);
	unsigned int kinds;
	const char *want;
} cases[] = {
	{ "reg_zero_length", reg_zero_length, P | O, "EINVAL" },
	{ "reg_addr_plus_len_wraps", reg_len_wraps, P | O, "EINVAL" },
	{ "reg_len_u64max_at_addr", reg_len_u64max, P | O, "EINVAL" },
	{ "reg_len_to_u64max", reg_len_to_top, P | O, "EINVAL" },
	{ "reg_iova_offset_differs", reg_iova_unaligned, P | O, "EINVAL" },
	{ "reg_implicit_hugetlb", reg_implicit_hugetlb, I, "EINVAL" },
	{ "reg_implicit_nonzero_iova", reg_implicit_iova, I, "EINVAL" },
	{ "reg_implicit_nonzero_addr", reg_implicit_addr, I, "EINVAL" },
	{ "reg_remote_write_no_local_write", reg_rw_no_lw, P | O | I, "EINVAL" },
	{ "reg_remote_atomic_no_local_write", reg_ratomic_no_lw, P | O | I,
	  "EINVAL" },
	{ "reg_hugetlb_on_anon_memory", reg_hugetlb_anon, O, "EINVAL" },
	{ "reg_pinned_writable_on_prot_read", reg_pinned_write_ro, P, "EFAULT" },
	{ "reg_pinned_unmapped", reg_pinned_unmapped, P, "EFAULT" },
	{ "reg_iova_range_wraps", iova_wraps, P | O,
	  "EINVAL, or confined to the MR" },
	{ "advise_prefetch_write_sync", advise_ok, O | I, "0" },
	{ "advise_prefetch_read_only_mr", advise_read_ro, O | I, "0" },
	{ "advise_prefetch_write_read_only_mr", advise_write_ro, O | I, "EPERM" },
	{ "advise_non_odp_mr", advise_pinned, P, "EFAULT" },
	{ "advise_past_mr_end", advise_past_end, O, "EFAULT" },
	{ "advise_before_mr_start", advise_before_start, O, "EFAULT" },
	{ "advise_unknown_advice", advise_bad_advice, O, "EOPNOTSUPP" },
	{ "advise_unknown_flag", advise_bad_flags, O, "EINVAL" },
	{ "advise_zero_length_sge", advise_zero_len, O | I, "0" },
	{ "advise_lkey_of_other_pd", advise_wrong_pd, O | I, "EFAULT" },
	{ "advise_deregistered_lkey", advise_dereg, O | I, "EFAULT" },
	{ "advise_sync_unmapped_range", advise_unmapped, O | I, "EFAULT" },
	{ "advise_kernel_address", advise_kernel_addr, I, "EFAULT" },
	{ "advise_range_wraps", advise_wraps, I, "EFAULT" },
	{ "write_longer_than_mr", write_longer_than_mr, P | O,
	  "REM_ACCESS_ERR" },
	{ "pinned_write_after_remap", pinned_write_remapped, P, "SUCCESS" },
	{ "write_sge_lkey_of_other_pd", local_write_other_pd, P | O | I,
	  "LOC_PROT_ERR" },
	{ "write_sge_lkey_deregistered", local_write_no_lkey, P | O | I,
	  "LOC_PROT_ERR" },
	{ "write_sge_past_mr_end", local_write_past_end, P | O,
	  "LOC_PROT_ERR" },
	{ "send_sge_lkey_of_other_pd", local_send_other_pd, P | O | I,
	  "LOC_PROT_ERR" },
	{ "send_sge_lkey_deregistered", local_send_no_lkey, P | O | I,
	  "LOC_PROT_ERR" },
	{ "send_sge_past_mr_end", local_send_past_end, P | O, "LOC_PROT_ERR" },
	{ "read_sge_lkey_of_other_pd", local_read_other_pd, P | O | I,
	  "LOC_PROT_ERR" },
	{ "read_sge_lkey_deregistered", local_read_no_lkey, P | O | I,
	  "LOC_PROT_ERR" },
	{ "read_sge_past_mr_end", local_read_past_end, P | O, "LOC_PROT_ERR" },
	{ "read_into_mr_without_local_write", local_read_no_local_write,
	  P | O | I, "LOC_PROT_ERR" },
	{ "fetch_add_sge_lkey_of_other_pd", local_fadd_other_pd, P | O | I,
	  "LOC_PROT_ERR" },
	{ "fetch_add_sge_lkey_deregistered", local_fadd_no_lkey, P | O | I,
	  "LOC_PROT_ERR" },
	{ "fetch_add_sge_past_mr_end", local_fadd_past_end, P | O,
	  "LOC_PROT_ERR" },
	{ "fetch_add_into_mr_without_local_write", local_fadd_no_local_write,
	  P | O | I, "LOC_PROT_ERR" },
	{ "recv_sge_lkey_of_other_pd", local_recv_other_pd, P | O | I,
	  "REM_OP_ERR, recv LOC_PROT_ERR" },
	{ "recv_sge_lkey_deregistered", local_recv_no_lkey, P | O | I,
	  "REM_OP_ERR, recv LOC_PROT_ERR" },
	{ "recv_sge_past_mr_end", local_recv_past_end, P | O,
	  "REM_OP_ERR, recv LOC_PROT_ERR" },
	{ "recv_into_mr_without_local_write", local_recv_no_local_write,
	  P | O | I, "REM_OP_ERR, recv LOC_PROT_ERR" },
	{ "mw_bind_beyond_mr", mw_bind_beyond, P | O, "MW_BIND_ERR" },
	{ "send_longer_than_recv", send_too_long, P | O | I,
	  "REM_INV_REQ_ERR, recv LOC_LEN_ERR" },
	{ "reg_flush_persistent", reg_flush_persistent, P | O | I,
	  "pinned EINVAL, ODP EOPNOTSUPP" },
};

#define FG	ACCESS_FLUSH_GLOBAL

/* Cases of one shape, described (remote_run()). */
static const struct remote_case {
	const char *name;
	unsigned int kinds;
	const char *want;
	struct remote c;
} remote_cases[] = {
	/* RDMA WRITE, READ and atomics */
	{ "write_past_mr_end", P | O, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = IBV_WR_RDMA_WRITE, .len = 64,
	    .at = 3 * PAGE - 32, .want = IBV_WC_REM_ACCESS_ERR,
	    .keep = KEEP_TARGET } },
	{ "write_before_mr_start", P | O, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = IBV_WR_RDMA_WRITE, .len = 64,
	    .at = (uint64_t)-16, .want = IBV_WC_REM_ACCESS_ERR,
	    .keep = KEEP_TARGET } },
	{ "read_past_mr_end", P | O, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = IBV_WR_RDMA_READ, .len = 2 * PAGE,
	    .at = 2 * PAGE, .want = IBV_WC_REM_ACCESS_ERR,
	    .keep = KEEP_LOCAL } },
	{ "write_prot_read_page", O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .prep = PREP_RO_PAGE1,
	    .op = IBV_WR_RDMA_WRITE, .len = 64, .at = PAGE + 100,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	/*
	 * A write that starts writable and runs into the PROT_READ page: the
	 * first page may hold some of it, the PROT_READ page none.
	 */
	{ "write_running_into_prot_read", O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .prep = PREP_RO_PAGE1,
	    .op = IBV_WR_RDMA_WRITE, .len = PAGE, .at = PAGE / 2,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET,
	    .skip = { PAGE, 2 * PAGE } } },
	{ "read_prot_none_page", O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .prep = PREP_NONE_PAGE1,
	    .op = IBV_WR_RDMA_READ, .len = 256, .at = PAGE + 8,
	    .want = IBV_WC_REM_ACCESS_ERR,
	    .keep = KEEP_LOCAL | KEEP_TARGET } },
	{ "atomic_prot_read_page", O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .prep = PREP_RO_PAGE0,
	    .op = IBV_WR_ATOMIC_FETCH_AND_ADD, .len = 8, .at = 64, .add = 1,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	{ "write_after_munmap", O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .prep = PREP_UNMAP_PAGE1,
	    .op = IBV_WR_RDMA_WRITE, .len = 128, .at = PAGE,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	/* The rkey of a deregistered MR, over memory still mapped. */
	{ "rkey_of_deregistered_mr", P | O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .prep = PREP_DEREG,
	    .op = IBV_WR_RDMA_WRITE, .len = 64, .at = 8,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	/*
	 * Atomics need 8-byte alignment (IBTA 9.4.5).  rdma-core's rxe
	 * provider refuses an unaligned one when it is posted (EINVAL),
	 * before it reaches the wire and the responder's check (which would
	 * NAK it as an Invalid Request): that refusal is what a user sees,
	 * and nothing may change.
	 */
	{ "fetch_add_unaligned", P | O | I, "post-failed EINVAL",
	  { .access = ACCESS_ALL, .op = IBV_WR_ATOMIC_FETCH_AND_ADD,
	    .len = 8, .at = 12, .add = 1, .want = -2, .want_errno = EINVAL,
	    .keep = KEEP_TARGET } },
	{ "cmp_swap_unaligned", P | O | I, "post-failed EINVAL",
	  { .access = ACCESS_ALL, .op = IBV_WR_ATOMIC_CMP_AND_SWP, .len = 8,
	    .at = PAGE - 4, .swap = 1, .want = -2, .want_errno = EINVAL,
	    .keep = KEEP_TARGET } },
	{ "atomic_past_mr_end", P | O, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = IBV_WR_ATOMIC_FETCH_AND_ADD,
	    .len = 8, .at = 3 * PAGE, .add = 1,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	{ "atomic_without_remote_atomic", P | O | I, "REM_ACCESS_ERR",
	  { .access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		      IBV_ACCESS_REMOTE_READ,
	    .op = IBV_WR_ATOMIC_FETCH_AND_ADD, .len = 8, .at = 64, .add = 1,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	{ "write_without_remote_write", P | O | I, "REM_ACCESS_ERR",
	  { .access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ,
	    .op = IBV_WR_RDMA_WRITE, .len = 64, .at = 0,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	{ "read_without_remote_read", P | O | I, "REM_ACCESS_ERR",
	  { .access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
	    .op = IBV_WR_RDMA_READ, .len = 64, .at = 0,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_LOCAL } },
	/* The rkey of an MR of another PD than the responder QP's. */
	{ "rkey_of_other_pd", P | O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .prep = PREP_OTHER_PD,
	    .op = IBV_WR_RDMA_WRITE, .len = 64, .at = 0,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	/* A zero-length RDMA WRITE is not checked against R_Key or VA (C9-88). */
	{ "zero_length_write_any_rkey", P, "SUCCESS",
	  { .access = ACCESS_ALL, .op = IBV_WR_RDMA_WRITE, .len = 0,
	    .abs = true, .at = 0x1000, .rkey = 0xdead00,
	    .want = IBV_WC_SUCCESS, .keep = KEEP_TARGET } },
	/* An implicit rkey: a write whose last byte wraps past U64_MAX. */
	{ "write_wrapping_u64max", I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = IBV_WR_RDMA_WRITE, .len = 64,
	    .abs = true, .at = UINT64_MAX - 31,
	    .want = IBV_WC_REM_ACCESS_ERR,
	    .keep = KEEP_TARGET | KEEP_LOCAL } },
	/* An implicit rkey covers user space only: kernel addresses are refused. */
	{ "read_kernel_address", I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = IBV_WR_RDMA_READ, .len = 64,
	    .abs = true, .at = 0xffff888000001000ULL,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_LOCAL } },
	/* An implicit rkey and address 0 (never mapped). */
	{ "write_address_zero", I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = IBV_WR_RDMA_WRITE, .len = 64,
	    .abs = true, .at = 0, .want = IBV_WC_REM_ACCESS_ERR } },
	/* RDMA FLUSH, for global visibility and of a range unless said */
	{ "flush_in_range", P | O | I, "SUCCESS",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = 2 * PAGE,
	    .at = 100, .ftype = FLUSH_GLOBAL, .want = IBV_WC_SUCCESS,
	    .keep = KEEP_TARGET } },
	{ "flush_mr_without_flush_access", P | O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL, .op = OP_FLUSH, .len = 2 * PAGE,
	    .at = 100, .ftype = FLUSH_GLOBAL,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	{ "flush_past_mr_end", P | O, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = 2 * PAGE,
	    .at = 2 * PAGE, .ftype = FLUSH_GLOBAL,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	{ "flush_before_mr_start", P | O, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = 128,
	    .at = (uint64_t)-64, .ftype = FLUSH_GLOBAL,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	/*
	 * A responder QP not enabled for FLUSH: Remote Invalid Request, as
	 * for a READ, WRITE or atomic its QP does not enable.
	 */
	{ "flush_qp_without_flush_access", P | O | I, "REM_INV_REQ_ERR",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = PAGE,
	    .at = 0, .ftype = FLUSH_GLOBAL, .qp_access = QP_REMOTE_ALL,
	    .want = IBV_WC_REM_INV_REQ_ERR, .keep = KEEP_TARGET } },
	{ "flush_persistent_on_global_mr", P | O | I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = PAGE,
	    .at = 0, .ftype = FLUSH_PERSISTENT,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	/*
	 * FLUSH places no data: IBTA has the responder check the R_Key, its
	 * rights and the bounds, all good here, and make earlier writes to
	 * the range visible; an unmapped page holds none.  So it succeeds,
	 * without faulting anything in: the page stays unmapped.
	 */
	{ "flush_unmapped_range", O | I, "SUCCESS, page still unmapped",
	  { .access = ACCESS_ALL | FG, .prep = PREP_UNMAP_PAGE1,
	    .op = OP_FLUSH, .len = PAGE, .at = PAGE,
	    .ftype = FLUSH_GLOBAL, .want = IBV_WC_SUCCESS,
	    .keep = KEEP_TARGET | KEEP_HOLE } },
	{ "flush_wrapping_u64max", I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = 64,
	    .abs = true, .at = UINT64_MAX - 31, .ftype = FLUSH_GLOBAL,
	    .want = IBV_WC_REM_ACCESS_ERR, .keep = KEEP_TARGET } },
	/*
	 * An implicit rkey covers user space only: rxe refuses a READ or
	 * WRITE of a kernel address (read_kernel_address), but its FLUSH
	 * checks the range against the MR's nominal length (U64_MAX) only.
	 */
	{ "flush_kernel_address", I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = 64,
	    .abs = true, .at = 0xffff888000001000ULL,
	    .ftype = FLUSH_GLOBAL, .want = IBV_WC_REM_ACCESS_ERR,
	    .keep = KEEP_TARGET } },
	/* Past the user address space, of 4- or 5-level paging alike. */
	{ "flush_past_user_space", I, "REM_ACCESS_ERR",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = 64,
	    .abs = true, .at = 1ULL << 56,
	    .ftype = FLUSH_GLOBAL, .want = IBV_WC_REM_ACCESS_ERR,
	    .keep = KEEP_TARGET } },
	/* Selectivity "whole MR": the VA and length are not looked at. */
	{ "flush_mr_level_any_range", P | O, "SUCCESS",
	  { .access = ACCESS_ALL | FG, .op = OP_FLUSH, .len = 0,
	    .abs = true, .at = 0x1000, .ftype = FLUSH_GLOBAL,
	    .flevel = FLUSH_MR, .want = IBV_WC_SUCCESS,
	    .keep = KEEP_TARGET } },
};

#define NF	(sizeof(cases) / sizeof(cases[0]))
#define NR	(sizeof(remote_cases) / sizeof(remote_cases[0]))
#define KINDS(i)	((i) < NF ? cases[i].kinds : remote_cases[(i) - NF].kinds)

int main(int argc, char **argv)
{
	unsigned int i, n = 0, failed = 0, xfailed = 0, total = 0;
	struct row {
		char name[64];
		const char *want;
		struct result r;
		bool ok;
	} *rows;
	int k;

	if (argc > 1)
		loop_dev = argv[1];
	if (loop_find_gid() < 0) {
		printf("Bail out! no RoCE v2 GID for 10.0.2.15 on %s\n", loop_dev);
		return 1;
	}
	for (i = 0; i < NF + NR; i++)
		total += __builtin_popcount(KINDS(i));
	rows = calloc(total, sizeof(*rows));
	if (!rows)
		return 1;
	printf("TAP version 13\n1..%u\n", total);
	for (i = 0; i < NF + NR; i++) {
		for (k = MR_PINNED; k <= MR_IMPLICIT; k++) {
			struct row *w = &rows[n];
			struct pair p;

			if (!(KINDS(i) & (1u << k)))
				continue;
			snprintf(w->name, sizeof(w->name), "%s.%s",
				 i < NF ? cases[i].name :
				 remote_cases[i - NF].name, mr_kind_name[k]);
			w->want = i < NF ? cases[i].want :
				  remote_cases[i - NF].want;
			strcpy(w->r.got, "-");
			/* Fresh QPs for each case: an error moves them to ERR. */
			if (pair_open(&p)) {
				snprintf(w->r.why, sizeof(w->r.why),
					 "setup: %s", strerror(errno));
				w->ok = false;
			} else if (i < NF) {
				w->ok = cases[i].fn(&p, k, &w->r);
			} else {
				w->ok = remote_run(&p, k, &w->r,
						   &remote_cases[i - NF].c);
			}
			pair_close(&p);
			n++;
			if (!w->ok)
				printf("# %s: %s\n", w->name, w->r.why);
			if (w->ok && w->r.xfail)
				printf("ok %u %s # XFAIL %s\n", n, w->name,
				       w->r.xfail);
			else
				printf("%sok %u %s\n", w->ok ? "" : "not ",
				       n, w->name);
			fflush(stdout);
			failed += !w->ok;
			xfailed += w->ok && w->r.xfail;
		}
	}
	printf("#\n# %-46s %-34s %-34s %s\n", "case", "expected", "observed",
	       "result");
	for (i = 0; i < n; i++)
		printf("# %-46s %-34s %-34s %s\n", rows[i].name, rows[i].want,
		       rows[i].r.got, !rows[i].ok ? "FAIL" :
		       rows[i].r.xfail ? "XFAIL" : "PASS");
	printf("# bad-input cases: %u, passed %u, failed %u, known rxe deviations (XFAIL) %u\n",
	       n, n - failed - xfailed, failed, xfailed);
	return failed ? 1 : 0;
}
