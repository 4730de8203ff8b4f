/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loopback QPs on rxe0 (10.0.2.15, RoCE v2): the device, its GID, the
 * INIT/RTR/RTS sequence for RC, UC and UD QPs, and ibv_advise_mr() through
 * the uverbs ioctl (rdma-core 44's rxe provider has no advise_mr op), used
 * by every program that talks to itself over rxe (define
 * RDMA_LOOP_SETUP_ONLY to get just these); and the RC QP pairs and verbs
 * helpers the stress and bad-input programs share: one posted work request
 * and its completion status, memory registration of the three kinds
 * (pinned, explicit ODP, implicit ODP).
 */
#ifndef RDMA_LOOP_H
#define RDMA_LOOP_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>

/* ---- device, GID, QP states: every loopback program ------------------ */

#define LOOP_QKEY	0x11111111	/* of every UD QP */

static const char *loop_dev __attribute__((unused)) = "rxe0";
static int loop_gid __attribute__((unused)) = -1;

/* Whether GID @i of @loop_dev's port 1 is 10.0.2.15's RoCE v2 GID. */
static inline bool loop_gid_is_ours(int i)
{
	char path[128], buf[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/gids/%d", loop_dev, i);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) &&
	     !strncmp(buf, "0000:0000:0000:0000:0000:ffff:0a00:020f", 39);
	fclose(f);
	if (!ok)
		return false;
	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/gid_attrs/types/%d",
		 loop_dev, i);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && !strncmp(buf, "RoCE v2", 7);
	fclose(f);
	return ok;
}

/*
 * The index of the RoCE v2 GID of 10.0.2.15 on @loop_dev's port 1 (also
 * kept in loop_gid), or -1.  The GID table fills in after the device is
 * added (`rdma link add` returns before): wait up to 5 s for it.
 */
static inline int loop_find_gid(void)
{
	int i, tries;

	for (tries = 0; tries < 50; tries++) {
		for (i = 0; i < 16; i++)
			if (loop_gid_is_ours(i))
				return loop_gid = i;
		usleep(100000);
	}
	return -1;
}

static inline struct ibv_context *loop_open(void)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), loop_dev))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	return ctx;
}

/*
 * The local ACK timeout of RC QPs set up by loop_qp_to_rts_access(): 4.096
 * us << this (14: 67 ms).  A test that wants the requester to retransmit
 * while the responder is still at work lowers it (1: one jiffy in rxe).
 */
static int loop_rc_timeout = 14;

/*
 * Take @qp (RC, UC or UD) through INIT, RTR and RTS, towards QP @dest at
 * @gid on port 1 (the port's own GID: loopback) over GID loop_gid, with
 * @mtu, and for RC @rd_atomic reads and atomics in flight each way.  The QP
 * grants @access (IBV_ACCESS_REMOTE_*) to its peer (UD: the qkey
 * LOOP_QKEY).  Returns 0 or the errno value of the failed transition.
 */
static inline int loop_qp_to_rts_access(struct ibv_qp *qp, uint32_t dest,
					const union ibv_gid *gid,
					enum ibv_mtu mtu, int rd_atomic,
					int access)
{
	enum ibv_qp_type type = qp->qp_type;
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .pkey_index = 0, .port_num = 1,
		.qkey = LOOP_QKEY,
		.qp_access_flags = access,
	};
	int mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT, ret;

	mask |= type == IBV_QPT_UD ? IBV_QP_QKEY : IBV_QP_ACCESS_FLAGS;
	ret = ibv_modify_qp(qp, &a, mask);
	if (ret)
		return ret;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	mask = IBV_QP_STATE;
	if (type != IBV_QPT_UD) {
		a.path_mtu = mtu;
		a.dest_qp_num = dest;
		a.rq_psn = 0;
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = *gid;
		a.ah_attr.grh.sgid_index = loop_gid;
		a.ah_attr.grh.hop_limit = 1;
		a.ah_attr.port_num = 1;
		mask |= IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			IBV_QP_RQ_PSN;
	}
	if (type == IBV_QPT_RC) {
		a.max_dest_rd_atomic = rd_atomic;
		a.min_rnr_timer = 12;
		mask |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
	}
	ret = ibv_modify_qp(qp, &a, mask);
	if (ret)
		return ret;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0;
	mask = IBV_QP_STATE | IBV_QP_SQ_PSN;
	if (type == IBV_QPT_RC) {
		a.timeout = loop_rc_timeout;
		a.retry_cnt = 7;
		a.rnr_retry = 7;
		a.max_rd_atomic = rd_atomic;
		mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			IBV_QP_MAX_QP_RD_ATOMIC;
	}
	return ibv_modify_qp(qp, &a, mask);
}

/* As loop_qp_to_rts_access(), granting all the QP type allows. */
static inline int loop_qp_to_rts(struct ibv_qp *qp, uint32_t dest,
				  const union ibv_gid *gid, enum ibv_mtu mtu,
				  int rd_atomic)
{
	return loop_qp_to_rts_access(qp, dest, gid, mtu, rd_atomic,
				     qp->qp_type == IBV_QPT_UC ?
				     IBV_ACCESS_REMOTE_WRITE :
				     IBV_ACCESS_REMOTE_WRITE |
				     IBV_ACCESS_REMOTE_READ |
				     IBV_ACCESS_REMOTE_ATOMIC);
}

/*
 * ibv_advise_mr() issued to the kernel directly: UVERBS_METHOD_ADVISE_MR
 * with the PD handle, the advice, the flags and the SGE list.  Returns 0 or
 * the errno of the ioctl.
 */
static inline int advise_mr_ioctl(struct ibv_pd *pd, uint32_t advice, uint32_t flags,
			   const struct ibv_sge *sg, uint32_t num_sge)
{
	struct {
		struct ib_uverbs_ioctl_hdr hdr;
		struct ib_uverbs_attr attrs[4];
	} cmd;
	struct ib_uverbs_sge sges[16];
	uint32_t i;

	if (num_sge > 16)
		return E2BIG;
	for (i = 0; i < num_sge; i++) {
		sges[i].addr = sg[i].addr;
		sges[i].length = sg[i].length;
		sges[i].lkey = sg[i].lkey;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.length = sizeof(cmd);
	cmd.hdr.object_id = UVERBS_OBJECT_MR;
	cmd.hdr.method_id = UVERBS_METHOD_ADVISE_MR;
	cmd.hdr.num_attrs = 4;
	cmd.hdr.driver_id = RDMA_DRIVER_RXE;
	cmd.attrs[0].attr_id = UVERBS_ATTR_ADVISE_MR_PD_HANDLE;
	cmd.attrs[0].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[0].data = pd->handle;
	/* A const attribute is always 64 bits wide (UVERBS_ATTR_CONST_IN). */
	cmd.attrs[1].attr_id = UVERBS_ATTR_ADVISE_MR_ADVICE;
	cmd.attrs[1].len = sizeof(uint64_t);
	cmd.attrs[1].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[1].data = advice;
	cmd.attrs[2].attr_id = UVERBS_ATTR_ADVISE_MR_FLAGS;
	cmd.attrs[2].len = sizeof(uint32_t);
	cmd.attrs[2].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[2].data = flags;
	cmd.attrs[3].attr_id = UVERBS_ATTR_ADVISE_MR_SGE_LIST;
	cmd.attrs[3].len = num_sge * sizeof(sges[0]);
	cmd.attrs[3].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[3].data = (uintptr_t)sges;
	if (ioctl(pd->context->cmd_fd, RDMA_VERBS_IOCTL, &cmd))
		return errno;
	return 0;
}

#ifndef RDMA_LOOP_SETUP_ONLY
/* ---- pairs of RC QPs and the helpers of the bad-input programs ------- */

#define PAGE		4096UL
#define ACCESS_ALL	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)

/* Kinds of memory region. */
enum mr_kind { MR_PINNED, MR_ODP, MR_IMPLICIT };

static const char *const mr_kind_name[] __attribute__((unused)) = { "pinned", "odp", "implicit" };

/* qp[0] and qp[1] connected to each other, each with its own CQ. */
struct pair {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	struct ibv_qp_ex *qpx;	/* qp[0], when opened with send ops */
	bool own_ctx;
};

#define QP_REMOTE_ALL	(IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ | \
			 IBV_ACCESS_REMOTE_ATOMIC)

/*
 * Connected QPs on @ctx and @pd, or on a context and PD of their own when
 * @ctx is NULL; both grant @access (IBV_ACCESS_REMOTE_*) to their peer.
 * With @send_ops (IBV_QP_EX_WITH_*), qp[0] is created for the extended
 * post API too, as p->qpx.  Returns 0 or -1 with errno set.
 */
static inline int pair_open_ex(struct pair *p, struct ibv_context *ctx,
			       struct ibv_pd *pd, int depth, uint64_t send_ops,
			       int access)
{
	union ibv_gid gid;
	int i;

	memset(p, 0, sizeof(*p));
	if (!ctx) {
		ctx = loop_open();
		if (!ctx)
			return -1;
		p->own_ctx = true;
	}
	p->ctx = ctx;
	if (ibv_query_gid(p->ctx, 1, loop_gid, &gid))
		return -1;
	p->pd = pd ? pd : ibv_alloc_pd(p->ctx);
	if (!p->pd)
		return -1;
	for (i = 0; i < 2; i++) {
		struct ibv_qp_init_attr ia = {
			.qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = depth, .max_recv_wr = depth,
				 .max_send_sge = 2, .max_recv_sge = 2 },
		};

		p->cq[i] = ibv_create_cq(p->ctx, 2 * depth + 2, NULL, NULL, 0);
		if (!p->cq[i])
			return -1;
		ia.send_cq = ia.recv_cq = p->cq[i];
		if (send_ops && !i) {
			struct ibv_qp_init_attr_ex iax = {
				.send_cq = ia.send_cq, .recv_cq = ia.recv_cq,
				.cap = ia.cap, .qp_type = ia.qp_type,
				.comp_mask = IBV_QP_INIT_ATTR_PD |
					     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
				.pd = p->pd, .send_ops_flags = send_ops,
			};

			p->qp[i] = ibv_create_qp_ex(p->ctx, &iax);
		} else {
			p->qp[i] = ibv_create_qp(p->pd, &ia);
		}
		if (!p->qp[i])
			return -1;
	}
	if (send_ops) {
		p->qpx = ibv_qp_to_qp_ex(p->qp[0]);
		if (!p->qpx)
			return -1;
	}
	/* ibv_modify_qp() returns its error rather than setting errno. */
	errno = loop_qp_to_rts_access(p->qp[0], p->qp[1]->qp_num, &gid,
				      IBV_MTU_1024, 4, access);
	if (!errno)
		errno = loop_qp_to_rts_access(p->qp[1], p->qp[0]->qp_num, &gid,
					      IBV_MTU_1024, 4, access);
	if (errno) {
		if (errno < 0)
			errno = -errno;
		return -1;
	}
	return 0;
}

static inline int pair_open_on(struct pair *p, struct ibv_context *ctx,
			       struct ibv_pd *pd, int depth)
{
	return pair_open_ex(p, ctx, pd, depth, 0, QP_REMOTE_ALL);
}

static inline int pair_open(struct pair *p)
{
	return pair_open_on(p, NULL, NULL, 8);
}

static inline void pair_close(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (p->qp[i])
			ibv_destroy_qp(p->qp[i]);
		if (p->cq[i])
			ibv_destroy_cq(p->cq[i]);
		p->qp[i] = NULL;
		p->cq[i] = NULL;
	}
	p->qpx = NULL;
	if (p->own_ctx) {
		if (p->pd)
			ibv_dealloc_pd(p->pd);
		if (p->ctx)
			ibv_close_device(p->ctx);
	}
	p->pd = NULL;
	p->ctx = NULL;
}

/* Wait up to @secs for one completion on @cq: its status, -1 on timeout. */
static inline int wait_wc_full(struct ibv_cq *cq, int secs, struct ibv_wc *out)
{
	struct timespec t0, t;
	struct ibv_wc wc;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		n = ibv_poll_cq(cq, 1, &wc);
		if (n > 0) {
			if (out)
				*out = wc;
			return wc.status;
		}
		if (n < 0)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < secs);
	return -1;
}

static inline int wait_wc(struct ibv_cq *cq)
{
	return wait_wc_full(cq, 30, NULL);
}

/*
 * Post one signalled work request on qp[0] (RDMA WRITE/READ, atomics, SEND)
 * and return its completion status, or -2 when the post itself fails.
 */
static inline int post_one(struct pair *p, enum ibv_wr_opcode op, void *local,
		    uint32_t lkey, uint32_t len, uint64_t remote, uint32_t rkey,
		    uint64_t add, uint64_t swap)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.opcode = op, .sg_list = &sge, .num_sge = len ? 1 : 0,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD || op == IBV_WR_ATOMIC_CMP_AND_SWP) {
		wr.wr.atomic.remote_addr = remote;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = add;
		wr.wr.atomic.swap = swap;
		wr.num_sge = 1;
	} else {
		wr.wr.rdma.remote_addr = remote;
		wr.wr.rdma.rkey = rkey;
	}
	errno = ibv_post_send(p->qp[0], &wr, &bad);
	if (errno)
		return -2;	/* errno tells why */
	return wait_wc(p->cq[0]);
}

static inline void *map_anon(size_t len, int prot)
{
	void *m = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* Register @len bytes at @addr as @kind; an implicit MR ignores both. */
static inline struct ibv_mr *reg_kind(struct ibv_pd *pd, void *addr, size_t len,
			       int access, enum mr_kind kind)
{
	if (kind == MR_IMPLICIT)
		return ibv_reg_mr(pd, NULL, SIZE_MAX,
				  access | IBV_ACCESS_ON_DEMAND);
	if (kind == MR_ODP)
		access |= IBV_ACCESS_ON_DEMAND;
	return ibv_reg_mr(pd, addr, len, access);
}

/* Contents that differ from page to page and from byte to byte. */
static inline unsigned char pattern(uint64_t off, unsigned int seed)
{
	return (unsigned char)(off * 7 + (off / PAGE) * 13 + seed);
}

static inline void fill(unsigned char *b, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = pattern(i, seed);
}

static inline bool is_filled(const unsigned char *b, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != pattern(i, seed))
			return false;
	return true;
}

static inline bool all_bytes(const unsigned char *b, size_t len, unsigned char v)
{
	while (len--)
		if (*b++ != v)
			return false;
	return true;
}

static inline const char *wc_name(int st)
{
	if (st == -1)
		return "timeout";
	if (st == -2)
		return "post-failed";
	switch (st) {
	case IBV_WC_SUCCESS: return "SUCCESS";
	case IBV_WC_LOC_LEN_ERR: return "LOC_LEN_ERR";
	case IBV_WC_LOC_QP_OP_ERR: return "LOC_QP_OP_ERR";
	case IBV_WC_LOC_PROT_ERR: return "LOC_PROT_ERR";
	case IBV_WC_WR_FLUSH_ERR: return "WR_FLUSH_ERR";
	case IBV_WC_MW_BIND_ERR: return "MW_BIND_ERR";
	case IBV_WC_REM_INV_REQ_ERR: return "REM_INV_REQ_ERR";
	case IBV_WC_REM_ACCESS_ERR: return "REM_ACCESS_ERR";
	case IBV_WC_REM_OP_ERR: return "REM_OP_ERR";
	case IBV_WC_RETRY_EXC_ERR: return "RETRY_EXC_ERR";
	case IBV_WC_RNR_RETRY_EXC_ERR: return "RNR_RETRY_EXC_ERR";
	default: return ibv_wc_status_str((enum ibv_wc_status)st);
	}
}

#endif /* RDMA_LOOP_SETUP_ONLY */

#endif
