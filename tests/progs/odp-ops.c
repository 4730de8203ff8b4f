// SPDX-License-Identifier: GPL-2.0
/*
 * rxe On-Demand Paging beyond RC WRITE/READ/SEND/atomics: prefetch through
 * the uverbs ADVISE_MR method, the ODP counters, IBV_ACCESS_HUGETLB, an iova
 * that differs from the address, UC and UD transports, SRQs, ATOMIC WRITE,
 * lengths that wrap, a write to a page first faulted read-only, and the
 * lifetime of ODP MRs (deregistration under traffic, QP/PD destroy, process
 * exit and SIGKILL with live MRs), and RC retransmissions that a completion
 * overtakes (the completed WQE's buffers are not read again).
 *
 * Every test uses QPs of this process connected to each other over rxe0
 * (RoCE v2 loopback through 10.0.2.15), with data checked byte for byte,
 * including the bytes around each transferred range.  MR kinds: pinned,
 * explicit ODP, implicit ODP (one MR for the whole address space).
 *
 * usage: odp-ops [-l] [PATTERN]   run the tests whose name contains PATTERN
 *        odp-ops hold             ODP traffic until killed (rdma link delete)
 * Prints TAP; exits 1 if any test failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>
#include "rxe-flush.h"

#define RDMA_LOOP_SETUP_ONLY
#include "rdma-loop.h"

#define ACCESS_ALL	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)
#define GRH_LEN		40
#define NPAGES		4
#define LOFF		300		/* transfers start mid-page ... */
#define ROFF		100
#define XLEN		(2 * pg + 2000)	/* ... and cross three pages */
#define UD_LEN		1000		/* one packet at the 1024 MTU */
#define HUGE_2M		(2UL << 20)

#define PREFETCH	IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH
#define PREFETCH_WRITE	IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_WRITE
#define PREFETCH_NO_FAULT IB_UVERBS_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT
#define ADV_FLUSH	IB_UVERBS_ADVISE_MR_FLAG_FLUSH

enum kind { PINNED, EXPLICIT, IMPLICIT };
static const char *const kind_name[] = { "pinned", "explicit", "implicit" };

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static struct ibv_mr *implicit_mr;	/* ACCESS_ALL, on pd */
static union ibv_gid gid;
static size_t pg;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: ", __func__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		return -1;						\
	}								\
} while (0)

#define TRY(expr) do { if (expr) return -1; } while (0)

/* Byte @i of data with @seed: different in every page and for every seed. */
static unsigned char pat(size_t i, unsigned int seed)
{
	return i / pg * 37 + i * 11 + (i >> 8) + seed * 101;
}

static void fill(unsigned char *p, size_t len, size_t base, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(base + i, seed);
}

static int same(const unsigned char *got, const unsigned char *want,
		size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++)
		CHECK(got[i] == want[i],
		      "%s: byte %zu (page %zu + %zu) is 0x%02x, expected 0x%02x",
		      what, i, i / pg, i % pg, got[i], want[i]);
	return 0;
}

static unsigned char *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A new mapping at the same address: what the MR covers is new memory. */
static int remap(unsigned char *p, size_t len)
{
	CHECK(!munmap(p, len), "munmap: %s", strerror(errno));
	CHECK(mmap(p, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == p,
	      "mmap at %p: %s", (void *)p, strerror(errno));
	return 0;
}

/* The port counter @name of the device (what rdma statistic shows). */
static long long counter(const char *name)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/%s", loop_dev,
		 name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

enum { C_FAULTS, C_PAGE_FAULTS, C_INVAL, C_PAGE_INVAL, C_PREFETCH,
       C_PAGE_PREFETCH, NCOUNTERS };
static const char *const cnames[NCOUNTERS] = {
	"odp_faults", "page_faults", "odp_invalidations",
	"page_invalidations", "odp_prefetches", "page_prefetch",
};

/*
 * A snapshot of the ODP counters.  The core keeps a port's hw counters for
 * their lifespan (hw_counters/lifespan, 10 ms by default) and answers reads
 * within it from that copy: wait it out, so that the snapshot includes what
 * was just done.
 */
static void counters(long long *c)
{
	int i;

	usleep(20000);
	for (i = 0; i < NCOUNTERS; i++)
		c[i] = counter(cnames[i]);
}

/* MRs */

static struct ibv_mr *mr_get(enum kind k, void *addr, size_t len, int access)
{
	if (k == IMPLICIT)
		return implicit_mr;
	return ibv_reg_mr(pd, addr, len,
			  access | (k == EXPLICIT ? IBV_ACCESS_ON_DEMAND : 0));
}

static void mr_put(struct ibv_mr *mr)
{
	if (mr && mr != implicit_mr)
		ibv_dereg_mr(mr);
}

/* Advice on one range of @mr, through the PD of @mr. */
static int advise1(uint32_t advice, uint32_t flags, struct ibv_mr *mr,
		   uint64_t addr, uint32_t len)
{
	struct ibv_sge sge = { .addr = addr, .length = len, .lkey = mr->lkey };

	return advise_mr_ioctl(mr->pd, advice, flags, &sge, 1);
}

/* QP pairs: qp[0] requests, qp[1] responds */

struct qpp {
	enum ibv_qp_type type;
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	struct ibv_qp_ex *qpx;	/* qp[0], with ATOMIC WRITE */
	struct ibv_srq *srq;
	struct ibv_ah *ah;
};

static int qp_connect(struct qpp *p, int i)
{
	int err = loop_qp_to_rts(p->qp[i], p->qp[!i]->qp_num, &gid,
				 IBV_MTU_1024, 1);

	CHECK(!err, "qp[%d] to RTS: %s", i, strerror(err));
	return 0;
}

static void qpp_close(struct qpp *p)
{
	int i;

	if (p->ah)
		ibv_destroy_ah(p->ah);
	for (i = 0; i < 2; i++)
		if (p->qp[i])
			ibv_destroy_qp(p->qp[i]);
	if (p->srq)
		ibv_destroy_srq(p->srq);
	for (i = 0; i < 2; i++)
		if (p->cq[i])
			ibv_destroy_cq(p->cq[i]);
	memset(p, 0, sizeof(*p));
}

static int qpp_open(struct qpp *p, struct ibv_pd *qpd, enum ibv_qp_type type,
		    bool srq, bool atomic_write)
{
	struct ibv_context *c = qpd->context;
	int i;

	memset(p, 0, sizeof(*p));
	p->type = type;
	if (srq) {
		struct ibv_srq_init_attr sa = {
			.attr = { .max_wr = 8, .max_sge = 1 },
		};

		p->srq = ibv_create_srq(qpd, &sa);
		CHECK(p->srq, "ibv_create_srq: %s", strerror(errno));
	}
	for (i = 0; i < 2; i++) {
		struct ibv_qp_init_attr_ex a = {
			.qp_type = type,
			.cap = { .max_send_wr = 8, .max_recv_wr = 8,
				 .max_send_sge = 1, .max_recv_sge = 1 },
			.srq = p->srq,
			.comp_mask = IBV_QP_INIT_ATTR_PD,
			.pd = qpd,
		};

		p->cq[i] = ibv_create_cq(c, 16, NULL, NULL, 0);
		CHECK(p->cq[i], "ibv_create_cq: %s", strerror(errno));
		a.send_cq = a.recv_cq = p->cq[i];
		if (atomic_write && !i) {
			a.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
			a.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE |
					   IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM |
					   IBV_QP_EX_WITH_SEND |
					   IBV_QP_EX_WITH_RDMA_READ |
					   IBV_QP_EX_WITH_ATOMIC_WRITE;
		}
		p->qp[i] = ibv_create_qp_ex(c, &a);
		CHECK(p->qp[i], "ibv_create_qp_ex (type %d%s): %s", type,
		      atomic_write && !i ? ", ATOMIC_WRITE" : "",
		      strerror(errno));
	}
	if (atomic_write) {
		p->qpx = ibv_qp_to_qp_ex(p->qp[0]);
		CHECK(p->qpx, "ibv_qp_to_qp_ex");
	}
	for (i = 0; i < 2; i++)
		TRY(qp_connect(p, i));
	if (type == IBV_QPT_UD) {
		struct ibv_ah_attr aa = {
			.is_global = 1, .port_num = 1,
			.grh = { .dgid = gid, .sgid_index = loop_gid,
				 .hop_limit = 1 },
		};

		p->ah = ibv_create_ah(qpd, &aa);
		CHECK(p->ah, "ibv_create_ah: %s", strerror(errno));
	}
	return 0;
}

/* One completion on @cq within 10 s: its status, or -1. */
static int wait_wc(struct ibv_cq *cq, struct ibv_wc *wc)
{
	struct timespec t0, t;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n > 0)
			return wc->status;
		if (n < 0)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= 10)
			return -1;
		usleep(50);
	}
}

static const char *st_str(int st)
{
	return st < 0 ? "no completion" : ibv_wc_status_str(st);
}

#define CHECK_WC(want, st) \
	CHECK((st) == (want), "completion %s, expected %s", st_str(st), \
	      ibv_wc_status_str(want))

static int post_wait(struct qpp *p, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;

	wr->send_flags |= IBV_SEND_SIGNALED;
	if (ibv_post_send(p->qp[0], wr, &bad))
		return -1;
	return wait_wc(p->cq[0], &wc);
}

static int rdma(struct qpp *p, enum ibv_wr_opcode op, void *laddr,
		uint32_t lkey, uint32_t len, uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)laddr, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = len ? 1 : 0, .opcode = op,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};

	return post_wait(p, &wr);
}

static int post_recv(struct qpp *p, void *addr, uint32_t len, uint32_t lkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = lkey,
	};
	struct ibv_recv_wr wr = { .sg_list = &sge, .num_sge = len ? 1 : 0 };
	struct ibv_recv_wr *bad;

	if (p->srq)
		return ibv_post_srq_recv(p->srq, &wr, &bad);
	return ibv_post_recv(p->qp[1], &wr, &bad);
}

/*
 * SEND @len bytes from @src into a receive of @rlen bytes at @dst: the send
 * completion must succeed, then the receive's; its byte count must be @rlen.
 */
static int send_recv(struct qpp *p, void *src, uint32_t lkey, uint32_t len,
		     void *dst, uint32_t dst_lkey, uint32_t rlen)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)src, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND,
	};
	struct ibv_wc wc;
	int st;

	if (p->type == IBV_QPT_UD) {
		wr.wr.ud.ah = p->ah;
		wr.wr.ud.remote_qpn = p->qp[1]->qp_num;
		wr.wr.ud.remote_qkey = LOOP_QKEY;
	}
	CHECK(!post_recv(p, dst, rlen, dst_lkey), "post recv: %s",
	      strerror(errno));
	st = post_wait(p, &wr);
	CHECK_WC(IBV_WC_SUCCESS, st);
	st = wait_wc(p->cq[1], &wc);
	CHECK_WC(IBV_WC_SUCCESS, st);
	CHECK(wc.opcode == IBV_WC_RECV, "receive opcode %d", wc.opcode);
	CHECK(wc.byte_len == rlen, "received %u bytes, expected %u",
	      wc.byte_len, rlen);
	return 0;
}

/*
 * UC WRITE @len bytes, then a zero-length WRITE with immediate that consumes
 * a receive: its completion tells the responder has placed the data.
 */
static int uc_write(struct qpp *p, void *src, uint32_t lkey, uint32_t len,
		    uint64_t raddr, uint32_t rkey)
{
	struct ibv_wc wc;
	int st;

	CHECK(!post_recv(p, NULL, 0, 0), "post recv: %s", strerror(errno));
	st = rdma(p, IBV_WR_RDMA_WRITE, src, lkey, len, raddr, rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	st = rdma(p, IBV_WR_RDMA_WRITE_WITH_IMM, NULL, 0, 0, raddr, rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	st = wait_wc(p->cq[1], &wc);
	CHECK_WC(IBV_WC_SUCCESS, st);
	CHECK(wc.opcode == IBV_WC_RECV_RDMA_WITH_IMM, "receive opcode %d",
	      wc.opcode);
	return 0;
}

static int atomic_write(struct qpp *p, uint64_t raddr, uint32_t rkey,
			uint64_t value)
{
	struct ibv_wc wc;

	ibv_wr_start(p->qpx);
	p->qpx->wr_id = 1;
	p->qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_atomic_write(p->qpx, rkey, raddr, &value);
	CHECK(!ibv_wr_complete(p->qpx), "ibv_wr_complete: %s",
	      strerror(errno));
	return wait_wc(p->cq[0], &wc);
}

/*
 * Operations on ODP MRs for the transports and queues other than RC
 * without SRQ, with data checked, on never-touched memory and after the
 * memory of both sides was invalidated.
 */

enum op { UC_SEND, UC_WRITE, UD_SEND, UD_SRQ, RC_SRQ, RC_ATOMIC_WRITE,
	  RC_READ_WRITE };
enum inval { FRESH, DONTNEED, REMAP, MPROTECT, FORK };
static const char *const inval_name[] = {
	"fresh", "dontneed", "remap", "mprotect", "fork",
};

#define CHILD_SEED	80	/* what a forked child writes into its copy */

/*
 * A child sharing @len bytes at @mem copy-on-write with the parent.  It
 * waits for a byte on the pipe *@go, checks that its copy still holds
 * @want (what was there at fork: nothing the parent or its device wrote
 * since may reach it), writes its copy and exits 0, or 1 when its copy
 * changed.
 */
static pid_t cow_child(unsigned char *mem, const unsigned char *want,
		       size_t len, int *go)
{
	int fds[2];
	pid_t pid;
	char x;

	CHECK(!pipe(fds), "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		close(fds[1]);
		if (read(fds[0], &x, 1) != 1)
			_exit(2);
		if (memcmp(mem, want, len))
			_exit(1);
		fill(mem, len, 0, CHILD_SEED);
		_exit(0);
	}
	close(fds[0]);
	*go = fds[1];
	return pid;
}

/* Let the child of cow_child() check and write its copy; 0 if it could. */
static int cow_join(pid_t pid, int go)
{
	int status;

	CHECK(write(go, "x", 1) == 1, "pipe write: %s", strerror(errno));
	close(go);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
	      "child status %#x: its copy-on-write copy %s", status,
	      WIFEXITED(status) && WEXITSTATUS(status) == 1 ?
	      "changed after fork" : "could not be checked");
	return 0;
}

/* A child of cow_begin(), or none (pid -1). */
struct cow {
	pid_t pid;
	int go;
};

#define COW_NONE	((struct cow){ .pid = -1, .go = -1 })
#define PARENT_SEED	70	/* what the parent writes after the fork */

/*
 * Fork a cow_child() sharing @mem, then write @mem from the parent (and
 * @want, what @mem must hold), which breaks copy-on-write on the parent's
 * side: the device must use the parent's new pages from then on, for what
 * it reads and what it writes.
 */
static int cow_begin(struct cow *c, unsigned char *mem, unsigned char *want,
		     size_t len)
{
	c->pid = cow_child(mem, want, len, &c->go);
	if (c->pid < 0)
		return -1;
	fill(mem, len, 0, PARENT_SEED);
	fill(want, len, 0, PARENT_SEED);
	return 0;
}

/* Let the child write its copy: none of it may reach @mem. */
static int cow_end(struct cow *c, const unsigned char *mem,
		   const unsigned char *want, size_t len)
{
	if (cow_join(c->pid, c->go))
		return -1;	/* cow_abort() makes sure the child is gone */
	*c = COW_NONE;
	return same(mem, want, len, "responder after the child wrote its copy");
}

/* A case that fails before cow_end(): the child goes too. */
static void cow_abort(struct cow *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		close(c->go);
	}
	*c = COW_NONE;
}

struct bufs {
	unsigned char *loc, *rem, *shadow;	/* shadow: what rem must hold */
	size_t len;
	struct ibv_mr *lmr, *rmr;
};

static void bufs_free(struct bufs *b)
{
	mr_put(b->lmr);
	mr_put(b->rmr);
	if (b->loc)
		munmap(b->loc, b->len);
	if (b->rem)
		munmap(b->rem, b->len);
	free(b->shadow);
	memset(b, 0, sizeof(*b));
}

static int bufs_alloc(struct bufs *b, enum kind k, size_t npages)
{
	memset(b, 0, sizeof(*b));
	b->len = npages * pg;
	b->loc = map_anon(b->len);
	b->rem = map_anon(b->len);
	b->shadow = calloc(1, b->len);
	CHECK(b->loc && b->rem && b->shadow, "out of memory");
	b->lmr = mr_get(k, b->loc, b->len, ACCESS_ALL);
	b->rmr = mr_get(k, b->rem, b->len, ACCESS_ALL);
	CHECK(b->lmr && b->rmr, "ibv_reg_mr (%s): %s", kind_name[k],
	      strerror(errno));
	return 0;
}

/* One transfer of @op from loc into rem with data of @seed, checked. */
static int transfer(struct qpp *p, struct bufs *b, enum op op,
		    unsigned int seed)
{
	unsigned char *src = b->loc + LOFF, *dst = b->rem + ROFF;
	uint32_t len = XLEN;
	uint64_t v;
	int st;

	switch (op) {
	case UD_SEND:
	case UD_SRQ:
		/* The payload crosses a page boundary, after the GRH. */
		len = UD_LEN;
		src = b->loc + pg - 200;
		dst = b->rem + pg - UD_LEN / 2;
		fill(src, len, src - b->loc, seed);
		TRY(send_recv(p, src, b->lmr->lkey, len, dst - GRH_LEN,
			      b->rmr->lkey, len + GRH_LEN));
		/* The GRH is the device's to write. */
		memcpy(b->shadow + (dst - GRH_LEN - b->rem), dst - GRH_LEN,
		       GRH_LEN);
		break;
	case UC_SEND:
	case RC_SRQ:
		fill(src, len, LOFF, seed);
		TRY(send_recv(p, src, b->lmr->lkey, len, dst, b->rmr->lkey,
			      len));
		break;
	case UC_WRITE:
		fill(src, len, LOFF, seed);
		TRY(uc_write(p, src, b->lmr->lkey, len, (uintptr_t)dst,
			     b->rmr->rkey));
		break;
	case RC_ATOMIC_WRITE:
		len = sizeof(v);
		dst = b->rem + pg + 1000;
		src = (unsigned char *)&v;
		v = 0x0102030405060708ULL * seed;
		st = atomic_write(p, (uintptr_t)dst, b->rmr->rkey, v);
		CHECK_WC(IBV_WC_SUCCESS, st);
		break;
	case RC_READ_WRITE:
		/*
		 * READ rem first (the device faults it for reading only),
		 * then WRITE the same range: the write must fault the pages
		 * again for writing and land in the process's memory.
		 */
		memset(src, 0xee, len);
		st = rdma(p, IBV_WR_RDMA_READ, src, b->lmr->lkey, len,
			  (uintptr_t)dst, b->rmr->rkey);
		CHECK_WC(IBV_WC_SUCCESS, st);
		TRY(same(src, b->shadow + ROFF, len, "data READ"));
		fill(src, len, LOFF, seed);
		st = rdma(p, IBV_WR_RDMA_WRITE, src, b->lmr->lkey, len,
			  (uintptr_t)dst, b->rmr->rkey);
		CHECK_WC(IBV_WC_SUCCESS, st);
		break;
	}
	memcpy(b->shadow + (dst - b->rem), src, len);
	return same(b->rem, b->shadow, b->len, "responder buffer");
}

static int t_op(enum op op, enum kind k, enum inval inv)
{
	static const enum ibv_qp_type type[] = {
		[UC_SEND] = IBV_QPT_UC, [UC_WRITE] = IBV_QPT_UC,
		[UD_SEND] = IBV_QPT_UD, [UD_SRQ] = IBV_QPT_UD,
		[RC_SRQ] = IBV_QPT_RC, [RC_ATOMIC_WRITE] = IBV_QPT_RC,
		[RC_READ_WRITE] = IBV_QPT_RC,
	};
	struct qpp p;
	struct bufs b;
	struct cow cow = COW_NONE;
	int ret = -1;

	if (qpp_open(&p, pd, type[op], op == UD_SRQ || op == RC_SRQ,
		     op == RC_ATOMIC_WRITE) || bufs_alloc(&b, k, NPAGES))
		goto out;
	/* Never-touched memory on both sides (loc is written by the CPU). */
	if (transfer(&p, &b, op, 1) || transfer(&p, &b, op, 2))
		goto out;
	switch (inv) {
	case FRESH:
		break;
	case DONTNEED:
		if (madvise(b.rem, b.len, MADV_DONTNEED) ||
		    madvise(b.loc, b.len, MADV_DONTNEED))
			goto out;
		memset(b.shadow, 0, b.len);
		break;
	case REMAP:
		if (remap(b.rem, b.len) || remap(b.loc, b.len))
			goto out;
		fill(b.rem, b.len, 0, 50);
		fill(b.shadow, b.len, 0, 50);
		break;
	case MPROTECT:
		if (mprotect(b.rem, b.len, PROT_READ) ||
		    same(b.rem, b.shadow, b.len, "responder, read-only") ||
		    mprotect(b.rem, b.len, PROT_READ | PROT_WRITE))
			goto out;
		break;
	case FORK:
		/*
		 * Both buffers are shared copy-on-write with a child from
		 * here on, and the parent writes them (every transfer below
		 * also fills its source first).  A pinned MR keeps its
		 * pages: the kernel copies pinned pages for the child at
		 * fork.
		 */
		if (cow_begin(&cow, b.rem, b.shadow, b.len))
			goto out;
		break;
	}
	/* Pinned MRs keep the old pages: users register again. */
	if (k == PINNED && (inv == DONTNEED || inv == REMAP)) {
		mr_put(b.lmr);
		mr_put(b.rmr);
		b.lmr = mr_get(k, b.loc, b.len, ACCESS_ALL);
		b.rmr = mr_get(k, b.rem, b.len, ACCESS_ALL);
		if (!b.lmr || !b.rmr)
			goto out;
	}
	if (transfer(&p, &b, op, 3))
		goto out;
	fill(b.rem, b.len, 0, 60);
	fill(b.shadow, b.len, 0, 60);
	if (transfer(&p, &b, op, 4))
		goto out;
	/* The child's writes stay in its copy, and the device works on. */
	if (inv == FORK && (cow_end(&cow, b.rem, b.shadow, b.len) ||
			    transfer(&p, &b, op, 5)))
		goto out;
	ret = 0;
out:
	cow_abort(&cow);
	bufs_free(&b);
	qpp_close(&p);
	return ret;
}

/*
 * A completed WQE's buffers are the application's again: the device never
 * reads them after the completion.  With a local ACK timeout of one jiffy
 * and a responder that faults every page of its buffer in, the requester
 * retransmits while the responder is still at work on the first
 * transmission, and the ACK of that one's last packet can complete the WQE
 * while the requester is part-way through resending it.  Right after each
 * completion the source buffer goes PROT_NONE and the next transfer comes
 * from the other one: a requester that read on from the completed WQE would
 * fail there, move the QP to the error state and flush the next WQE.  Every
 * transfer must succeed with exact data, and the device must have
 * retransmitted (completer_retry_err), or the case tested nothing.
 */
#define RETX_ROUNDS	150
#define RETX_PAGES	16		/* per buffer */
#define RETX_LEN	(12 * pg + 2000) /* 50 packets of the 1024 MTU */

static long long retx_counter(void)
{
	usleep(20000);	/* past the hw counters' lifespan (see counters()) */
	return counter("completer_retry_err");
}

/*
 * One completion on @cq, polled without a pause so that the caller acts on
 * it at once: its status, or -1 after 10 s.
 */
static int poll_now(struct ibv_cq *cq, struct ibv_wc *wc)
{
	time_t t0 = time(NULL);
	unsigned long n;
	int ret;

	for (n = 1;; n++) {
		ret = ibv_poll_cq(cq, 1, wc);
		if (ret)
			return ret < 0 ? -1 : (int)wc->status;
		if (!(n % 4096) && time(NULL) - t0 > 10)
			return -1;
	}
}

/*
 * Round @i: SEND or WRITE from the source buffer of the round into @dst,
 * the source made PROT_NONE as soon as the requester's completion is seen;
 * @want (RETX_LEN bytes) keeps what was sent, to check @dst against.
 */
static int retx_round(struct qpp *p, struct ibv_mr *mr, unsigned char *buf,
		      size_t blen, unsigned char *dst, unsigned char *want,
		      bool send, int i)
{
	unsigned char *src = buf + LOFF;
	struct ibv_sge sge = {
		.addr = (uintptr_t)src, .length = RETX_LEN, .lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .send_flags = IBV_SEND_SIGNALED,
		.opcode = send ? IBV_WR_SEND : IBV_WR_RDMA_WRITE,
		.wr.rdma = { .remote_addr = (uintptr_t)dst, .rkey = mr->rkey },
	};
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	int st;

	/* PROT_NONE since its last transfer, two rounds ago */
	CHECK(!mprotect(buf, blen, PROT_READ | PROT_WRITE), "mprotect RW: %s",
	      strerror(errno));
	fill(want, RETX_LEN, LOFF, i + 1);
	memcpy(src, want, RETX_LEN);
	if (send)
		CHECK(!post_recv(p, dst, RETX_LEN, mr->lkey), "post recv: %s",
		      strerror(errno));
	CHECK(!ibv_post_send(p->qp[0], &wr, &bad), "post send: %s",
	      strerror(errno));
	st = poll_now(p->cq[0], &wc);
	CHECK(!mprotect(buf, blen, PROT_NONE), "mprotect NONE: %s",
	      strerror(errno));
	CHECK(st == IBV_WC_SUCCESS, "round %d: %s completion %s, expected success",
	      i, send ? "SEND" : "WRITE", st_str(st));
	if (send) {
		st = wait_wc(p->cq[1], &wc);
		CHECK(st == IBV_WC_SUCCESS,
		      "round %d: receive completion %s, expected success", i,
		      st_str(st));
	}
	/* The source is not readable now: compare with its copy. */
	if (same(dst, want, RETX_LEN, "responder buffer")) {
		printf("# round %d\n", i);
		return -1;
	}
	return 0;
}

/*
 * Holds the mmap lock for writing, over and over: mprotect() of a populated
 * region of 4 KiB pages, read-only and back.  The responder's faults wait
 * for it, longer than the one-jiffy ACK timeout.
 */
#define RETX_LOCKER_LEN	(32UL << 20)

static atomic_bool retx_stop;

static void *retx_locker(void *arg)
{
	unsigned char *m = arg;

	while (!atomic_load(&retx_stop)) {
		if (mprotect(m, RETX_LOCKER_LEN, PROT_READ) ||
		    mprotect(m, RETX_LOCKER_LEN, PROT_READ | PROT_WRITE))
			break;
	}
	return NULL;
}

static int retx_rounds(struct qpp *p, struct ibv_mr *mr, unsigned char *mem,
		       size_t blen, unsigned char *want, bool send)
{
	unsigned char *dst = mem + 2 * blen + ROFF;
	long long retx, retx0 = retx_counter();
	int i;

	CHECK(retx0 >= 0, "no completer_retry_err counter");
	for (i = 0; i < RETX_ROUNDS; i++) {
		/* The responder faults every page of its buffer again. */
		CHECK(!madvise(mem + 2 * blen, blen, MADV_DONTNEED),
		      "madvise: %s", strerror(errno));
		TRY(retx_round(p, mr, mem + (i % 2) * blen, blen, dst, want,
			       send, i));
	}
	retx = retx_counter() - retx0;
	printf("# %d %s transfers, %lld retransmissions\n", RETX_ROUNDS,
	       send ? "SEND" : "WRITE", retx);
	CHECK(retx > 0, "the requester never retransmitted: nothing tested");
	return 0;
}

static int t_retransmit(enum kind k, bool send)
{
	size_t blen = RETX_PAGES * pg;
	unsigned char *mem = map_anon(3 * blen);
	unsigned char *lmem = NULL, *want = malloc(RETX_LEN);
	int err, timeout, ret = -1;
	struct ibv_mr *mr = NULL;
	struct qpp p = { 0 };
	pthread_t locker;

	if (!mem || !want) {
		printf("# out of memory\n");
		goto out;
	}
	mr = mr_get(k, mem, 3 * blen, ACCESS_ALL);
	if (!mr) {
		printf("# ibv_reg_mr (%s): %s\n", kind_name[k], strerror(errno));
		goto out;
	}
	timeout = loop_rc_timeout;
	loop_rc_timeout = 1;
	ret = qpp_open(&p, pd, IBV_QPT_RC, false, false);
	loop_rc_timeout = timeout;
	if (ret)
		goto out;
	lmem = map_anon(RETX_LOCKER_LEN);
	if (!lmem || madvise(lmem, RETX_LOCKER_LEN, MADV_NOHUGEPAGE)) {
		printf("# locker region: %s\n", strerror(errno));
		ret = -1;
		goto out;
	}
	memset(lmem, 1, RETX_LOCKER_LEN);
	atomic_store(&retx_stop, false);
	err = pthread_create(&locker, NULL, retx_locker, lmem);
	if (err) {
		printf("# pthread_create: %s\n", strerror(err));
		ret = -1;
		goto out;
	}
	ret = retx_rounds(&p, mr, mem, blen, want, send);
	atomic_store(&retx_stop, true);
	pthread_join(locker, NULL);
out:
	qpp_close(&p);
	mr_put(mr);
	if (mem)
		munmap(mem, 3 * blen);
	if (lmem)
		munmap(lmem, RETX_LOCKER_LEN);
	free(want);
	return ret;
}

/*
 * Prefetch: PREFETCH, PREFETCH_WRITE and PREFETCH_NO_FAULT, with and without
 * IB_UVERBS_ADVISE_MR_FLAG_FLUSH, on explicit and implicit MRs.  The
 * prefetch enters the pages (page_prefetch), and the transfer that follows
 * adds no page fault.  The requester's buffer is pinned, so that the only
 * ODP memory in the transfer is the prefetched one.
 */
static int wait_counter(int idx, long long want)
{
	int i;

	for (i = 0; i < 1000 && counter(cnames[idx]) < want; i++)
		usleep(10000);
	return counter(cnames[idx]) >= want ? 0 : -1;
}

static int t_advise(enum kind k, uint32_t advice, bool sync)
{
	const size_t n = 8, len = n * pg;
	long long c0[NCOUNTERS], c1[NCOUNTERS], c2[NCOUNTERS];
	unsigned char *rem = NULL, *loc = NULL, *want = NULL;
	struct ibv_mr *rmr = NULL, *lmr = NULL;
	uint32_t flags = sync ? ADV_FLUSH : 0;
	struct qpp p = {};
	int ret = -1, st, err;

	loc = map_anon(len);
	rem = map_anon(len);
	want = calloc(1, len);
	if (!loc || !rem || !want || qpp_open(&p, pd, IBV_QPT_RC, false, false))
		goto out;
	lmr = mr_get(PINNED, loc, len, ACCESS_ALL);
	rmr = mr_get(k, rem, len, ACCESS_ALL);
	if (!lmr || !rmr) {
		printf("# reg_mr: %s\n", strerror(errno));
		goto out;
	}

	if (advice == PREFETCH_NO_FAULT) {
		/* Nothing mapped: nothing entered, and no fault taken. */
		counters(c0);
		err = advise1(advice, ADV_FLUSH, rmr, (uintptr_t)rem, len);
		counters(c1);
		if (err || c1[C_PAGE_PREFETCH] != c0[C_PAGE_PREFETCH] ||
		    c1[C_PAGE_FAULTS] != c0[C_PAGE_FAULTS] ||
		    c1[C_PREFETCH] != c0[C_PREFETCH] + 1) {
			printf("# NO_FAULT on unmapped memory: err %d, page_prefetch +%lld, page_faults +%lld, odp_prefetches +%lld\n",
			       err, c1[C_PAGE_PREFETCH] - c0[C_PAGE_PREFETCH],
			       c1[C_PAGE_FAULTS] - c0[C_PAGE_FAULTS],
			       c1[C_PREFETCH] - c0[C_PREFETCH]);
			goto out;
		}
		/* The CPU maps the pages: now NO_FAULT enters them. */
		fill(rem, len, 0, 7);
		fill(want, len, 0, 7);
	}

	counters(c0);
	err = advise1(advice, flags, rmr, (uintptr_t)rem, len);
	if (err) {
		printf("# advise %u flags %u: %s\n", advice, flags,
		       strerror(err));
		goto out;
	}
	if (!sync && wait_counter(C_PAGE_PREFETCH, c0[C_PAGE_PREFETCH] + n)) {
		printf("# asynchronous prefetch: page_prefetch did not reach +%zu\n",
		       n);
		goto out;
	}
	counters(c1);
	if (c1[C_PAGE_PREFETCH] - c0[C_PAGE_PREFETCH] != (long long)n ||
	    c1[C_PREFETCH] - c0[C_PREFETCH] != 1) {
		printf("# page_prefetch +%lld (expected %zu), odp_prefetches +%lld (expected 1)\n",
		       c1[C_PAGE_PREFETCH] - c0[C_PAGE_PREFETCH], n,
		       c1[C_PREFETCH] - c0[C_PREFETCH]);
		goto out;
	}
	if (c1[C_PAGE_FAULTS] != c0[C_PAGE_FAULTS]) {
		printf("# a prefetch counted as data-path faults\n");
		goto out;
	}

	/* The transfer the prefetch was for: no fault. */
	if (advice == PREFETCH_WRITE) {
		fill(loc, len, 0, 9);
		st = rdma(&p, IBV_WR_RDMA_WRITE, loc + 100, lmr->lkey,
			  len - 200, (uintptr_t)rem + 100, rmr->rkey);
		memcpy(want + 100, loc + 100, len - 200);
	} else {
		st = rdma(&p, IBV_WR_RDMA_READ, loc + 100, lmr->lkey,
			  len - 200, (uintptr_t)rem + 100, rmr->rkey);
	}
	counters(c2);
	if (st != IBV_WC_SUCCESS) {
		printf("# transfer after prefetch: %s\n", st_str(st));
		goto out;
	}
	if (c2[C_PAGE_FAULTS] != c1[C_PAGE_FAULTS] ||
	    c2[C_FAULTS] != c1[C_FAULTS]) {
		printf("# transfer after prefetch faulted: odp_faults +%lld, page_faults +%lld\n",
		       c2[C_FAULTS] - c1[C_FAULTS],
		       c2[C_PAGE_FAULTS] - c1[C_PAGE_FAULTS]);
		goto out;
	}
	if (advice == PREFETCH_WRITE)
		ret = same(rem, want, len, "responder after WRITE");
	else
		ret = same(loc + 100, want + 100, len - 200,
			   "requester after READ");
	/* Control: the same transfer after an invalidation faults again. */
	if (!ret && madvise(rem, len, MADV_DONTNEED) == 0) {
		counters(c1);
		st = rdma(&p, IBV_WR_RDMA_READ, loc, lmr->lkey, len,
			  (uintptr_t)rem, rmr->rkey);
		counters(c2);
		if (st != IBV_WC_SUCCESS ||
		    c2[C_PAGE_FAULTS] - c1[C_PAGE_FAULTS] != (long long)n) {
			printf("# READ after MADV_DONTNEED: %s, page_faults +%lld (expected %zu)\n",
			       st_str(st), c2[C_PAGE_FAULTS] - c1[C_PAGE_FAULTS],
			       n);
			ret = -1;
		}
	}
out:
	qpp_close(&p);
	mr_put(rmr);
	mr_put(lmr);
	if (rem)
		munmap(rem, len);
	if (loc)
		munmap(loc, len);
	free(want);
	return ret;
}

/* advise_mr's errors, before anything is queued, sync and async alike. */
static int t_advise_errors(enum kind k)
{
	const size_t len = 4 * pg;
	unsigned char *buf = map_anon(len);
	struct ibv_mr *mr, *ro, *pinned;
	struct ibv_pd *pd2;
	struct ibv_sge sge[2];
	int f, err;

	CHECK(buf, "mmap");
	mr = mr_get(k, buf, len, ACCESS_ALL);
	/* An ODP MR without local write: may be read, not written. */
	ro = k == IMPLICIT ?
		ibv_reg_mr(pd, NULL, SIZE_MAX, IBV_ACCESS_ON_DEMAND |
			   IBV_ACCESS_REMOTE_READ) :
		ibv_reg_mr(pd, buf, len, IBV_ACCESS_ON_DEMAND |
			   IBV_ACCESS_REMOTE_READ);
	pinned = ibv_reg_mr(pd, buf, len, IBV_ACCESS_LOCAL_WRITE);
	pd2 = ibv_alloc_pd(ctx);
	CHECK(mr && ro && pinned && pd2, "setup: %s", strerror(errno));

	for (f = 0; f <= 1; f++) {
		uint32_t fl = f ? ADV_FLUSH : 0;

		err = advise1(PREFETCH_WRITE, fl, ro, (uintptr_t)buf, len);
		CHECK(err == EPERM, "PREFETCH_WRITE, MR without LOCAL_WRITE, flags %u: %s (expected EPERM)",
		      fl, strerror(err));
		err = advise1(PREFETCH, fl, ro, (uintptr_t)buf, len);
		CHECK(!err, "PREFETCH, MR without LOCAL_WRITE: %s",
		      strerror(err));
		err = advise1(PREFETCH, fl, pinned, (uintptr_t)buf, len);
		CHECK(err == EFAULT, "PREFETCH of a pinned MR, flags %u: %s (expected EFAULT)",
		      fl, strerror(err));
		sge[0] = (struct ibv_sge){ (uintptr_t)buf, len, mr->lkey ^ 0x80 };
		err = advise_mr_ioctl(pd, PREFETCH, fl, sge, 1);
		CHECK(err == EFAULT, "PREFETCH with a bad lkey, flags %u: %s (expected EFAULT)",
		      fl, strerror(err));
		sge[0] = (struct ibv_sge){ (uintptr_t)buf, len, mr->lkey };
		err = advise_mr_ioctl(pd2, PREFETCH, fl, sge, 1);
		CHECK(err == EFAULT, "PREFETCH of another PD's MR, flags %u: %s (expected EFAULT)",
		      fl, strerror(err));
		/* A range that wraps around the end of the address space. */
		err = advise1(PREFETCH, fl, mr, UINT64_MAX - 100, 4096);
		CHECK(err == EFAULT, "PREFETCH of a wrapping range, flags %u: %s (expected EFAULT)",
		      fl, strerror(err));
		if (k == EXPLICIT) {
			err = advise1(PREFETCH, fl, mr, (uintptr_t)buf,
				      UINT32_MAX);
			CHECK(err == EFAULT, "PREFETCH past the end of the MR, flags %u: %s (expected EFAULT)",
			      fl, strerror(err));
		}
		/* One bad range fails the whole list, before any work. */
		sge[0] = (struct ibv_sge){ (uintptr_t)buf, len, mr->lkey };
		sge[1] = (struct ibv_sge){ UINT64_MAX - 100, 4096, mr->lkey };
		err = advise_mr_ioctl(pd, PREFETCH, fl, sge, 2);
		CHECK(err == EFAULT, "list with a bad range, flags %u: %s (expected EFAULT)",
		      fl, strerror(err));
		err = advise1(7, fl, mr, (uintptr_t)buf, len);
		CHECK(err == EOPNOTSUPP, "unknown advice, flags %u: %s (expected EOPNOTSUPP)",
		      fl, strerror(err));
	}
	err = advise1(PREFETCH, 1U << 5, mr, (uintptr_t)buf, len);
	CHECK(err == EINVAL, "unknown flag: %s (expected EINVAL)",
	      strerror(err));
	if (k == EXPLICIT) {
		/* Explicit: inside the MR but not mapped (after munmap). */
		CHECK(!munmap(buf + pg, pg), "munmap");
		err = advise1(PREFETCH, ADV_FLUSH, mr, (uintptr_t)buf, len);
		CHECK(err == EFAULT, "synchronous PREFETCH over a hole: %s (expected EFAULT)",
		      strerror(err));
	} else {
		/* Implicit: a kernel address, covered by no VMA. */
		err = advise1(PREFETCH, ADV_FLUSH, mr, 0xffffffff81000000ULL,
			      4096);
		CHECK(err == EFAULT, "synchronous PREFETCH of a kernel address: %s (expected EFAULT)",
		      strerror(err));
	}
	/* A whole valid list works. */
	sge[0] = (struct ibv_sge){ (uintptr_t)buf, pg, mr->lkey };
	sge[1] = (struct ibv_sge){ (uintptr_t)buf + 2 * pg, 2 * pg, mr->lkey };
	err = advise_mr_ioctl(pd, PREFETCH_WRITE, ADV_FLUSH, sge, 2);
	CHECK(!err, "PREFETCH_WRITE of two ranges: %s", strerror(err));
	mr_put(mr);
	ibv_dereg_mr(ro);
	ibv_dereg_mr(pinned);
	ibv_dealloc_pd(pd2);
	munmap(buf, len);
	return 0;
}

/*
 * The counters move when they should and only then: a first access faults
 * (odp_faults, page_faults), a second does not; an invalidation of pages
 * the device used counts (odp_invalidations, page_invalidations); a
 * prefetch counts (odp_prefetches, page_prefetch).
 */
static int t_counters(enum kind k)
{
	long long c0[NCOUNTERS], c1[NCOUNTERS];
	struct qpp p;
	struct bufs b;
	int i, st, ret = -1;

	counters(c0);
	for (i = 0; i < NCOUNTERS; i++)
		CHECK(c0[i] >= 0, "no counter %s", cnames[i]);
	if (qpp_open(&p, pd, IBV_QPT_RC, false, false))
		return -1;
	if (bufs_alloc(&b, k, NPAGES))
		goto out;
	/* loc is touched by the CPU, rem is not: a WRITE faults 3 pages. */
	fill(b.loc, b.len, 0, 1);
	counters(c0);
	st = rdma(&p, IBV_WR_RDMA_WRITE, b.loc + LOFF, b.lmr->lkey, XLEN,
		  (uintptr_t)b.rem + ROFF, b.rmr->rkey);
	counters(c1);
	if (st != IBV_WC_SUCCESS) {
		printf("# WRITE: %s\n", st_str(st));
		goto out;
	}
	/* 3 pages read at loc, 3 written at rem. */
	if (c1[C_FAULTS] - c0[C_FAULTS] < 2 ||
	    c1[C_PAGE_FAULTS] - c0[C_PAGE_FAULTS] != 6) {
		printf("# first WRITE: odp_faults +%lld (expected >= 2), page_faults +%lld (expected 6)\n",
		       c1[C_FAULTS] - c0[C_FAULTS],
		       c1[C_PAGE_FAULTS] - c0[C_PAGE_FAULTS]);
		goto out;
	}
	counters(c0);
	st = rdma(&p, IBV_WR_RDMA_WRITE, b.loc + LOFF, b.lmr->lkey, XLEN,
		  (uintptr_t)b.rem + ROFF, b.rmr->rkey);
	counters(c1);
	if (st != IBV_WC_SUCCESS || c1[C_FAULTS] != c0[C_FAULTS] ||
	    c1[C_PAGE_FAULTS] != c0[C_PAGE_FAULTS]) {
		printf("# second WRITE: %s, odp_faults +%lld, page_faults +%lld (expected 0)\n",
		       st_str(st), c1[C_FAULTS] - c0[C_FAULTS],
		       c1[C_PAGE_FAULTS] - c0[C_PAGE_FAULTS]);
		goto out;
	}
	counters(c0);
	if (madvise(b.rem, b.len, MADV_DONTNEED))
		goto out;
	counters(c1);
	if (c1[C_INVAL] - c0[C_INVAL] < 1 ||
	    c1[C_PAGE_INVAL] - c0[C_PAGE_INVAL] < 3) {
		printf("# MADV_DONTNEED: odp_invalidations +%lld (expected >= 1), page_invalidations +%lld (expected >= 3)\n",
		       c1[C_INVAL] - c0[C_INVAL],
		       c1[C_PAGE_INVAL] - c0[C_PAGE_INVAL]);
		goto out;
	}
	/* Invalidating pages the device no longer has valid: not counted. */
	if (k == EXPLICIT) {
		counters(c0);
		if (madvise(b.rem, b.len, MADV_DONTNEED))
			goto out;
		counters(c1);
		if (c1[C_INVAL] != c0[C_INVAL]) {
			printf("# second MADV_DONTNEED counted an invalidation\n");
			goto out;
		}
	}
	counters(c0);
	if (advise1(PREFETCH_WRITE, ADV_FLUSH, b.rmr, (uintptr_t)b.rem,
		    b.len))
		goto out;
	counters(c1);
	if (c1[C_PREFETCH] - c0[C_PREFETCH] != 1 ||
	    c1[C_PAGE_PREFETCH] - c0[C_PAGE_PREFETCH] != NPAGES ||
	    c1[C_FAULTS] != c0[C_FAULTS]) {
		printf("# PREFETCH_WRITE: odp_prefetches +%lld (expected 1), page_prefetch +%lld (expected %d), odp_faults +%lld (expected 0)\n",
		       c1[C_PREFETCH] - c0[C_PREFETCH],
		       c1[C_PAGE_PREFETCH] - c0[C_PAGE_PREFETCH], NPAGES,
		       c1[C_FAULTS] - c0[C_FAULTS]);
		goto out;
	}
	ret = 0;
out:
	bufs_free(&b);
	qpp_close(&p);
	return ret;
}

/*
 * ibv_rereg_mr() of the access flags, issued to the kernel directly
 * (IB_USER_VERBS_CMD_REREG_MR): rdma-core 44's rxe provider has no rereg_mr,
 * so libibverbs answers EOPNOTSUPP without asking.  Returns 0 or an errno.
 */
static int rereg_access(struct ibv_mr *mr, int access)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_rereg_mr cmd;
	} req;
	struct ib_uverbs_rereg_mr_resp resp;

	memset(&req, 0, sizeof(req));
	req.hdr.command = IB_USER_VERBS_CMD_REREG_MR;
	req.hdr.in_words = sizeof(req) / 4;
	req.hdr.out_words = sizeof(resp) / 4;
	req.cmd.response = (uintptr_t)&resp;
	req.cmd.mr_handle = mr->handle;
	req.cmd.flags = IBV_REREG_MR_CHANGE_ACCESS;
	req.cmd.pd_handle = mr->pd->handle;
	req.cmd.access_flags = access;
	if (write(mr->context->cmd_fd, &req, sizeof(req)) != sizeof(req))
		return errno;
	return 0;
}

/* IBV_ACCESS_HUGETLB: explicit ODP over MAP_HUGETLB works; implicit: EINVAL */
static int t_hugetlb(enum kind k)
{
	const size_t len = 2 * HUGE_2M, off = HUGE_2M - pg - 300;
	const size_t xlen = 2 * pg + 1000;	/* across the 2 MiB boundary */
	unsigned char *h, *loc, *want;
	struct ibv_mr *mr, *lmr;
	struct qpp p;
	int st, ret = -1;

	if (k == IMPLICIT) {
		mr = ibv_reg_mr(pd, NULL, SIZE_MAX, ACCESS_ALL |
				IBV_ACCESS_ON_DEMAND | IBV_ACCESS_HUGETLB);
		CHECK(!mr && errno == EINVAL,
		      "implicit ODP with IBV_ACCESS_HUGETLB: %s (expected EINVAL)",
		      mr ? "registered" : strerror(errno));
		return 0;
	}
	h = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	CHECK(h != MAP_FAILED, "MAP_HUGETLB of 4 MiB: %s", strerror(errno));
	loc = map_anon(xlen + pg);
	want = calloc(1, len);
	CHECK(loc && want, "out of memory");
	/* Not hugetlb memory: refused. */
	mr = ibv_reg_mr(pd, loc, xlen, ACCESS_ALL | IBV_ACCESS_ON_DEMAND |
			IBV_ACCESS_HUGETLB);
	CHECK(!mr && errno == EINVAL,
	      "IBV_ACCESS_HUGETLB over normal pages: %s (expected EINVAL)",
	      mr ? "registered" : strerror(errno));
	/* Nor can rereg add it to an ODP MR of normal pages. */
	mr = ibv_reg_mr(pd, loc, xlen, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "explicit ODP: %s", strerror(errno));
	st = rereg_access(mr, ACCESS_ALL | IBV_ACCESS_ON_DEMAND |
			  IBV_ACCESS_HUGETLB);
	CHECK(st == EINVAL,
	      "rereg adding IBV_ACCESS_HUGETLB over normal pages: %s (expected EINVAL)",
	      st ? strerror(st) : "accepted");
	CHECK(!ibv_dereg_mr(mr), "dereg_mr: %s", strerror(errno));
	mr = ibv_reg_mr(pd, h, len, ACCESS_ALL | IBV_ACCESS_ON_DEMAND |
			IBV_ACCESS_HUGETLB);
	CHECK(mr, "explicit ODP with IBV_ACCESS_HUGETLB: %s", strerror(errno));
	/* A rereg of its access that keeps IBV_ACCESS_HUGETLB is fine. */
	st = rereg_access(mr, ACCESS_ALL | IBV_ACCESS_ON_DEMAND |
			  IBV_ACCESS_HUGETLB);
	CHECK(!st, "rereg keeping IBV_ACCESS_HUGETLB: %s", strerror(st));
	lmr = ibv_reg_mr(pd, loc, xlen + pg, ACCESS_ALL);
	CHECK(lmr, "reg_mr: %s", strerror(errno));
	if (qpp_open(&p, pd, IBV_QPT_RC, false, false))
		return -1;

	fill(loc, xlen, 0, 3);
	st = rdma(&p, IBV_WR_RDMA_WRITE, loc, lmr->lkey, xlen,
		  (uintptr_t)h + off, mr->rkey);
	if (st != IBV_WC_SUCCESS) {
		printf("# WRITE into huge pages: %s\n", st_str(st));
		goto out;
	}
	memcpy(want + off, loc, xlen);
	if (same(h, want, len, "huge pages after WRITE"))
		goto out;
	/* The CPU writes new data; READ it back. */
	fill(h, len, 0, 4);
	fill(want, len, 0, 4);
	memset(loc, 0, xlen);
	st = rdma(&p, IBV_WR_RDMA_READ, loc, lmr->lkey, xlen,
		  (uintptr_t)h + off, mr->rkey);
	if (st != IBV_WC_SUCCESS || same(loc, want + off, xlen, "READ")) {
		printf("# READ of huge pages: %s\n", st_str(st));
		goto out;
	}
	/* After MADV_DONTNEED the huge pages are new, zeroed ones. */
	if (madvise(h, len, MADV_DONTNEED))
		goto out;
	memset(want, 0, len);
	fill(loc, xlen, 0, 5);
	st = rdma(&p, IBV_WR_RDMA_WRITE, loc, lmr->lkey, xlen,
		  (uintptr_t)h + off, mr->rkey);
	if (st != IBV_WC_SUCCESS) {
		printf("# WRITE after MADV_DONTNEED: %s\n", st_str(st));
		goto out;
	}
	memcpy(want + off, loc, xlen);
	ret = same(h, want, len, "huge pages after MADV_DONTNEED and WRITE");
out:
	qpp_close(&p);
	ibv_dereg_mr(mr);
	ibv_dereg_mr(lmr);
	munmap(h, len);
	munmap(loc, xlen + pg);
	free(want);
	return ret;
}

/* ibv_reg_mr_iova: an ODP MR whose wire addresses are not its addresses. */
static int t_iova(enum kind k)
{
	const uint64_t iova = 0x10000000000ULL;
	const size_t len = NPAGES * pg;
	unsigned char *rem, *loc, *want;
	struct ibv_mr *mr, *lmr;
	struct qpp p;
	int st, ret = -1;

	(void)k;
	rem = map_anon(len);
	loc = map_anon(len);
	want = calloc(1, len);
	CHECK(rem && loc && want, "out of memory");
	mr = ibv_reg_mr_iova(pd, rem, len, iova, ACCESS_ALL |
			     IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "ibv_reg_mr_iova: %s", strerror(errno));
	lmr = ibv_reg_mr(pd, loc, len, ACCESS_ALL);
	CHECK(lmr, "reg_mr: %s", strerror(errno));
	if (qpp_open(&p, pd, IBV_QPT_RC, false, false))
		return -1;
	fill(loc, len, 0, 1);
	st = rdma(&p, IBV_WR_RDMA_WRITE, loc + LOFF, lmr->lkey, XLEN,
		  iova + ROFF, mr->rkey);
	if (st != IBV_WC_SUCCESS) {
		printf("# WRITE at iova: %s\n", st_str(st));
		goto out;
	}
	memcpy(want + ROFF, loc + LOFF, XLEN);
	if (same(rem, want, len, "responder after WRITE at iova"))
		goto out;
	fill(rem, len, 0, 2);
	fill(want, len, 0, 2);
	memset(loc, 0, len);
	st = rdma(&p, IBV_WR_RDMA_READ, loc + LOFF, lmr->lkey, XLEN,
		  iova + ROFF, mr->rkey);
	if (st != IBV_WC_SUCCESS || same(loc + LOFF, want + ROFF, XLEN, "READ")) {
		printf("# READ at iova: %s\n", st_str(st));
		goto out;
	}
	/* The user address is not an address of this MR on the wire. */
	st = rdma(&p, IBV_WR_RDMA_READ, loc, lmr->lkey, 64, (uintptr_t)rem,
		  mr->rkey);
	if (st != IBV_WC_REM_ACCESS_ERR) {
		printf("# READ at the user address: %s, expected %s\n",
		       st_str(st), ibv_wc_status_str(IBV_WC_REM_ACCESS_ERR));
		goto out;
	}
	ret = 0;
out:
	qpp_close(&p);
	ibv_dereg_mr(mr);
	ibv_dereg_mr(lmr);
	munmap(rem, len);
	munmap(loc, len);
	free(want);
	return ret;
}

/* Lengths and iovas whose end wraps past U64_MAX are refused. */
static int t_wrap(enum kind k)
{
	unsigned char *buf = map_anon(2 * pg);
	uint64_t iova = UINT64_MAX - pg + 1;
	struct ibv_mr *mr, *lmr;
	struct qpp p;
	int st;

	(void)k;
	CHECK(buf, "mmap");
	mr = ibv_reg_mr(pd, buf, SIZE_MAX - 2 * pg, ACCESS_ALL |
			IBV_ACCESS_ON_DEMAND);
	CHECK(!mr, "explicit ODP MR of length SIZE_MAX - 2 pages registered");
	mr = ibv_reg_mr(pd, buf, SIZE_MAX, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	CHECK(!mr, "explicit ODP MR at %p of length SIZE_MAX registered",
	      (void *)buf);
	mr = ibv_reg_mr_iova(pd, buf, 2 * pg, iova, ACCESS_ALL |
			     IBV_ACCESS_ON_DEMAND);
	CHECK(!mr, "ODP MR with iova %#" PRIx64 " + 2 pages (wraps) registered",
	      iova);
	mr = ibv_reg_mr_iova(pd, NULL, SIZE_MAX, 4096, ACCESS_ALL |
			     IBV_ACCESS_ON_DEMAND);
	CHECK(!mr, "implicit ODP MR with a nonzero iova registered");

	/* A WRITE whose remote range wraps, to an ODP MR at the top. */
	mr = ibv_reg_mr_iova(pd, buf, pg, iova, ACCESS_ALL |
			     IBV_ACCESS_ON_DEMAND);
	CHECK(mr, "ODP MR with iova %#" PRIx64 " + 1 page: %s", iova,
	      strerror(errno));
	lmr = ibv_reg_mr(pd, buf + pg, pg, ACCESS_ALL);
	CHECK(lmr, "reg_mr");
	TRY(qpp_open(&p, pd, IBV_QPT_RC, false, false));
	memset(buf, 0x5a, 2 * pg);
	/* The last 16 bytes below 2^64: inside the MR. */
	st = rdma(&p, IBV_WR_RDMA_WRITE, buf + pg, lmr->lkey, 16,
		  iova + pg - 16, mr->rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	st = rdma(&p, IBV_WR_RDMA_WRITE, buf + pg, lmr->lkey, 200,
		  UINT64_MAX - 100, mr->rkey);
	CHECK_WC(IBV_WC_REM_ACCESS_ERR, st);
	qpp_close(&p);
	ibv_dereg_mr(mr);
	ibv_dereg_mr(lmr);
	munmap(buf, 2 * pg);
	return 0;
}


/* RDMA FLUSH (global visibility, a range), posted as rxe-flush.h does. */
static int post_flush(struct qpp *p, uint64_t raddr, uint32_t len,
		      uint32_t rkey)
{
	struct ibv_wc wc;

	if (rxe_post_flush(p->qpx, raddr, len, rkey, FLUSH_GLOBAL,
			   FLUSH_RANGE))
		return -1;
	return wait_wc(p->cq[0], &wc);
}

/*
 * What every FLUSH case sets up: a responder buffer @rem behind an MR with
 * the flush access right (explicit or pinned over @rem, or a new implicit
 * MR), a requester buffer @loc, what @rem must hold (@want), and an RC
 * pair whose responder grants FLUSH.
 */
#define FLUSH_MR_ACCESS	(ACCESS_ALL | ACCESS_FLUSH_GLOBAL)

struct flush_bufs {
	size_t len;
	unsigned char *rem, *loc, *want;
	struct ibv_mr *rmr, *lmr;
	struct qpp p;
};

/* An RC pair on @p whose responder grants WRITE, READ and FLUSH. */
static int flush_qpp_open(struct qpp *p)
{
	struct ibv_qp_attr qa = {
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ | ACCESS_FLUSH_GLOBAL,
	};

	TRY(qpp_open(p, pd, IBV_QPT_RC, false, true));
	CHECK(!ibv_modify_qp(p->qp[1], &qa, IBV_QP_ACCESS_FLAGS),
	      "responder QP flush access: %s", strerror(errno));
	return 0;
}

static int flush_bufs_open(struct flush_bufs *f, enum kind k)
{
	f->len = NPAGES * pg;
	f->rem = map_anon(f->len);
	f->loc = map_anon(f->len);
	f->want = calloc(1, f->len);
	CHECK(f->rem && f->loc && f->want, "out of memory");
	f->rmr = k == IMPLICIT ?
		ibv_reg_mr(pd, NULL, SIZE_MAX,
			   FLUSH_MR_ACCESS | IBV_ACCESS_ON_DEMAND) :
		mr_get(k, f->rem, f->len, FLUSH_MR_ACCESS);
	f->lmr = ibv_reg_mr(pd, f->loc, f->len, ACCESS_ALL);
	CHECK(f->rmr && f->lmr, "reg_mr with flush access: %s",
	      strerror(errno));
	return flush_qpp_open(&f->p);
}

static void flush_bufs_close(struct flush_bufs *f)
{
	qpp_close(&f->p);
	mr_put(f->rmr);
	ibv_dereg_mr(f->lmr);
	munmap(f->rem, f->len);
	munmap(f->loc, f->len);
	free(f->want);
}

/*
 * FLUSH (global visibility) of ranges of an ODP MR: never touched, after a
 * WRITE, after MADV_DONTNEED; refused past the end of an explicit MR and
 * on an MR without the flush access right.
 */
static int t_flush(enum kind k)
{
	struct flush_bufs f;
	struct ibv_mr *noflush;
	int st;

	TRY(flush_bufs_open(&f, k));
	st = post_flush(&f.p, (uintptr_t)f.rem + ROFF, XLEN, f.rmr->rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	TRY(same(f.rem, f.want, f.len, "never-touched memory after FLUSH"));
	fill(f.loc, f.len, 0, 1);
	st = rdma(&f.p, IBV_WR_RDMA_WRITE, f.loc + LOFF, f.lmr->lkey, XLEN,
		  (uintptr_t)f.rem + ROFF, f.rmr->rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	st = post_flush(&f.p, (uintptr_t)f.rem + ROFF, XLEN, f.rmr->rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	memcpy(f.want + ROFF, f.loc + LOFF, XLEN);
	TRY(same(f.rem, f.want, f.len, "responder after WRITE and FLUSH"));
	CHECK(!madvise(f.rem, f.len, MADV_DONTNEED), "madvise");
	/*
	 * The CPU sees fresh zero pages now, pinned MR or not: a pinned MR
	 * keeps the old pages, away from the mapping.
	 */
	memset(f.want, 0, f.len);
	st = post_flush(&f.p, (uintptr_t)f.rem, f.len, f.rmr->rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	TRY(same(f.rem, f.want, f.len,
		 "responder after MADV_DONTNEED and FLUSH"));
	if (k == EXPLICIT) {
		st = post_flush(&f.p, (uintptr_t)f.rem + pg, f.len,
				f.rmr->rkey);
		CHECK_WC(IBV_WC_REM_ACCESS_ERR, st);
		qpp_close(&f.p);
		/* Without IBV_ACCESS_FLUSH_GLOBAL on the MR: refused. */
		noflush = mr_get(k, f.rem, f.len, ACCESS_ALL);
		CHECK(noflush, "reg_mr: %s", strerror(errno));
		TRY(flush_qpp_open(&f.p));
		st = post_flush(&f.p, (uintptr_t)f.rem, pg, noflush->rkey);
		CHECK_WC(IBV_WC_REM_ACCESS_ERR, st);
		ibv_dereg_mr(noflush);
	}
	flush_bufs_close(&f);
	return 0;
}

/*
 * FLUSH after the memory behind the responder's MR changed: munmap and a
 * new mapping at the same address (with new data), an mprotect round trip,
 * and fork with copy-on-write broken by the parent.  Each time a FLUSH of
 * the whole buffer leaves what the process sees alone, then a WRITE and a
 * FLUSH of the range it wrote land in the process's current memory.
 */
static int flush_write_check(struct qpp *p, unsigned char *loc, uint32_t lkey,
			     unsigned char *rem, uint32_t rkey,
			     unsigned char *want, size_t len, unsigned int seed)
{
	int st;

	st = post_flush(p, (uintptr_t)rem, len, rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	TRY(same(rem, want, len, "responder after FLUSH"));
	fill(loc, len, 0, seed);
	st = rdma(p, IBV_WR_RDMA_WRITE, loc + LOFF, lkey, XLEN,
		  (uintptr_t)rem + ROFF, rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	st = post_flush(p, (uintptr_t)rem + ROFF, XLEN, rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	memcpy(want + ROFF, loc + LOFF, XLEN);
	return same(rem, want, len, "responder after WRITE and FLUSH");
}

static int t_flush_inval(enum kind k, enum inval inv)
{
	struct flush_bufs f;
	struct cow cow = COW_NONE;
	int ret = -1;

	TRY(flush_bufs_open(&f, k));
	if (flush_write_check(&f.p, f.loc, f.lmr->lkey, f.rem, f.rmr->rkey,
			      f.want, f.len, 1))
		goto out;
	switch (inv) {
	case REMAP:
		if (remap(f.rem, f.len))
			goto out;
		fill(f.rem, f.len, 0, 50);
		fill(f.want, f.len, 0, 50);
		/* A pinned MR keeps the old pages: users register again. */
		if (k == PINNED) {
			ibv_dereg_mr(f.rmr);
			f.rmr = mr_get(k, f.rem, f.len, FLUSH_MR_ACCESS);
			if (!f.rmr) {
				printf("# reg_mr again: %s\n", strerror(errno));
				goto out;
			}
		}
		break;
	case MPROTECT:
		if (mprotect(f.rem, f.len, PROT_READ) ||
		    same(f.rem, f.want, f.len, "responder, read-only") ||
		    mprotect(f.rem, f.len, PROT_READ | PROT_WRITE))
			goto out;
		break;
	case FORK:
		if (cow_begin(&cow, f.rem, f.want, f.len))
			goto out;
		break;
	default:
		goto out;
	}
	if (flush_write_check(&f.p, f.loc, f.lmr->lkey, f.rem, f.rmr->rkey,
			      f.want, f.len, 2))
		goto out;
	if (inv == FORK && (cow_end(&cow, f.rem, f.want, f.len) ||
			    flush_write_check(&f.p, f.loc, f.lmr->lkey, f.rem,
					      f.rmr->rkey, f.want, f.len, 3)))
		goto out;
	ret = 0;
out:
	cow_abort(&cow);
	flush_bufs_close(&f);
	return ret;
}

/* Lifetime */

struct writer {
	struct qpp *p;
	void *src;
	uint32_t lkey, rkey;
	uint64_t raddr;
	volatile int successes;
	int first_error;
};

/* RDMA WRITEs, four in flight, until one fails; then drain. */
static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	struct ibv_sge sge = {
		.addr = (uintptr_t)w->src, .length = 4096, .lkey = w->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = w->raddr, .rkey = w->rkey },
	}, *bad;
	int inflight = 0, st;
	struct ibv_wc wc;

	w->first_error = 0;
	for (;;) {
		while (!w->first_error && inflight < 4 &&
		       !ibv_post_send(w->p->qp[0], &wr, &bad))
			inflight++;
		if (!inflight)
			break;
		st = wait_wc(w->p->cq[0], &wc);
		if (st < 0) {
			w->first_error = -1;
			break;
		}
		inflight--;
		if (st == IBV_WC_SUCCESS)
			w->successes++;
		else if (!w->first_error)
			w->first_error = st;
	}
	return NULL;
}

/* Deregister an ODP MR while the peer is writing into it. */
static int t_dereg_inflight(enum kind k)
{
	const size_t len = 4 * pg;
	unsigned char *rem = map_anon(len), *loc = map_anon(pg);
	struct writer w = {};
	struct ibv_mr *rmr, *lmr;
	pthread_t th;
	struct qpp p;
	int i;

	CHECK(rem && loc, "mmap");
	/* Its own MR, also when implicit: it is the one deregistered. */
	rmr = k == IMPLICIT ?
		ibv_reg_mr(pd, NULL, SIZE_MAX, ACCESS_ALL | IBV_ACCESS_ON_DEMAND) :
		ibv_reg_mr(pd, rem, len, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	lmr = ibv_reg_mr(pd, loc, pg, ACCESS_ALL);
	CHECK(rmr && lmr, "reg_mr: %s", strerror(errno));
	TRY(qpp_open(&p, pd, IBV_QPT_RC, false, false));
	memset(loc, 0x3c, pg);
	w.p = &p;
	w.src = loc;
	w.lkey = lmr->lkey;
	w.rkey = rmr->rkey;
	w.raddr = (uintptr_t)rem + pg + 100;
	CHECK(!pthread_create(&th, NULL, writer_fn, &w), "pthread_create");
	for (i = 0; i < 2000 && w.successes < 8 && !w.first_error; i++)
		usleep(5000);
	CHECK(!ibv_dereg_mr(rmr), "ibv_dereg_mr under traffic: %s",
	      strerror(errno));
	pthread_join(th, NULL);
	CHECK(w.successes >= 8, "only %d WRITEs succeeded before deregistration",
	      w.successes);
	CHECK(w.first_error == IBV_WC_REM_ACCESS_ERR,
	      "first failed WRITE after deregistration: %s, expected %s",
	      st_str(w.first_error), ibv_wc_status_str(IBV_WC_REM_ACCESS_ERR));
	/* What was written before is there, in full pages of 0x3c. */
	for (i = 0; i < 4096; i++)
		CHECK(rem[pg + 100 + i] == 0x3c, "byte %d not written", i);
	qpp_close(&p);
	ibv_dereg_mr(lmr);
	munmap(rem, len);
	munmap(loc, pg);
	return 0;
}

/* The number of MRs of the device, as `rdma resource show` counts them. */
static long rdma_res_mr(void)
{
	char cmd[128], line[512], *s;
	long n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "rdma resource show %s 2>/dev/null",
		 loop_dev);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		s = strstr(line, " mr ");
		if (s)
			n = strtol(s + 4, NULL, 10);
	}
	pclose(f);
	return n;
}

/*
 * A child with its own device context, PD, explicit and implicit ODP MRs,
 * QPs and RDMA WRITEs in flight.  @how: 0 close the device with everything
 * live and exit, 1 exit with WRITEs in flight, 2 loop until killed.
 */
static void child_traffic(int how, int ready_fd)
{
	struct ibv_context *c = loop_open();
	struct ibv_mr *emr, *imr;
	unsigned char *buf;
	struct ibv_pd *cpd;
	struct writer w = {};
	struct qpp p;
	int i;

	if (!c)
		_exit(10);
	/*
	 * The QPs address the port by its RoCE v2 GID: a process of its own
	 * (hold) looks it up here, on its own context.
	 */
	if (loop_gid < 0)
		loop_find_gid();
	if (loop_gid < 0 || ibv_query_gid(c, 1, loop_gid, &gid))
		_exit(14);
	cpd = ibv_alloc_pd(c);
	buf = map_anon(16 * pg);
	if (!cpd || !buf)
		_exit(11);
	emr = ibv_reg_mr(cpd, buf, 16 * pg, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	imr = ibv_reg_mr(cpd, NULL, SIZE_MAX, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	if (!emr || !imr || qpp_open(&p, cpd, IBV_QPT_RC, false, false))
		_exit(12);
	/* An asynchronous prefetch in flight as well. */
	advise1(PREFETCH_WRITE, 0, imr, (uintptr_t)buf, 16 * pg);
	w.p = &p;
	w.src = buf;
	w.lkey = imr->lkey;
	w.rkey = emr->rkey;
	w.raddr = (uintptr_t)buf + 8 * pg + 100;
	if (how == 2) {
		pthread_t th;

		if (pthread_create(&th, NULL, writer_fn, &w) ||
		    write(ready_fd, "r", 1) != 1)
			_exit(13);
		/* Invalidate while writing: faults and invalidations race. */
		for (;;) {
			madvise(buf + 8 * pg, 8 * pg, MADV_DONTNEED);
			usleep(20000);
		}
	}
	for (i = 0; i < 8; i++) {
		struct ibv_sge sge = { (uintptr_t)buf, 4096, imr->lkey };
		struct ibv_send_wr wr = {
			.sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.wr.rdma = { (uintptr_t)buf + 8 * pg, emr->rkey },
		}, *bad;

		if (ibv_post_send(p.qp[0], &wr, &bad))
			break;
	}
	if (how == 0)
		ibv_close_device(c);
	_exit(0);
}

static int wait_res_mr(long want)
{
	long n = -2;
	int i;

	for (i = 0; i < 100; i++) {
		n = rdma_res_mr();
		if (n == want)
			return 0;
		usleep(100000);
	}
	printf("# rdma resource show: %ld MRs, expected %ld\n", n, want);
	return -1;
}

static int t_child(int how)
{
	long before = rdma_res_mr();
	int fds[2], status;
	pid_t pid;
	char x;

	CHECK(before >= 0, "rdma resource show failed");
	CHECK(!pipe(fds), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		close(fds[0]);
		child_traffic(how, fds[1]);
	}
	close(fds[1]);
	if (how == 2) {
		CHECK(read(fds[0], &x, 1) == 1, "child did not start");
		usleep(1500000);
		CHECK(!kill(pid, SIGKILL), "kill");
	}
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	if (how == 2)
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "child status %#x (expected SIGKILL)", status);
	else
		CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
		      "child status %#x", status);
	return wait_res_mr(before);
}

/* QP and PD destroy with ODP MRs live; the PD refuses to go first. */
static int t_destroy_live(enum kind k)
{
	const size_t len = 4 * pg;
	unsigned char *buf = map_anon(len);
	struct ibv_mr *mr, *imr = NULL;
	struct ibv_pd *p2 = ibv_alloc_pd(ctx);
	struct qpp p;
	int st, err;

	CHECK(buf && p2, "setup");
	mr = ibv_reg_mr(p2, buf, len, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	if (k == IMPLICIT)
		imr = ibv_reg_mr(p2, NULL, SIZE_MAX, ACCESS_ALL |
				 IBV_ACCESS_ON_DEMAND);
	CHECK(mr && (k != IMPLICIT || imr), "reg_mr: %s", strerror(errno));
	TRY(qpp_open(&p, p2, IBV_QPT_RC, false, false));
	fill(buf, pg, 0, 1);
	st = rdma(&p, IBV_WR_RDMA_WRITE, buf, imr ? imr->lkey : mr->lkey, pg,
		  (uintptr_t)buf + 2 * pg, mr->rkey);
	CHECK_WC(IBV_WC_SUCCESS, st);
	TRY(same(buf + 2 * pg, buf, pg, "written page"));
	advise1(PREFETCH_WRITE, 0, mr, (uintptr_t)buf, len);
	qpp_close(&p);
	err = ibv_dealloc_pd(p2);
	CHECK(err == EBUSY, "dealloc_pd with live MRs: %s (expected EBUSY)",
	      strerror(err));
	if (imr)
		CHECK(!ibv_dereg_mr(imr), "dereg implicit: %s", strerror(errno));
	CHECK(!ibv_dereg_mr(mr), "dereg: %s", strerror(errno));
	CHECK(!ibv_dealloc_pd(p2), "dealloc_pd: %s", strerror(errno));
	munmap(buf, len);
	return 0;
}

/* hold: ODP traffic until killed (rdma link delete test) */
static int hold(void)
{
	child_traffic(2, STDOUT_FILENO);
	return 1;
}

/* The test table */

struct test {
	char name[64];
	int (*fn)(int, int, int);
	int a, b, c;
};

static int op_fn(int op, int k, int inv) { return t_op(op, k, inv); }
static int adv_fn(int k, int advice, int sync) { return t_advise(k, advice, sync); }
static int k_fn_advise_errors(int k, int b, int c) { (void)b; (void)c; return t_advise_errors(k); }
static int k_fn_counters(int k, int b, int c) { (void)b; (void)c; return t_counters(k); }
static int k_fn_hugetlb(int k, int b, int c) { (void)b; (void)c; return t_hugetlb(k); }
static int k_fn_flush(int k, int b, int c) { (void)b; (void)c; return t_flush(k); }
static int k_fn_flush_inval(int k, int inv, int c) { (void)c; return t_flush_inval(k, inv); }
static int k_fn_iova(int k, int b, int c) { (void)b; (void)c; return t_iova(k); }
static int k_fn_wrap(int k, int b, int c) { (void)b; (void)c; return t_wrap(k); }
static int k_fn_dereg(int k, int b, int c) { (void)b; (void)c; return t_dereg_inflight(k); }
static int k_fn_destroy(int k, int b, int c) { (void)b; (void)c; return t_destroy_live(k); }
static int k_fn_child(int how, int b, int c) { (void)b; (void)c; return t_child(how); }
static int k_fn_retx(int k, int send, int c) { (void)c; return t_retransmit(k, send); }

static struct test tests[256];
static int ntests;

static void add(int (*fn)(int, int, int), int a, int b, int c,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(int (*fn)(int, int, int), int a, int b, int c,
		const char *fmt, ...)
{
	struct test *t = &tests[ntests++];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->name, sizeof(t->name), fmt, ap);
	va_end(ap);
	t->fn = fn;
	t->a = a;
	t->b = b;
	t->c = c;
}

static void build_tests(void)
{
	static const char *const op_name[] = {
		"uc_send", "uc_write", "ud_send", "ud_srq_send", "rc_srq_send",
		"rc_atomic_write", "rc_read_then_write",
	};
	static const char *const adv_name[] = {
		"prefetch", "prefetch_write", "prefetch_no_fault",
	};
	int op, k, inv, a, s;

	for (k = EXPLICIT; k <= IMPLICIT; k++)
		for (a = 0; a < 3; a++)
			for (s = 1; s >= 0; s--)
				add(adv_fn, k, a, s, "advise_%s_%s_%s",
				    adv_name[a], s ? "sync" : "async",
				    kind_name[k]);
	for (k = EXPLICIT; k <= IMPLICIT; k++)
		add(k_fn_advise_errors, k, 0, 0, "advise_errors_%s",
		    kind_name[k]);
	for (k = EXPLICIT; k <= IMPLICIT; k++)
		add(k_fn_counters, k, 0, 0, "counters_%s", kind_name[k]);
	for (k = EXPLICIT; k <= IMPLICIT; k++)
		add(k_fn_hugetlb, k, 0, 0, "hugetlb_%s", kind_name[k]);
	add(k_fn_iova, EXPLICIT, 0, 0, "reg_mr_iova_explicit");
	add(k_fn_wrap, EXPLICIT, 0, 0, "wrapping_lengths_refused");
	for (op = 0; op <= RC_READ_WRITE; op++)
		for (k = PINNED; k <= IMPLICIT; k++)
			for (inv = FRESH; inv <= FORK; inv++)
				add(op_fn, op, k, inv, "%s_%s_%s", op_name[op],
				    kind_name[k], inval_name[inv]);
	for (k = PINNED; k <= IMPLICIT; k++)
		add(k_fn_flush, k, 0, 0, "rc_flush_%s", kind_name[k]);
	for (k = PINNED; k <= IMPLICIT; k++)
		for (inv = REMAP; inv <= FORK; inv++)
			if (inv != DONTNEED)
				add(k_fn_flush_inval, k, inv, 0, "rc_flush_%s_%s",
				    kind_name[k], inval_name[inv]);
	for (k = EXPLICIT; k <= IMPLICIT; k++)
		add(k_fn_dereg, k, 0, 0, "dereg_under_traffic_%s",
		    kind_name[k]);
	for (k = EXPLICIT; k <= IMPLICIT; k++)
		add(k_fn_destroy, k, 0, 0, "qp_pd_destroy_live_%s",
		    kind_name[k]);
	for (k = EXPLICIT; k <= IMPLICIT; k++)
		for (s = 0; s <= 1; s++)
			add(k_fn_retx, k, s, 0, "rc_%s_retransmit_%s",
			    s ? "send" : "write", kind_name[k]);
	add(k_fn_child, 0, 0, 0, "close_device_live_odp");
	add(k_fn_child, 1, 0, 0, "exit_live_odp_in_flight");
	add(k_fn_child, 2, 0, 0, "sigkill_live_odp_mid_traffic");
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int i, n = 0, failed = 0;
	bool list_only = false;

	pg = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold();
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l"))
			list_only = true;
		else
			only = argv[i];
	}
	build_tests();
	if (list_only) {
		for (i = 0; i < ntests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	loop_find_gid();
	ctx = loop_open();
	if (loop_gid < 0 || !ctx || ibv_query_gid(ctx, 1, loop_gid, &gid) ||
	    !(pd = ibv_alloc_pd(ctx))) {
		printf("Bail out! %s: no device, PD or RoCE v2 GID\n", loop_dev);
		return 1;
	}
	implicit_mr = ibv_reg_mr(pd, NULL, SIZE_MAX, ACCESS_ALL |
				 IBV_ACCESS_ON_DEMAND);
	if (!implicit_mr) {
		printf("Bail out! implicit ODP MR: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < ntests; i++)
		n += !only || strstr(tests[i].name, only);
	printf("TAP version 13\n1..%d\n", n);
	n = 0;
	for (i = 0; i < ntests; i++) {
		struct test *t = &tests[i];
		int ret;

		if (only && !strstr(t->name, only))
			continue;
		ret = t->fn(t->a, t->b, t->c);
		printf("%sok %d %s\n", ret ? "not " : "", ++n, t->name);
		failed += !!ret;
	}
	ibv_dereg_mr(implicit_mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	return failed ? 1 : 0;
}
