/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RDMA FLUSH on rxe from rdma-core 44, shared by the test programs.
 *
 * rdma-core 44 has no verb for FLUSH (no ibv_wr_flush) and no
 * IBV_ACCESS_FLUSH_* flags, though the 6.12 uverbs ABI has the access bits
 * (IB_UVERBS_ACCESS_FLUSH_GLOBAL / _PERSISTENT, passed through by
 * ibv_reg_mr() and ibv_modify_qp()) and rxe's kernel side executes FLUSH
 * WQEs that user space places in the send queue.  So build one: start an
 * RDMA WRITE through the extended QP API, which writes the WQE into the
 * send queue shared with the kernel but does not hand it over yet, turn it
 * into a FLUSH there (the kernel's WQE layout, struct rxe_send_wqe of
 * <rdma/rdma_user_rxe.h> in Linux 6.12), and post it.
 *
 * The QP must have been created with ibv_create_qp_ex() and
 * IBV_QP_EX_WITH_RDMA_WRITE in its send_ops_flags; the responder QP needs
 * the flush access bit of the placement type in its qp_access_flags.
 */
#ifndef RXE_FLUSH_H
#define RXE_FLUSH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <infiniband/verbs.h>

#define RXE_WR_FLUSH			14	/* IB_UVERBS_WR_FLUSH */
#define ACCESS_FLUSH_GLOBAL		(1 << 8) /* IB_UVERBS_ACCESS_FLUSH_GLOBAL */
#define ACCESS_FLUSH_PERSISTENT		(1 << 9) /* IB_UVERBS_ACCESS_FLUSH_PERSISTENT */
/* Placement types (IB_FLUSH_GLOBAL, _PERSISTENT) and selectivity levels. */
#define FLUSH_GLOBAL			1
#define FLUSH_PERSISTENT		2
#define FLUSH_RANGE			0	/* IB_FLUSH_RANGE */
#define FLUSH_MR			1	/* IB_FLUSH_MR: the whole MR */
#define FLUSH_WR_ID			0x466c757368575221ULL

struct rxe_kwqe {			/* struct rxe_send_wqe, 6.12 */
	uint64_t wr_id;
	uint32_t reserved, opcode, send_flags, ex;
	union {
		struct {
			uint64_t remote_addr;
			uint32_t length, rkey;
			uint8_t type, level;
		} flush;
		uint8_t pad[120];
	} wr;
	uint32_t status, state;
	uint64_t iova;
	uint32_t mask, first_psn, last_psn, ack_length, ssn, has_rd_atomic;
	struct {
		uint32_t length, resid, cur_sge, num_sge, sge_offset, reserved;
	} dma;
};
_Static_assert(offsetof(struct rxe_kwqe, dma) == 184,
	       "struct rxe_send_wqe layout");

/* The WQE of the RDMA WRITE with FLUSH_WR_ID to @raddr in a send queue. */
static inline struct rxe_kwqe *rxe_find_write_wqe(uint64_t raddr)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	struct rxe_kwqe *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, a;

		if (!strstr(line, "uverbs") ||
		    sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		for (a = lo; a + sizeof(struct rxe_kwqe) <= hi; a += 8) {
			struct rxe_kwqe *w = (struct rxe_kwqe *)a;

			if (w->wr_id == FLUSH_WR_ID &&
			    w->opcode == IBV_WR_RDMA_WRITE &&
			    w->wr.flush.remote_addr == raddr) {
				found = w;
				break;
			}
		}
	}
	fclose(f);
	return found;
}

/*
 * Post a signalled FLUSH of @len bytes at @raddr (@rkey) on @qpx, of
 * placement @type and selectivity @level.  Returns 0 when posted (the
 * completion follows on the send CQ), -1 when it could not be.
 */
static inline int rxe_post_flush(struct ibv_qp_ex *qpx, uint64_t raddr,
				 uint32_t len, uint32_t rkey, uint8_t type,
				 uint8_t level)
{
	struct rxe_kwqe *w;

	ibv_wr_start(qpx);
	qpx->wr_id = FLUSH_WR_ID;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_rdma_write(qpx, rkey, raddr);
	ibv_wr_set_sge(qpx, 0, 0, 0);
	w = rxe_find_write_wqe(raddr);
	if (!w) {
		ibv_wr_abort(qpx);
		printf("# no RDMA WRITE WQE found in the send queue\n");
		return -1;
	}
	w->opcode = RXE_WR_FLUSH;
	w->wr.flush.remote_addr = raddr;
	w->wr.flush.length = len;
	w->wr.flush.rkey = rkey;
	w->wr.flush.type = type;
	w->wr.flush.level = level;
	w->iova = raddr;
	w->dma.length = w->dma.resid = len;
	w->dma.num_sge = 0;
	return ibv_wr_complete(qpx) ? -1 : 0;
}

#endif
