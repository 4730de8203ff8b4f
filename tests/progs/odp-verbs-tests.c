// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA data transfers over libibverbs through memory regions of three kinds,
 * pinned, explicit On-Demand Paging (ODP) and implicit ODP, on the soft-RoCE
 * device rxe0.
 *
 * Each test gets two RC QPs of this process connected to each other over
 * RoCE v2 (loopback through 10.0.2.15): qp[0] is the requester, qp[1] the
 * responder.  Data moves between the requester's buffer "loc" and the
 * responder's buffer "rem", both anonymous private mappings.  Each buffer
 * has a shadow copy holding what the buffer must contain; after every step
 * the whole buffer is compared with it byte for byte, so the transferred
 * range and the bytes around it are checked alike.
 *
 * Fixtures:
 *   verbs    pinned, odp, implicit: WRITE, READ, SEND, CMP_AND_SWP and
 *            FETCH_AND_ADD into/from never-touched memory, and after the
 *            responder's buffer was invalidated (munmap+mmap, MADV_DONTNEED,
 *            mprotect, fork).
 *   odp_err  odp, implicit: errors only ODP can produce, with exact
 *            completion statuses; no pinning (VmPin); a 64 GiB sparse MR.
 *   pin      pinned: a pinned MR shows in VmPin.
 *
 * The ODP variants require the device's ODP capabilities: without them a
 * test fails, it is not skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "kselftest_harness.h"

#define RDMA_LOOP_SETUP_ONLY
#include "rdma-loop.h"

#define DEV_NAME	"rxe0"

#define ACCESS_ALL	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)
#define RC_ODP_NEEDED	(IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | \
			 IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ | \
			 IBV_ODP_SUPPORT_ATOMIC)

#define POLL_SECONDS	10	/* how long to wait for a completion */
#define WC_TIMEOUT	(-1)	/* no completion within POLL_SECONDS */
#define WC_NOT_POSTED	(-2)	/* ibv_post_send/ibv_post_recv failed */
#define TEST_TIMEOUT	120	/* the harness's watchdog, per test */

/* The transfers of the verbs fixture: mid-page, across three pages. */
#define NPAGES		4
#define LOC_OFF		300
#define REM_OFF		100
#define XFER_LEN	(2 * page_size + 2000)
#define ATOMIC_OFF	(page_size + 1000)	/* in rem, 8-byte aligned */
#define RESULT_OFF	(2 * page_size + 8)	/* in loc */
#define CHILD_SEED	200	/* what a forked child writes */

enum mr_kind { MR_PINNED, MR_ODP, MR_IMPLICIT };

struct buf {
	unsigned char *addr;
	size_t len;
	struct ibv_mr *mr;	/* its own MR, or the implicit MR */
	unsigned char *shadow;	/* what addr[] must contain */
};

struct conn {
	enum mr_kind kind;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	struct ibv_mr *implicit_mr;	/* MR_IMPLICIT: covers every buffer */
	struct buf loc;			/* the requester's buffer */
	struct buf rem;			/* the responder's buffer */
};

static size_t page_size;

/* Byte @i of a buffer filled with @seed: different in every page and seed. */
static unsigned char pattern(size_t i, unsigned int seed)
{
	return i / page_size * 37 + i * 11 + (i >> 8) + seed * 101;
}

static void fill(struct buf *b, unsigned int seed)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		b->addr[i] = b->shadow[i] = pattern(i, seed);
}

static void check_range(struct __test_metadata *_metadata,
			const struct buf *b, size_t off, size_t len,
			const char *what)
{
	size_t i = off;

	while (i < off + len && b->addr[i] == b->shadow[i])
		i++;
	ASSERT_EQ(off + len, i)
		TH_LOG("%s: byte %zu (page %zu + %zu) is 0x%02x, expected 0x%02x",
		       what, i, i / page_size, i % page_size, b->addr[i],
		       b->shadow[i]);
}

static void check_all(struct __test_metadata *_metadata, const struct buf *b,
		      const char *what)
{
	check_range(_metadata, b, 0, b->len, what);
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put_u64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* VmPin of this process in kB, or -1 if /proc/self/status has none. */
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

static const char *kind_name(enum mr_kind kind)
{
	return kind == MR_PINNED ? "pinned" :
	       kind == MR_ODP ? "explicit ODP" : "implicit ODP";
}

static const char *status_str(int st)
{
	if (st == WC_TIMEOUT)
		return "no completion";
	if (st == WC_NOT_POSTED)
		return "work request not posted";
	return ibv_wc_status_str(st);
}

#define ASSERT_WC(expected, st) \
	ASSERT_EQ(expected, st) \
		TH_LOG("completion status %d (%s), expected %s", st, \
		       status_str(st), ibv_wc_status_str(expected))

/* Buffers and their memory regions */

static void buf_register(struct __test_metadata *_metadata, struct conn *c,
			 struct buf *b, size_t len)
{
	if (c->kind == MR_IMPLICIT) {
		b->mr = c->implicit_mr;
		return;
	}
	b->mr = ibv_reg_mr(c->pd, b->addr, len, ACCESS_ALL |
			   (c->kind == MR_ODP ? IBV_ACCESS_ON_DEMAND : 0));
	ASSERT_NE(NULL, b->mr)
		TH_LOG("ibv_reg_mr (%s) of %zu bytes: %s", kind_name(c->kind),
		       len, strerror(errno));
}

/* A mapping of @npages never touched, its shadow (zeros) and its MR. */
static void buf_alloc(struct __test_metadata *_metadata, struct conn *c,
		      struct buf *b, size_t npages)
{
	b->len = npages * page_size;
	b->addr = mmap(NULL, b->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b->addr);
	b->shadow = calloc(1, b->len);
	ASSERT_NE(NULL, b->shadow);
	buf_register(_metadata, c, b, b->len);
}

static void buf_reregister(struct __test_metadata *_metadata, struct conn *c,
			   struct buf *b)
{
	ASSERT_EQ(0, ibv_dereg_mr(b->mr));
	b->mr = NULL;
	buf_register(_metadata, c, b, b->len);
}

static void buf_free(struct conn *c, struct buf *b)
{
	if (b->mr && b->mr != c->implicit_mr)
		ibv_dereg_mr(b->mr);
	if (b->addr && b->addr != MAP_FAILED)
		munmap(b->addr, b->len);
	free(b->shadow);
	memset(b, 0, sizeof(*b));
}

/* Work requests and completions */

/* Wait for one completion on @cq: its status, or WC_TIMEOUT. */
static int wait_wc(struct ibv_cq *cq, struct ibv_wc *wc)
{
	struct timespec start, now;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n > 0)
			return wc->status;
		if (n < 0)
			return WC_TIMEOUT;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= POLL_SECONDS)
			return WC_TIMEOUT;
		usleep(100);
	}
}

/* Post @wr on the requester and wait for its completion: its status. */
static int post_wait(struct conn *c, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;
	struct ibv_wc wc;

	wr->send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(c->qp[0], wr, &bad))
		return WC_NOT_POSTED;
	return wait_wc(c->cq[0], &wc);
}

static int rdma(struct conn *c, enum ibv_wr_opcode opcode, void *laddr,
		uint32_t lkey, uint32_t len, uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)laddr, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = opcode,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};

	return post_wait(c, &wr);
}

static int rdma_write(struct conn *c, void *src, uint32_t lkey, uint32_t len,
		      uint64_t raddr, uint32_t rkey)
{
	return rdma(c, IBV_WR_RDMA_WRITE, src, lkey, len, raddr, rkey);
}

static int rdma_read(struct conn *c, void *dst, uint32_t lkey, uint32_t len,
		     uint64_t raddr, uint32_t rkey)
{
	return rdma(c, IBV_WR_RDMA_READ, dst, lkey, len, raddr, rkey);
}

/*
 * A SEND of @len bytes at @src into a RECV posted on the responder at @dst:
 * the status of the send completion, or of the receive completion when the
 * send succeeded; the receive's byte count in *@received.
 */
static int send_recv(struct conn *c, void *src, uint32_t src_lkey, void *dst,
		     uint32_t dst_lkey, uint32_t len, uint32_t *received)
{
	struct ibv_sge rsge = {
		.addr = (uintptr_t)dst, .length = len, .lkey = dst_lkey,
	};
	struct ibv_recv_wr rwr = { .sg_list = &rsge, .num_sge = 1 }, *bad;
	struct ibv_sge ssge = {
		.addr = (uintptr_t)src, .length = len, .lkey = src_lkey,
	};
	struct ibv_send_wr swr = {
		.sg_list = &ssge, .num_sge = 1, .opcode = IBV_WR_SEND,
	};
	struct ibv_wc wc = {};
	int st;

	if (ibv_post_recv(c->qp[1], &rwr, &bad))
		return WC_NOT_POSTED;
	st = post_wait(c, &swr);
	if (st != IBV_WC_SUCCESS)
		return st;
	st = wait_wc(c->cq[1], &wc);
	*received = wc.byte_len;
	return st;
}

/* An 8-byte atomic at @raddr; the old value lands at @result. */
static int atomic(struct conn *c, enum ibv_wr_opcode opcode, void *result,
		  uint32_t lkey, uint64_t raddr, uint32_t rkey,
		  uint64_t compare_add, uint64_t swap)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)result, .length = 8, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = opcode,
		.wr.atomic = { .remote_addr = raddr, .rkey = rkey,
			       .compare_add = compare_add, .swap = swap },
	};

	return post_wait(c, &wr);
}

static int cmp_swp(struct conn *c, void *result, uint32_t lkey,
		   uint64_t raddr, uint32_t rkey, uint64_t compare,
		   uint64_t swap)
{
	return atomic(c, IBV_WR_ATOMIC_CMP_AND_SWP, result, lkey, raddr, rkey,
		      compare, swap);
}

static int fetch_add(struct conn *c, void *result, uint32_t lkey,
		     uint64_t raddr, uint32_t rkey, uint64_t add)
{
	return atomic(c, IBV_WR_ATOMIC_FETCH_AND_ADD, result, lkey, raddr,
		      rkey, add, 0);
}

/* Device, queue pair and connection */

static void require_odp(struct __test_metadata *_metadata, struct conn *c)
{
	uint64_t general = IBV_ODP_SUPPORT;
	struct ibv_device_attr_ex attr = {};
	uint32_t rc;

	if (c->kind == MR_IMPLICIT)
		general |= IBV_ODP_SUPPORT_IMPLICIT;
	ASSERT_EQ(0, ibv_query_device_ex(c->ctx, NULL, &attr));
	ASSERT_EQ(general, attr.odp_caps.general_caps & general)
		TH_LOG("%s does not support %s (general_odp_caps 0x%llx): the product requires it",
		       DEV_NAME, kind_name(c->kind),
		       (unsigned long long)attr.odp_caps.general_caps);
	rc = attr.odp_caps.per_transport_caps.rc_odp_caps;
	ASSERT_EQ((uint32_t)RC_ODP_NEEDED, rc & RC_ODP_NEEDED)
		TH_LOG("%s ODP lacks RC SEND/RECV/WRITE/READ/ATOMIC (rc_odp_caps 0x%x): the product requires them",
		       DEV_NAME, rc);
}

/* The device, a PD, and for implicit ODP the MR of the address space. */
static void conn_open(struct __test_metadata *_metadata, struct conn *c,
		      enum mr_kind kind)
{
	page_size = sysconf(_SC_PAGESIZE);
	c->kind = kind;
	loop_dev = DEV_NAME;
	c->ctx = loop_open();
	ASSERT_NE(NULL, c->ctx) TH_LOG("cannot open %s", DEV_NAME);
	c->pd = ibv_alloc_pd(c->ctx);
	ASSERT_NE(NULL, c->pd);
	if (kind == MR_PINNED)
		return;
	require_odp(_metadata, c);
	if (kind == MR_IMPLICIT) {
		c->implicit_mr = ibv_reg_mr(c->pd, NULL, SIZE_MAX, ACCESS_ALL |
					    IBV_ACCESS_ON_DEMAND);
		ASSERT_NE(NULL, c->implicit_mr)
			TH_LOG("implicit ODP MR: %s", strerror(errno));
	}
}

/* Two RC QPs, a CQ each, connected to each other. */
static void conn_connect(struct __test_metadata *_metadata, struct conn *c)
{
	struct ibv_port_attr port;
	union ibv_gid gid;
	int i, ret;

	ASSERT_EQ(0, ibv_query_port(c->ctx, 1, &port));
	ASSERT_LE(0, loop_find_gid())
		TH_LOG("%s port 1 has no RoCE v2 GID of 10.0.2.15", DEV_NAME);
	ASSERT_EQ(0, ibv_query_gid(c->ctx, 1, loop_gid, &gid));
	for (i = 0; i < 2; i++) {
		struct ibv_qp_init_attr attr = {
			.qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 4, .max_recv_wr = 4,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		c->cq[i] = ibv_create_cq(c->ctx, 8, NULL, NULL, 0);
		ASSERT_NE(NULL, c->cq[i]) TH_LOG("ibv_create_cq: %s", strerror(errno));
		attr.send_cq = attr.recv_cq = c->cq[i];
		c->qp[i] = ibv_create_qp(c->pd, &attr);
		ASSERT_NE(NULL, c->qp[i]) TH_LOG("ibv_create_qp: %s", strerror(errno));
	}
	for (i = 0; i < 2; i++) {
		ret = loop_qp_to_rts(c->qp[i], c->qp[!i]->qp_num, &gid,
				     port.active_mtu, 1);
		ASSERT_EQ(0, ret) TH_LOG("qp[%d] to RTS: %s", i, strerror(ret));
	}
}

static void conn_close(struct conn *c)
{
	int i;

	buf_free(c, &c->loc);
	buf_free(c, &c->rem);
	if (c->implicit_mr)
		ibv_dereg_mr(c->implicit_mr);
	for (i = 0; i < 2; i++) {
		if (c->qp[i])
			ibv_destroy_qp(c->qp[i]);
		if (c->cq[i])
			ibv_destroy_cq(c->cq[i]);
	}
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->ctx)
		ibv_close_device(c->ctx);
}

/* The verbs fixture: every operation through every kind of MR */

enum op { OP_WRITE, OP_READ, OP_SEND, OP_CMP_SWP, OP_FETCH_ADD };
enum invalidation { FRESH, REMAP, DONTNEED, MPROTECT, FORK };

/*
 * One @op between loc and rem (see the offsets at the top).  loc is filled
 * first with @seed: the data to send, or what the result must overwrite.
 * Then both buffers are checked against their shadows.
 */
static void transfer(struct __test_metadata *_metadata, struct conn *c,
		     enum op op, unsigned int seed)
{
	struct buf *loc = &c->loc, *rem = &c->rem;
	unsigned char *l = loc->addr + LOC_OFF, *r = rem->addr + REM_OFF;
	unsigned char *result = loc->addr + RESULT_OFF;
	uint64_t target = (uintptr_t)rem->addr + ATOMIC_OFF;
	uint64_t old = get_u64(rem->shadow + ATOMIC_OFF);
	uint64_t arg = 0x0123456789abcdefULL ^ (seed * 0x9e3779b97f4a7c15ULL);
	uint32_t received = 0;
	int st;

	fill(loc, seed);
	switch (op) {
	case OP_WRITE:
		st = rdma_write(c, l, loc->mr->lkey, XFER_LEN, (uintptr_t)r,
				rem->mr->rkey);
		ASSERT_WC(IBV_WC_SUCCESS, st);
		memcpy(rem->shadow + REM_OFF, loc->shadow + LOC_OFF, XFER_LEN);
		break;
	case OP_READ:
		st = rdma_read(c, l, loc->mr->lkey, XFER_LEN, (uintptr_t)r,
			       rem->mr->rkey);
		ASSERT_WC(IBV_WC_SUCCESS, st);
		memcpy(loc->shadow + LOC_OFF, rem->shadow + REM_OFF, XFER_LEN);
		break;
	case OP_SEND:
		st = send_recv(c, l, loc->mr->lkey, r, rem->mr->lkey, XFER_LEN,
			       &received);
		ASSERT_WC(IBV_WC_SUCCESS, st);
		ASSERT_EQ(XFER_LEN, received);
		memcpy(rem->shadow + REM_OFF, loc->shadow + LOC_OFF, XFER_LEN);
		break;
	case OP_CMP_SWP:
		/* A compare that does not match returns the value, keeps it. */
		st = cmp_swp(c, result, loc->mr->lkey, target, rem->mr->rkey,
			     ~old, arg);
		ASSERT_WC(IBV_WC_SUCCESS, st);
		ASSERT_EQ(old, get_u64(result))
			TH_LOG("CMP_AND_SWP (no match) returned a wrong value");
		put_u64(loc->shadow + RESULT_OFF, old);
		check_all(_metadata, rem, "responder after CMP_AND_SWP (no match)");
		/* One that matches swaps. */
		st = cmp_swp(c, result, loc->mr->lkey, target, rem->mr->rkey,
			     old, arg);
		ASSERT_WC(IBV_WC_SUCCESS, st);
		ASSERT_EQ(old, get_u64(result))
			TH_LOG("CMP_AND_SWP (match) returned a wrong value");
		put_u64(rem->shadow + ATOMIC_OFF, arg);
		break;
	case OP_FETCH_ADD:
		st = fetch_add(c, result, loc->mr->lkey, target, rem->mr->rkey,
			       arg);
		ASSERT_WC(IBV_WC_SUCCESS, st);
		ASSERT_EQ(old, get_u64(result))
			TH_LOG("FETCH_AND_ADD returned a wrong value");
		put_u64(loc->shadow + RESULT_OFF, old);
		put_u64(rem->shadow + ATOMIC_OFF, old + arg);
		break;
	}
	check_all(_metadata, loc, "requester buffer");
	check_all(_metadata, rem, "responder buffer");
}

/* munmap, then a new mapping at the same address (never touched yet). */
static void remap(struct __test_metadata *_metadata, struct buf *b)
{
	ASSERT_EQ(0, munmap(b->addr, b->len));
	ASSERT_EQ(b->addr, mmap(b->addr, b->len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memset(b->shadow, 0, b->len);
}

/*
 * A child sharing @b copy-on-write.  It waits until the parent writes to
 * *@go, checks that nothing the parent did reached its copy (exit 1
 * otherwise), writes its copy and exits.
 */
static pid_t fork_child(struct __test_metadata *_metadata, struct buf *b,
			int *go)
{
	int fds[2];
	pid_t pid;
	char x;

	/* The kernel copies pinned pages at fork; no MADV_DONTFORK needed. */
	ASSERT_EQ(IBV_FORK_UNNEEDED, (int)ibv_is_fork_initialized());
	ASSERT_EQ(0, pipe(fds));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &x, 1) != 1)
			_exit(2);	/* the parent is gone */
		if (memcmp(b->addr, b->shadow, b->len))
			_exit(1);
		fill(b, CHILD_SEED);
		_exit(0);
	}
	close(fds[0]);
	*go = fds[1];
	return pid;
}

static void join_child(struct __test_metadata *_metadata, pid_t pid, int go)
{
	int status;

	ASSERT_EQ(1, write(go, "x", 1));
	close(go);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child status 0x%x", status);
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("the parent's RDMA or writes reached the child's copy of the responder buffer");
}

/*
 * The operation @op with rem never touched; then with rem holding data the
 * device has used; then after @inval changed what is mapped at rem, both as
 * it is and with new data.
 */
static void run(struct __test_metadata *_metadata, struct conn *c, enum op op,
		enum invalidation inval)
{
	unsigned int seed = 1;
	pid_t child = 0;
	int go = -1;

	buf_alloc(_metadata, c, &c->loc, NPAGES);
	buf_alloc(_metadata, c, &c->rem, NPAGES);
	transfer(_metadata, c, op, seed++);
	if (inval == FRESH)
		return;

	fill(&c->rem, seed++);
	transfer(_metadata, c, op, seed++);

	switch (inval) {
	case FRESH:
		break;
	case REMAP:
		remap(_metadata, &c->rem);
		fill(&c->rem, seed++);
		break;
	case DONTNEED:
		/* Private anonymous memory reads as zeros afterwards. */
		ASSERT_EQ(0, madvise(c->rem.addr, c->rem.len, MADV_DONTNEED));
		memset(c->rem.shadow, 0, c->rem.len);
		check_all(_metadata, &c->rem, "responder after MADV_DONTNEED");
		break;
	case MPROTECT:
		ASSERT_EQ(0, mprotect(c->rem.addr, c->rem.len, PROT_READ));
		check_all(_metadata, &c->rem, "responder while PROT_READ");
		ASSERT_EQ(0, mprotect(c->rem.addr, c->rem.len,
				      PROT_READ | PROT_WRITE));
		break;
	case FORK:
		child = fork_child(_metadata, &c->rem, &go);
		break;
	}

	/*
	 * A pinned MR holds the pages it pinned at registration.  After
	 * munmap+mmap or MADV_DONTNEED those are no longer the pages mapped
	 * at its addresses, so a user of pinned memory registers again, and
	 * so does the pinned variant here.  (mprotect leaves the pages in
	 * place, and fork gives the child copies of pinned pages, so the
	 * pinned MR stays valid through those.)
	 * An ODP MR follows the mapping by itself: it is NOT re-registered.
	 */
	if (c->kind == MR_PINNED && (inval == REMAP || inval == DONTNEED))
		buf_reregister(_metadata, c, &c->rem);

	/* After fork: the parent's data, while the child shares it. */
	transfer(_metadata, c, op, seed++);
	/* After fork: new data breaks copy-on-write. */
	fill(&c->rem, seed++);
	transfer(_metadata, c, op, seed++);

	if (inval == FORK) {
		join_child(_metadata, child, go);
		check_all(_metadata, &c->rem,
			  "responder after the child wrote its copy");
		transfer(_metadata, c, op, seed++);
	}
}

FIXTURE(verbs)
{
	struct conn c;
};

FIXTURE_VARIANT(verbs)
{
	enum mr_kind kind;
};

FIXTURE_VARIANT_ADD(verbs, pinned)
{
	.kind = MR_PINNED,
};

FIXTURE_VARIANT_ADD(verbs, odp)
{
	.kind = MR_ODP,
};

FIXTURE_VARIANT_ADD(verbs, implicit)
{
	.kind = MR_IMPLICIT,
};

FIXTURE_SETUP(verbs)
{
	conn_open(_metadata, &self->c, variant->kind);
	conn_connect(_metadata, &self->c);
}

FIXTURE_TEARDOWN(verbs)
{
	conn_close(&self->c);
}

#define VERBS_TEST(name, op, inval) \
	TEST_F_TIMEOUT(verbs, name, TEST_TIMEOUT) \
	{ \
		run(_metadata, &self->c, op, inval); \
	}

VERBS_TEST(write, OP_WRITE, FRESH)
VERBS_TEST(write_after_remap, OP_WRITE, REMAP)
VERBS_TEST(write_after_dontneed, OP_WRITE, DONTNEED)
VERBS_TEST(write_after_mprotect, OP_WRITE, MPROTECT)
VERBS_TEST(write_after_fork, OP_WRITE, FORK)

VERBS_TEST(read, OP_READ, FRESH)
VERBS_TEST(read_after_remap, OP_READ, REMAP)
VERBS_TEST(read_after_dontneed, OP_READ, DONTNEED)
VERBS_TEST(read_after_mprotect, OP_READ, MPROTECT)
VERBS_TEST(read_after_fork, OP_READ, FORK)

VERBS_TEST(send, OP_SEND, FRESH)
VERBS_TEST(send_after_remap, OP_SEND, REMAP)
VERBS_TEST(send_after_dontneed, OP_SEND, DONTNEED)
VERBS_TEST(send_after_mprotect, OP_SEND, MPROTECT)
VERBS_TEST(send_after_fork, OP_SEND, FORK)

VERBS_TEST(cmp_swp, OP_CMP_SWP, FRESH)
VERBS_TEST(cmp_swp_after_remap, OP_CMP_SWP, REMAP)
VERBS_TEST(cmp_swp_after_dontneed, OP_CMP_SWP, DONTNEED)
VERBS_TEST(cmp_swp_after_mprotect, OP_CMP_SWP, MPROTECT)
VERBS_TEST(cmp_swp_after_fork, OP_CMP_SWP, FORK)

VERBS_TEST(fetch_add, OP_FETCH_ADD, FRESH)
VERBS_TEST(fetch_add_after_remap, OP_FETCH_ADD, REMAP)
VERBS_TEST(fetch_add_after_dontneed, OP_FETCH_ADD, DONTNEED)
VERBS_TEST(fetch_add_after_mprotect, OP_FETCH_ADD, MPROTECT)
VERBS_TEST(fetch_add_after_fork, OP_FETCH_ADD, FORK)

/*
 * The odp_err fixture: errors only an ODP MR can produce, since a pinned MR
 * keeps its pages whatever happens to the mapping.  Each test primes the
 * device with a successful transfer, changes the mapping, and expects the
 * exact error; one error per test, as it moves the QPs to the error state.
 * The memory that was not granted must be unchanged afterwards.
 */

FIXTURE(odp_err)
{
	struct conn c;
};

FIXTURE_VARIANT(odp_err)
{
	enum mr_kind kind;
};

FIXTURE_VARIANT_ADD(odp_err, odp)
{
	.kind = MR_ODP,
};

FIXTURE_VARIANT_ADD(odp_err, implicit)
{
	.kind = MR_IMPLICIT,
};

FIXTURE_SETUP(odp_err)
{
	conn_open(_metadata, &self->c, variant->kind);
	conn_connect(_metadata, &self->c);
}

FIXTURE_TEARDOWN(odp_err)
{
	conn_close(&self->c);
}

/* The error tests' remote range: from the middle of page 0 into page 1. */
#define ERR_OFF		100
#define ERR_LEN		(page_size + 1000)

/* RDMA WRITE into a page made PROT_READ: remote access error. */
TEST_F_TIMEOUT(odp_err, write_prot_read, TEST_TIMEOUT)
{
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	int st;

	buf_alloc(_metadata, c, loc, 2);
	buf_alloc(_metadata, c, rem, 3);
	fill(rem, 1);
	fill(loc, 2);
	st = rdma_write(c, loc->addr, loc->mr->lkey, ERR_LEN,
			(uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_SUCCESS, st);
	memcpy(rem->shadow + ERR_OFF, loc->shadow, ERR_LEN);
	check_all(_metadata, rem, "responder");

	ASSERT_EQ(0, mprotect(rem->addr + page_size, page_size, PROT_READ));
	fill(loc, 3);
	st = rdma_write(c, loc->addr, loc->mr->lkey, ERR_LEN,
			(uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_REM_ACCESS_ERR, st);
	/* Page 0 from ERR_OFF on was writable: not checked. */
	check_range(_metadata, rem, 0, ERR_OFF, "responder before the range");
	check_range(_metadata, rem, page_size, rem->len - page_size,
		    "responder's read-only page and after");
}

/* RDMA READ of a page made PROT_NONE: remote access error, nothing leaks. */
TEST_F_TIMEOUT(odp_err, read_prot_none, TEST_TIMEOUT)
{
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	size_t first = page_size - ERR_OFF;	/* bytes from page 0 */
	int st;

	buf_alloc(_metadata, c, loc, 2);
	buf_alloc(_metadata, c, rem, 3);
	fill(rem, 1);
	fill(loc, 2);
	st = rdma_read(c, loc->addr, loc->mr->lkey, ERR_LEN,
		       (uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_SUCCESS, st);
	memcpy(loc->shadow, rem->shadow + ERR_OFF, ERR_LEN);
	check_all(_metadata, loc, "requester");

	ASSERT_EQ(0, mprotect(rem->addr + page_size, page_size, PROT_NONE));
	fill(loc, 3);
	st = rdma_read(c, loc->addr, loc->mr->lkey, ERR_LEN,
		       (uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_REM_ACCESS_ERR, st);
	/* What page 0 holds was readable: not checked. */
	check_range(_metadata, loc, first, loc->len - first,
		    "requester bytes for the PROT_NONE page and after");
	ASSERT_EQ(0, mprotect(rem->addr + page_size, page_size,
			      PROT_READ | PROT_WRITE));
	check_all(_metadata, rem, "responder");
}

/* RDMA WRITE into a page unmapped after registration: remote access error. */
TEST_F_TIMEOUT(odp_err, write_unmapped, TEST_TIMEOUT)
{
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	int st;

	buf_alloc(_metadata, c, loc, 2);
	buf_alloc(_metadata, c, rem, 3);
	fill(loc, 1);
	st = rdma_write(c, loc->addr, loc->mr->lkey, ERR_LEN,
			(uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_SUCCESS, st);
	memcpy(rem->shadow + ERR_OFF, loc->shadow, ERR_LEN);
	check_all(_metadata, rem, "responder");

	ASSERT_EQ(0, munmap(rem->addr + page_size, page_size));
	fill(loc, 2);
	st = rdma_write(c, loc->addr, loc->mr->lkey, ERR_LEN,
			(uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_REM_ACCESS_ERR, st);
	check_range(_metadata, rem, 0, ERR_OFF, "responder before the range");
	check_range(_metadata, rem, 2 * page_size, page_size,
		    "responder after the hole");
}

/* RDMA WRITE from a local SGE unmapped after registration: local protection error. */
TEST_F_TIMEOUT(odp_err, local_sge_unmapped, TEST_TIMEOUT)
{
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	int st;

	buf_alloc(_metadata, c, loc, 2);
	buf_alloc(_metadata, c, rem, 3);
	fill(loc, 1);
	fill(rem, 2);
	st = rdma_write(c, loc->addr + ERR_OFF, loc->mr->lkey, ERR_LEN,
			(uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_SUCCESS, st);
	memcpy(rem->shadow + ERR_OFF, loc->shadow + ERR_OFF, ERR_LEN);
	check_all(_metadata, rem, "responder");

	ASSERT_EQ(0, munmap(loc->addr, loc->len));
	st = rdma_write(c, loc->addr + ERR_OFF, loc->mr->lkey, ERR_LEN,
			(uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_LOC_PROT_ERR, st);
	check_all(_metadata, rem, "responder");
	loc->addr = NULL;	/* already unmapped */
}

/*
 * An RDMA WRITE that runs past the end of the MR: remote access error,
 * nothing written.  Explicit ODP: an MR over 2 of 3 mapped pages, a write
 * from page 1 into page 2.  Implicit ODP: the MR ends at SIZE_MAX, so the
 * write starts 200 bytes below 2^64 (its range wraps around).
 */
TEST_F_TIMEOUT(odp_err, remote_past_end, TEST_TIMEOUT)
{
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	uint64_t end;
	int st;

	buf_alloc(_metadata, c, loc, 2);
	fill(loc, 1);
	if (c->kind == MR_IMPLICIT) {
		st = rdma_write(c, loc->addr, loc->mr->lkey, 300,
				(uint64_t)0 - 200, c->implicit_mr->rkey);
		ASSERT_WC(IBV_WC_REM_ACCESS_ERR, st);
		return;
	}

	rem->len = 3 * page_size;
	rem->addr = mmap(NULL, rem->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rem->addr);
	rem->shadow = calloc(1, rem->len);
	ASSERT_NE(NULL, rem->shadow);
	buf_register(_metadata, c, rem, 2 * page_size);
	fill(rem, 2);
	st = rdma_write(c, loc->addr, loc->mr->lkey, ERR_LEN,
			(uintptr_t)rem->addr + ERR_OFF, rem->mr->rkey);
	ASSERT_WC(IBV_WC_SUCCESS, st);
	memcpy(rem->shadow + ERR_OFF, loc->shadow, ERR_LEN);
	check_all(_metadata, rem, "responder");

	fill(loc, 3);
	end = (uintptr_t)rem->addr + 2 * page_size;
	st = rdma_write(c, loc->addr, loc->mr->lkey, ERR_LEN, end - 1000,
			rem->mr->rkey);
	ASSERT_WC(IBV_WC_REM_ACCESS_ERR, st);
	check_all(_metadata, rem, "responder");
}

/* RDMA READ of a kernel address: remote access error, nothing leaks. */
TEST_F_TIMEOUT(odp_err, remote_read_kernel_address, TEST_TIMEOUT)
{
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	int st;

	buf_alloc(_metadata, c, loc, 1);
	buf_alloc(_metadata, c, rem, 1);
	fill(loc, 1);
	st = rdma_read(c, loc->addr, loc->mr->lkey, 256, 0xffffffff81000000ULL,
		       rem->mr->rkey);
	ASSERT_WC(IBV_WC_REM_ACCESS_ERR, st);
	check_all(_metadata, loc, "requester");
}

/* ODP transfers of 512 KiB leave nothing pinned. */
TEST_F_TIMEOUT(odp_err, vmpin_zero, TEST_TIMEOUT)
{
	const size_t npages = (256 << 10) / page_size, len = (256 << 10) - 200;
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	long kb;
	int st;

	buf_alloc(_metadata, c, loc, npages);
	buf_alloc(_metadata, c, rem, npages);
	fill(loc, 1);
	st = rdma_write(c, loc->addr + 100, loc->mr->lkey, len,
			(uintptr_t)rem->addr + 100, rem->mr->rkey);
	ASSERT_WC(IBV_WC_SUCCESS, st);
	memcpy(rem->shadow + 100, loc->shadow + 100, len);
	check_all(_metadata, rem, "responder after WRITE");

	fill(loc, 2);
	st = rdma_read(c, loc->addr + 100, loc->mr->lkey, len,
		       (uintptr_t)rem->addr + 100, rem->mr->rkey);
	ASSERT_WC(IBV_WC_SUCCESS, st);
	memcpy(loc->shadow + 100, rem->shadow + 100, len);
	check_all(_metadata, loc, "requester after READ");

	kb = vmpin_kb();
	ASSERT_EQ(0, kb) TH_LOG("VmPin %ld kB with ODP MRs after 512 KiB of transfers", kb);
}

/*
 * A 64 GiB ODP MR over a MAP_NORESERVE mapping (explicit), or the implicit
 * MR: RDMA WRITEs to 16 spots spread over it, each across a page boundary.
 */
TEST_F_TIMEOUT(odp_err, sparse_64g, 300)
{
	const size_t size = 64UL << 30, len = 300, spots = 16;
	struct conn *c = &self->c;
	struct buf *loc = &c->loc, *rem = &c->rem;
	struct timespec t0, t1;
	unsigned char *spot;
	size_t i, j;
	int st;

	buf_alloc(_metadata, c, loc, 2);
	rem->len = size;
	rem->addr = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, rem->addr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	buf_register(_metadata, c, rem, size);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (c->kind == MR_ODP)
		TH_LOG("explicit ODP MR over 64 GiB: registration took %.3f s",
		       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	else
		TH_LOG("64 GiB mapping reached through the implicit MR");

	/* Spot i: 100 bytes before the last page of the i-th 4 GiB. */
	for (i = 0; i < spots; i++) {
		spot = rem->addr + (i + 1) * (size / spots) - page_size - 100;
		fill(loc, i + 1);
		st = rdma_write(c, loc->addr + LOC_OFF, loc->mr->lkey, len,
				(uintptr_t)spot, rem->mr->rkey);
		ASSERT_EQ(IBV_WC_SUCCESS, st)
			TH_LOG("spot %zu: status %d (%s)", i, st,
			       status_str(st));
	}
	for (i = 0; i < spots; i++) {
		spot = rem->addr + (i + 1) * (size / spots) - page_size - 100;
		for (j = 0; j < len; j++)
			ASSERT_EQ(pattern(LOC_OFF + j, i + 1), spot[j])
				TH_LOG("spot %zu, byte %zu", i, j);
		for (j = 1; j <= 64; j++) {
			ASSERT_EQ(0, *(spot - j)) TH_LOG("spot %zu, byte -%zu", i, j);
			ASSERT_EQ(0, spot[len - 1 + j])
				TH_LOG("spot %zu, byte %zu", i, len - 1 + j);
		}
	}
}

/* The pin fixture: a pinned MR counts in VmPin, and only while it exists. */

FIXTURE(pin)
{
	struct conn c;
};

FIXTURE_VARIANT(pin)
{
	enum mr_kind kind;
};

FIXTURE_VARIANT_ADD(pin, pinned)
{
	.kind = MR_PINNED,
};

FIXTURE_SETUP(pin)
{
	conn_open(_metadata, &self->c, variant->kind);
}

FIXTURE_TEARDOWN(pin)
{
	conn_close(&self->c);
}

TEST_F_TIMEOUT(pin, vmpin_while_registered, TEST_TIMEOUT)
{
	struct buf *b = &self->c.rem;
	long before, during, after;

	before = vmpin_kb();
	ASSERT_LE(0, before) TH_LOG("no VmPin in /proc/self/status");
	buf_alloc(_metadata, &self->c, b, (1 << 20) / page_size);
	during = vmpin_kb();
	ASSERT_EQ(0, ibv_dereg_mr(b->mr));
	b->mr = NULL;
	after = vmpin_kb();
	TH_LOG("VmPin: %ld kB before, %ld kB with a 1 MiB pinned MR, %ld kB after",
	       before, during, after);
	ASSERT_LE(before + 1024, during);
	ASSERT_EQ(before, after);
}

TEST_HARNESS_MAIN
