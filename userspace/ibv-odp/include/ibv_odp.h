/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libibv-odp: On-Demand Paging helpers over libibverbs.
 *
 * ODP capabilities in readable form, implicit (whole address space) memory
 * registration, prefetch that works where the provider library has no
 * advise_mr, and the device's ODP counters.  See libibv-odp(3).
 */
#ifndef IBV_ODP_H
#define IBV_ODP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <infiniband/verbs.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The operations a transport can perform on ODP memory: the kernel's
 * enum ib_odp_transport_cap_bits, including the FLUSH and ATOMIC_WRITE bits
 * that rdma-core 44's enum ibv_odp_transport_cap_bits does not name.
 */
enum ibv_odp_op {
	IBV_ODP_OP_SEND		= 1 << 0,
	IBV_ODP_OP_RECV		= 1 << 1,
	IBV_ODP_OP_WRITE	= 1 << 2,
	IBV_ODP_OP_READ		= 1 << 3,
	IBV_ODP_OP_ATOMIC	= 1 << 4,
	IBV_ODP_OP_SRQ_RECV	= 1 << 5,
	IBV_ODP_OP_FLUSH	= 1 << 6,
	IBV_ODP_OP_ATOMIC_WRITE	= 1 << 7,
};

enum ibv_odp_transport {
	IBV_ODP_TRANSPORT_RC,
	IBV_ODP_TRANSPORT_UC,
	IBV_ODP_TRANSPORT_UD,
	IBV_ODP_TRANSPORT_XRC,
	IBV_ODP_TRANSPORT_NUM
};

struct ibv_odp_dev_caps {
	int		odp;		/* IBV_ODP_SUPPORT */
	int		implicit;	/* IBV_ODP_SUPPORT_IMPLICIT */
	uint64_t	general_caps;	/* as the device reports them */
	uint32_t	ops[IBV_ODP_TRANSPORT_NUM];	/* enum ibv_odp_op bits */
};

int ibv_odp_query_caps(struct ibv_context *ctx, struct ibv_odp_dev_caps *caps);
const char *ibv_odp_transport_str(enum ibv_odp_transport transport);
const char *ibv_odp_op_str(enum ibv_odp_op op);
int ibv_odp_ops_str(uint32_t ops, char *buf, size_t size);
int ibv_odp_print_caps(FILE *f, const struct ibv_odp_dev_caps *caps);

struct ibv_mr *ibv_odp_reg_implicit(struct ibv_pd *pd, unsigned int access);
int ibv_odp_mr_is_implicit(const struct ibv_mr *mr);

int ibv_odp_prefetch(struct ibv_pd *pd, enum ibv_advise_mr_advice advice,
		     uint32_t flags, struct ibv_sge *sg_list,
		     uint32_t num_sge);
int ibv_odp_prefetch_ioctl(struct ibv_pd *pd,
			   enum ibv_advise_mr_advice advice, uint32_t flags,
			   const struct ibv_sge *sg_list, uint32_t num_sge);

enum ibv_odp_counter {
	IBV_ODP_CNT_FAULTS,		/* odp_faults */
	IBV_ODP_CNT_PAGE_FAULTS,	/* page_faults */
	IBV_ODP_CNT_INVALIDATIONS,	/* odp_invalidations */
	IBV_ODP_CNT_PAGE_INVALIDATIONS,	/* page_invalidations */
	IBV_ODP_CNT_PREFETCHES,		/* odp_prefetches */
	IBV_ODP_CNT_PAGE_PREFETCH,	/* page_prefetch */
	IBV_ODP_CNT_NUM
};

struct ibv_odp_counters {
	uint32_t	valid;			/* bit n: value[n] was read */
	uint64_t	value[IBV_ODP_CNT_NUM];
};

const char *ibv_odp_counter_name(enum ibv_odp_counter counter);
int ibv_odp_read_counters(struct ibv_context *ctx, uint8_t port,
			  struct ibv_odp_counters *counters);

#ifdef __cplusplus
}
#endif

#endif /* IBV_ODP_H */
