// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A test double for a device without (implicit) On-Demand Paging, to be
 * preloaded: every context ibv_open_device() returns reports ODP
 * capabilities with IBV_ODP_SUPPORT_IMPLICIT cleared
 * (FAKE_ODP_CAPS=noimplicit) or no ODP at all (FAKE_ODP_CAPS=none).  The
 * kernel is not affected: it is what the user-space checks see.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>

static int (*real_query_device_ex)(struct ibv_context *,
				   const struct ibv_query_device_ex_input *,
				   struct ibv_device_attr_ex *, size_t);

static int fake_query_device_ex(struct ibv_context *ctx,
				const struct ibv_query_device_ex_input *input,
				struct ibv_device_attr_ex *attr, size_t size)
{
	const char *mode = getenv("FAKE_ODP_CAPS");
	int ret = real_query_device_ex(ctx, input, attr, size);

	if (ret || !mode)
		return ret;
	if (!strcmp(mode, "none")) {
		memset(&attr->odp_caps, 0, sizeof(attr->odp_caps));
		attr->xrc_odp_caps = 0;
	} else if (!strcmp(mode, "noimplicit")) {
		attr->odp_caps.general_caps &= ~IBV_ODP_SUPPORT_IMPLICIT;
	}
	return 0;
}

__attribute__((visibility("default")))
struct ibv_context *ibv_open_device(struct ibv_device *dev)
{
	static struct ibv_context *(*real_open)(struct ibv_device *);
	struct verbs_context *vctx;
	struct ibv_context *ctx;

	if (!real_open)
		real_open = dlvsym(RTLD_NEXT, "ibv_open_device", "IBVERBS_1.1");
	if (!real_open)
		abort();
	ctx = real_open(dev);
	vctx = ctx ? verbs_get_ctx(ctx) : NULL;
	if (vctx && vctx->query_device_ex &&
	    vctx->query_device_ex != fake_query_device_ex) {
		real_query_device_ex = vctx->query_device_ex;
		vctx->query_device_ex = fake_query_device_ex;
	}
	return ctx;
}
