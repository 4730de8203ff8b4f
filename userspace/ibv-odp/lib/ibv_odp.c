// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libibv-odp: ODP capabilities, implicit registration, prefetch and
 * counters.  See libibv-odp(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <infiniband/verbs.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/rdma_netlink.h>
#include <rdma/rdma_user_ioctl_cmds.h>

#include "ibv_odp.h"

#define EXPORT __attribute__((visibility("default")))

static const char *const op_names[] = {
	"SEND", "RECV", "WRITE", "READ", "ATOMIC", "SRQ_RECV", "FLUSH",
	"ATOMIC_WRITE",
};

static const char *const transport_names[IBV_ODP_TRANSPORT_NUM] = {
	[IBV_ODP_TRANSPORT_RC] = "RC",
	[IBV_ODP_TRANSPORT_UC] = "UC",
	[IBV_ODP_TRANSPORT_UD] = "UD",
	[IBV_ODP_TRANSPORT_XRC] = "XRC",
};

EXPORT int ibv_odp_query_caps(struct ibv_context *ctx,
			      struct ibv_odp_dev_caps *caps)
{
	struct ibv_device_attr_ex attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	ret = ibv_query_device_ex(ctx, NULL, &attr);
	if (ret)
		return ret;
	memset(caps, 0, sizeof(*caps));
	caps->general_caps = attr.odp_caps.general_caps;
	caps->odp = !!(attr.odp_caps.general_caps & IBV_ODP_SUPPORT);
	caps->implicit = !!(attr.odp_caps.general_caps &
			    IBV_ODP_SUPPORT_IMPLICIT);
	caps->ops[IBV_ODP_TRANSPORT_RC] = attr.odp_caps.per_transport_caps.rc_odp_caps;
	caps->ops[IBV_ODP_TRANSPORT_UC] = attr.odp_caps.per_transport_caps.uc_odp_caps;
	caps->ops[IBV_ODP_TRANSPORT_UD] = attr.odp_caps.per_transport_caps.ud_odp_caps;
	caps->ops[IBV_ODP_TRANSPORT_XRC] = attr.xrc_odp_caps;
	return 0;
}

EXPORT const char *ibv_odp_transport_str(enum ibv_odp_transport transport)
{
	if ((unsigned int)transport >= IBV_ODP_TRANSPORT_NUM)
		return NULL;
	return transport_names[transport];
}

EXPORT const char *ibv_odp_op_str(enum ibv_odp_op op)
{
	unsigned int i;

	for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if ((unsigned int)op == 1U << i)
			return op_names[i];
	return NULL;
}

/* Like snprintf(): the length of the whole string, whatever fits in @buf. */
EXPORT int ibv_odp_ops_str(uint32_t ops, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int bit;
	int n;

	if (size)
		buf[0] = '\0';
	if (!ops)
		return snprintf(buf, size, "none");
	for (bit = 0; bit < 32; bit++) {
		const char *name = ibv_odp_op_str(1U << bit);

		if (!(ops & (1U << bit)))
			continue;
		if (name)
			n = snprintf(len < size ? buf + len : NULL,
				     len < size ? size - len : 0, "%s%s",
				     len ? " " : "", name);
		else
			n = snprintf(len < size ? buf + len : NULL,
				     len < size ? size - len : 0, "%s0x%x",
				     len ? " " : "", 1U << bit);
		if (n < 0)
			return n;
		len += n;
	}
	return len > INT_MAX ? -1 : (int)len;
}

EXPORT int ibv_odp_print_caps(FILE *f, const struct ibv_odp_dev_caps *caps)
{
	char ops[128];
	int i;

	if (fprintf(f, "odp: %s\nimplicit: %s\n", caps->odp ? "yes" : "no",
		    caps->implicit ? "yes" : "no") < 0)
		return -1;
	for (i = 0; i < IBV_ODP_TRANSPORT_NUM; i++) {
		ibv_odp_ops_str(caps->ops[i], ops, sizeof(ops));
		if (fprintf(f, "%s: %s\n", transport_names[i], ops) < 0)
			return -1;
	}
	return 0;
}

EXPORT struct ibv_mr *ibv_odp_reg_implicit(struct ibv_pd *pd,
					   unsigned int access)
{
	struct ibv_odp_dev_caps caps;
	int ret;

	ret = ibv_odp_query_caps(pd->context, &caps);
	if (ret) {
		errno = ret;
		return NULL;
	}
	if (!caps.odp || !caps.implicit) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	return ibv_reg_mr_iova2(pd, NULL, SIZE_MAX, 0,
				access | IBV_ACCESS_ON_DEMAND);
}

EXPORT int ibv_odp_mr_is_implicit(const struct ibv_mr *mr)
{
	return mr && !mr->addr && mr->length == SIZE_MAX;
}

static void put_attr(char *msg, size_t *len, uint16_t type, const void *data,
		     uint16_t size)
{
	struct nlattr *a = (struct nlattr *)(msg + *len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + size;
	memcpy(msg + *len + NLA_HDRLEN, data, size);
	*len += NLA_ALIGN(a->nla_len);
}

/*
 * An ioctl command carries the uverbs driver id of the device, which the
 * kernel checks; libibverbs keeps it to itself, the kernel tells it over
 * RDMA netlink (the uverbs client's information of the device).
 */
static int uverbs_driver_id(struct ibv_device *dev, uint32_t *id)
{
	union {
		struct nlmsghdr nh;
		char buf[8192];
	} msg;
	struct nlmsghdr *nh = &msg.nh;
	uint32_t index;
	size_t len, off;
	ssize_t n;
	int fd, ret, dev_index;

	dev_index = ibv_get_device_index(dev);
	if (dev_index < 0)
		return EOPNOTSUPP;
	index = dev_index;
	memset(&msg, 0, sizeof(msg.nh) + 64);
	len = NLMSG_HDRLEN;
	put_attr(msg.buf, &len, RDMA_NLDEV_ATTR_DEV_INDEX, &index, sizeof(index));
	put_attr(msg.buf, &len, RDMA_NLDEV_ATTR_CHARDEV_TYPE, "uverbs",
		 sizeof("uverbs"));
	nh->nlmsg_len = len;
	nh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV,
					  RDMA_NLDEV_CMD_GET_CHARDEV);
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (fd < 0)
		return errno;
	if (send(fd, &msg, len, 0) != (ssize_t)len) {
		ret = errno;
		close(fd);
		return ret;
	}
	n = recv(fd, &msg, sizeof(msg), 0);
	ret = n < 0 ? errno : 0;
	close(fd);
	if (ret)
		return ret;
	if (!NLMSG_OK(nh, n))
		return EIO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *err = NLMSG_DATA(nh);

		return err->error ? -err->error : EIO;
	}
	for (off = NLMSG_HDRLEN; off + NLA_HDRLEN <= nh->nlmsg_len;) {
		struct nlattr *a = (struct nlattr *)(msg.buf + off);

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > nh->nlmsg_len)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) ==
		    RDMA_NLDEV_ATTR_UVERBS_DRIVER_ID &&
		    a->nla_len >= NLA_HDRLEN + sizeof(*id)) {
			memcpy(id, msg.buf + off + NLA_HDRLEN, sizeof(*id));
			return 0;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return EOPNOTSUPP;
}

/*
 * UVERBS_METHOD_ADVISE_MR through the ioctl interface, which is what
 * ibv_advise_mr() does in providers that implement it: the PD handle, the
 * advice (a const, 64 bits inline), the flags (a u32 inline) and the
 * scatter list (a user pointer).
 */
EXPORT int ibv_odp_prefetch_ioctl(struct ibv_pd *pd,
				  enum ibv_advise_mr_advice advice,
				  uint32_t flags,
				  const struct ibv_sge *sg_list,
				  uint32_t num_sge)
{
	struct {
		struct ib_uverbs_ioctl_hdr hdr;
		struct ib_uverbs_attr attrs[4];
	} cmd;
	struct ib_uverbs_sge *sges;
	uint32_t i, driver_id;
	int ret;

	if (!num_sge || !sg_list || num_sge > UINT16_MAX / sizeof(*sges))
		return EINVAL;
	ret = uverbs_driver_id(pd->context->device, &driver_id);
	if (ret)
		return ret;
	sges = calloc(num_sge, sizeof(*sges));
	if (!sges)
		return ENOMEM;
	for (i = 0; i < num_sge; i++) {
		sges[i].addr = sg_list[i].addr;
		sges[i].length = sg_list[i].length;
		sges[i].lkey = sg_list[i].lkey;
	}

	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.length = sizeof(cmd);
	cmd.hdr.object_id = UVERBS_OBJECT_MR;
	cmd.hdr.method_id = UVERBS_METHOD_ADVISE_MR;
	cmd.hdr.num_attrs = 4;
	cmd.hdr.driver_id = driver_id;
	cmd.attrs[0].attr_id = UVERBS_ATTR_ADVISE_MR_PD_HANDLE;
	cmd.attrs[0].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[0].data = pd->handle;
	cmd.attrs[1].attr_id = UVERBS_ATTR_ADVISE_MR_ADVICE;
	cmd.attrs[1].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[1].len = sizeof(uint64_t);
	cmd.attrs[1].data = advice;
	cmd.attrs[2].attr_id = UVERBS_ATTR_ADVISE_MR_FLAGS;
	cmd.attrs[2].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[2].len = sizeof(uint32_t);
	cmd.attrs[2].data = flags;
	cmd.attrs[3].attr_id = UVERBS_ATTR_ADVISE_MR_SGE_LIST;
	cmd.attrs[3].flags = UVERBS_ATTR_F_MANDATORY;
	cmd.attrs[3].len = num_sge * sizeof(*sges);
	cmd.attrs[3].data = (uintptr_t)sges;

	ret = ioctl(pd->context->cmd_fd, RDMA_VERBS_IOCTL, &cmd) ? errno : 0;
	free(sges);
	/* A kernel without the method (or the device without the op). */
	if (ret == EPROTONOSUPPORT)
		ret = EOPNOTSUPP;
	return ret;
}

EXPORT int ibv_odp_prefetch(struct ibv_pd *pd,
			    enum ibv_advise_mr_advice advice, uint32_t flags,
			    struct ibv_sge *sg_list, uint32_t num_sge)
{
	int ret;

	ret = ibv_advise_mr(pd, advice, flags, sg_list, num_sge);
	/*
	 * EOPNOTSUPP before the kernel was asked, when the provider library
	 * has no advise_mr (rxe in rdma-core 44): ask the kernel directly.
	 */
	if (ret == EOPNOTSUPP)
		ret = ibv_odp_prefetch_ioctl(pd, advice, flags, sg_list,
					     num_sge);
	return ret;
}

static const char *const counter_names[IBV_ODP_CNT_NUM] = {
	[IBV_ODP_CNT_FAULTS] = "odp_faults",
	[IBV_ODP_CNT_PAGE_FAULTS] = "page_faults",
	[IBV_ODP_CNT_INVALIDATIONS] = "odp_invalidations",
	[IBV_ODP_CNT_PAGE_INVALIDATIONS] = "page_invalidations",
	[IBV_ODP_CNT_PREFETCHES] = "odp_prefetches",
	[IBV_ODP_CNT_PAGE_PREFETCH] = "page_prefetch",
};

EXPORT const char *ibv_odp_counter_name(enum ibv_odp_counter counter)
{
	if ((unsigned int)counter >= IBV_ODP_CNT_NUM)
		return NULL;
	return counter_names[counter];
}

static int read_u64(const char *path, uint64_t *val)
{
	char buf[32], *end;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? errno : EIO;
	buf[n] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return EIO;
	return 0;
}

/*
 * The device's port counters in sysfs (what `rdma statistic` shows too):
 * IBDEV_PATH/ports/PORT/hw_counters/NAME.  ENODEV for a port the device
 * does not have, EOPNOTSUPP when it has none of the ODP counters.
 */
EXPORT int ibv_odp_read_counters(struct ibv_context *ctx, uint8_t port,
				 struct ibv_odp_counters *counters)
{
	char path[IBV_SYSFS_PATH_MAX + 64];
	int i, n, ret;

	memset(counters, 0, sizeof(*counters));
	n = snprintf(path, sizeof(path), "%s/ports/%u",
		     ctx->device->ibdev_path, port);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ENAMETOOLONG;
	if (access(path, F_OK))
		return ENODEV;
	for (i = 0; i < IBV_ODP_CNT_NUM; i++) {
		n = snprintf(path, sizeof(path), "%s/ports/%u/hw_counters/%s",
			     ctx->device->ibdev_path, port, counter_names[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return ENAMETOOLONG;
		ret = read_u64(path, &counters->value[i]);
		if (ret == ENOENT)
			continue;
		if (ret)
			return ret;
		counters->valid |= 1U << i;
	}
	return counters->valid ? 0 : EOPNOTSUPP;
}
