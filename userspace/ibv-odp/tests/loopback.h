/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Two RC QPs connected to each other over port 1's RoCE v2 GID, for the
 * tests: qp posts, peer responds.  Two, not one connected to itself, so
 * that a responder error (an access violation) leaves the requester to
 * complete its WQE with the error status rather than flush it.
 */
#ifndef LOOPBACK_H
#define LOOPBACK_H

#include <string.h>
#include <time.h>
#include <infiniband/verbs.h>

struct loop {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp *peer;
};

static inline void loop_destroy(struct loop *l)
{
	if (l->qp)
		ibv_destroy_qp(l->qp);
	if (l->peer)
		ibv_destroy_qp(l->peer);
	l->peer = NULL;
	if (l->cq)
		ibv_destroy_cq(l->cq);
	l->qp = NULL;
	l->cq = NULL;
}

/* Brings @qp to RTS, connected to @dest. */
static inline int loop_connect(struct ibv_qp *qp, uint32_t dest,
			       struct ibv_port_attr *pa, union ibv_gid *gid,
			       int idx)
{
	struct ibv_qp_attr at;

	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_INIT;
	at.port_num = 1;
	at.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	if (ibv_modify_qp(qp, &at, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_RTR;
	at.path_mtu = pa->active_mtu;
	at.dest_qp_num = dest;
	at.max_dest_rd_atomic = 1;
	at.min_rnr_timer = 12;
	at.ah_attr.port_num = 1;
	at.ah_attr.is_global = 1;
	at.ah_attr.grh.dgid = *gid;
	at.ah_attr.grh.sgid_index = idx;
	at.ah_attr.grh.hop_limit = 1;
	if (ibv_modify_qp(qp, &at, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_RTS;
	at.timeout = 14;
	at.retry_cnt = 7;
	at.rnr_retry = 7;
	at.max_rd_atomic = 1;
	return ibv_modify_qp(qp, &at, IBV_QP_STATE | IBV_QP_TIMEOUT |
			     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC) ? -1 : 0;
}

/* (Re)creates l->cq, l->qp and l->peer on l->pd; 0 or -1. */
static inline int loop_create(struct loop *l)
{
	struct ibv_qp_init_attr qia = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_gid_entry gid;
	struct ibv_port_attr pa;
	int idx;

	loop_destroy(l);
	l->cq = ibv_create_cq(l->ctx, 8, NULL, NULL, 0);
	if (!l->cq)
		return -1;
	qia.send_cq = qia.recv_cq = l->cq;
	l->qp = ibv_create_qp(l->pd, &qia);
	l->peer = ibv_create_qp(l->pd, &qia);
	if (!l->qp || !l->peer || ibv_query_port(l->ctx, 1, &pa))
		return -1;
	for (idx = 0; idx < pa.gid_tbl_len; idx++)
		if (!ibv_query_gid_ex(l->ctx, 1, idx, &gid, 0) &&
		    gid.gid_type == IBV_GID_TYPE_ROCE_V2)
			break;
	if (idx == pa.gid_tbl_len)
		return -1;
	return loop_connect(l->qp, l->peer->qp_num, &pa, &gid.gid, idx) ||
	       loop_connect(l->peer, l->qp->qp_num, &pa, &gid.gid, idx) ?
	       -1 : 0;
}

/* One signaled RDMA WRITE or READ: its completion status, -1 for none. */
static inline int loop_rdma(struct loop *l, enum ibv_wr_opcode op,
			    void *local, uint32_t lkey, void *remote,
			    uint32_t rkey, size_t len)
{
	struct ibv_sge sge = { (uintptr_t)local, len, lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { (uintptr_t)remote, rkey },
	}, *bad;
	struct ibv_wc wc;
	time_t end = time(NULL) + 60;
	int n;

	if (ibv_post_send(l->qp, &wr, &bad))
		return -1;
	while (!(n = ibv_poll_cq(l->cq, 1, &wc)) && time(NULL) < end)
		;
	return n == 1 ? (int)wc.status : -1;
}

#endif
