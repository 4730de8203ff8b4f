// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libibv-odp-preload.so: serve an unmodified verbs program's memory
 * registrations from implicit ODP MRs, so that it pins no memory.
 *
 * Every ibv_reg_mr(), ibv_reg_mr_iova() and ibv_reg_mr_iova2() that the
 * shim can serve gets a struct ibv_mr of its own, with the program's address
 * and length and the keys of an implicit ODP MR (the whole address space)
 * of the same PD registered with exactly the same access flags: one
 * implicit MR per (PD, access flags), shared by reference count and
 * deregistered with its last user.  What it cannot serve goes to the real
 * call: see ibv-odp-preload(7) (man page libibv-odp-preload(3)).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>

#include "ibv_odp.h"

/* verbs.h makes these macros; the shim defines the functions. */
#undef ibv_reg_mr
#undef ibv_reg_mr_iova

#define EXPORT __attribute__((visibility("default")))

/* Access flags an implicit MR of the same flags can stand in for. */
#define SERVED_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC | \
			 IBV_ACCESS_ON_DEMAND | IBV_ACCESS_OPTIONAL_RANGE)

struct implicit {
	struct implicit *next;
	struct ibv_pd *pd;
	unsigned int access;
	struct ibv_mr *mr;
	unsigned long refs;
};

struct shim_mr {
	struct ibv_mr mr;		/* what the program sees: first */
	struct implicit *imp;
};

struct dev_caps {
	struct dev_caps *next;
	struct ibv_context *ctx;
	struct ibv_odp_dev_caps caps;
	int ok;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct implicit *implicits;
static struct dev_caps *dev_caps;
static void *shim_mrs;			/* tsearch() tree of struct shim_mr */
static unsigned long nr_served, nr_passed;
static int verbose = -1;

static struct ibv_mr *(*real_reg_mr_iova2)(struct ibv_pd *, void *, size_t,
					   uint64_t, unsigned int);
static int (*real_dereg_mr)(struct ibv_mr *);
static int (*real_rereg_mr)(struct ibv_mr *, int, struct ibv_pd *, void *,
			    size_t, int);

static void say(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 0) {
		const char *v = getenv("IBV_ODP_PRELOAD_VERBOSE");

		verbose = v && *v && strcmp(v, "0");
	}
	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "ibv-odp-preload: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *real(const char *name, const char *version)
{
	void *sym = dlvsym(RTLD_NEXT, name, version);

	if (!sym) {
		fprintf(stderr, "ibv-odp-preload: no %s@%s in the libibverbs loaded: %s\n",
			name, version, dlerror());
		abort();
	}
	return sym;
}

static void resolve(void)
{
	if (real_reg_mr_iova2)
		return;
	real_dereg_mr = real("ibv_dereg_mr", "IBVERBS_1.1");
	real_rereg_mr = real("ibv_rereg_mr", "IBVERBS_1.1");
	real_reg_mr_iova2 = real("ibv_reg_mr_iova2", "IBVERBS_1.8");
}

static int ptr_cmp(const void *a, const void *b)
{
	return a < b ? -1 : a > b;
}

/* The ODP operations an MR with these access flags is needed for, on RC. */
static uint32_t ops_needed(unsigned int access)
{
	uint32_t ops = IBV_ODP_OP_SEND | IBV_ODP_OP_RECV;

	if (access & IBV_ACCESS_REMOTE_WRITE)
		ops |= IBV_ODP_OP_WRITE;
	if (access & IBV_ACCESS_REMOTE_READ)
		ops |= IBV_ODP_OP_READ;
	if (access & IBV_ACCESS_REMOTE_ATOMIC)
		ops |= IBV_ODP_OP_ATOMIC;
	return ops;
}

/* Called with the lock held. */
static const struct ibv_odp_dev_caps *get_caps(struct ibv_context *ctx)
{
	struct dev_caps *d;

	for (d = dev_caps; d; d = d->next)
		if (d->ctx == ctx)
			return d->ok ? &d->caps : NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->ctx = ctx;
	d->ok = !ibv_odp_query_caps(ctx, &d->caps);
	d->next = dev_caps;
	dev_caps = d;
	return d->ok ? &d->caps : NULL;
}

/*
 * Why [addr, addr + length) with these flags cannot be served from an
 * implicit MR, or NULL when it can.  Called with the lock held.
 */
static const char *unservable(struct ibv_pd *pd, void *addr, size_t length,
			      uint64_t iova, unsigned int access)
{
	const struct ibv_odp_dev_caps *caps;
	uint32_t need;

	if (access & ~SERVED_ACCESS)
		return "access flags (MW_BIND, ZERO_BASED, HUGETLB, ...)";
	if (iova != (uintptr_t)addr)
		return "iova differs from the address";
	if (!length)
		return "empty range";
	if (!addr && length == SIZE_MAX)
		return "already an implicit registration";
	caps = get_caps(pd->context);
	if (!caps)
		return "device attributes not readable";
	if (!caps->odp || !caps->implicit)
		return "device without implicit ODP";
	need = ops_needed(access);
	if ((caps->ops[IBV_ODP_TRANSPORT_RC] & need) != need)
		return "device without ODP for these operations";
	return NULL;
}

/* A reference on the implicit MR of (pd, access).  Lock held. */
static struct implicit *get_implicit(struct ibv_pd *pd, unsigned int access)
{
	struct implicit *imp;

	access |= IBV_ACCESS_ON_DEMAND;
	for (imp = implicits; imp; imp = imp->next)
		if (imp->pd == pd && imp->access == access) {
			imp->refs++;
			return imp;
		}
	imp = calloc(1, sizeof(*imp));
	if (!imp)
		return NULL;
	imp->mr = real_reg_mr_iova2(pd, NULL, SIZE_MAX, 0, access);
	if (!imp->mr) {
		int err = errno;

		say("implicit MR (access 0x%x) failed: %s", access,
		    strerror(err));
		free(imp);
		errno = err;
		return NULL;
	}
	say("implicit MR for pd %p access 0x%x: lkey 0x%x rkey 0x%x", pd,
	    access, imp->mr->lkey, imp->mr->rkey);
	imp->pd = pd;
	imp->access = access;
	imp->refs = 1;
	imp->next = implicits;
	implicits = imp;
	return imp;
}

/* Lock held. */
static int put_implicit(struct implicit *imp)
{
	struct implicit **p;
	int ret;

	if (--imp->refs)
		return 0;
	ret = real_dereg_mr(imp->mr);
	if (ret) {
		imp->refs++;
		return ret;
	}
	say("implicit MR for pd %p access 0x%x deregistered", imp->pd,
	    imp->access);
	for (p = &implicits; *p != imp; p = &(*p)->next)
		;
	*p = imp->next;
	free(imp);
	return 0;
}

static void fill(struct shim_mr *smr, struct ibv_pd *pd, void *addr,
		 size_t length)
{
	smr->mr.context = pd->context;
	smr->mr.pd = pd;
	smr->mr.addr = addr;
	smr->mr.length = length;
	smr->mr.handle = smr->imp->mr->handle;
	smr->mr.lkey = smr->imp->mr->lkey;
	smr->mr.rkey = smr->imp->mr->rkey;
}

static struct ibv_mr *reg(struct ibv_pd *pd, void *addr, size_t length,
			  uint64_t iova, unsigned int access)
{
	struct shim_mr *smr = NULL;
	const char *why;

	resolve();
	pthread_mutex_lock(&lock);
	why = unservable(pd, addr, length, iova, access);
	if (!why) {
		smr = calloc(1, sizeof(*smr));
		if (!smr)
			why = "out of memory";
	}
	if (smr) {
		smr->imp = get_implicit(pd, access);
		if (!smr->imp) {
			why = "implicit registration failed";
		} else if (!tsearch(smr, &shim_mrs, ptr_cmp)) {
			put_implicit(smr->imp);
			why = "out of memory";
		}
		if (why) {
			free(smr);
			smr = NULL;
		}
	}
	if (smr) {
		fill(smr, pd, addr, length);
		nr_served++;
	} else {
		nr_passed++;
	}
	pthread_mutex_unlock(&lock);

	if (smr) {
		say("reg %p+%zu access 0x%x: implicit lkey 0x%x rkey 0x%x",
		    addr, length, access, smr->mr.lkey, smr->mr.rkey);
		return &smr->mr;
	}
	say("reg %p+%zu access 0x%x: passed to libibverbs (%s)", addr, length,
	    access, why);
	return real_reg_mr_iova2(pd, addr, length, iova, access);
}

EXPORT struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
				 int access)
{
	return reg(pd, addr, length, (uintptr_t)addr, access);
}

EXPORT struct ibv_mr *ibv_reg_mr_iova(struct ibv_pd *pd, void *addr,
				      size_t length, uint64_t iova, int access)
{
	return reg(pd, addr, length, iova, access);
}

EXPORT struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr,
				       size_t length, uint64_t iova,
				       unsigned int access)
{
	return reg(pd, addr, length, iova, access);
}

/* Lock held.  The shim's MR, or NULL when @mr is a real one. */
static struct shim_mr *find(struct ibv_mr *mr)
{
	void *node = tfind(mr, &shim_mrs, ptr_cmp);

	return node ? *(struct shim_mr **)node : NULL;
}

EXPORT int ibv_dereg_mr(struct ibv_mr *mr)
{
	struct shim_mr *smr;
	int ret = 0;

	resolve();
	pthread_mutex_lock(&lock);
	smr = find(mr);
	if (smr) {
		ret = put_implicit(smr->imp);
		if (!ret)
			tdelete(smr, &shim_mrs, ptr_cmp);
	}
	pthread_mutex_unlock(&lock);
	if (!smr)
		return real_dereg_mr(mr);
	if (!ret) {
		say("dereg %p+%zu", smr->mr.addr, smr->mr.length);
		free(smr);
	}
	return ret;
}

/*
 * Re-registration of a served MR: a new translation, PD or access flags
 * move it to the implicit MR that serves the result, when that can be
 * served; otherwise it fails and the MR stays as it was.
 */
EXPORT int ibv_rereg_mr(struct ibv_mr *mr, int flags, struct ibv_pd *pd,
			void *addr, size_t length, int access)
{
	struct implicit *imp;
	struct shim_mr *smr;
	struct ibv_pd *npd;
	void *naddr;
	size_t nlength;
	int ret = 0;

	resolve();
	pthread_mutex_lock(&lock);
	smr = find(mr);
	if (!smr) {
		pthread_mutex_unlock(&lock);
		return real_rereg_mr(mr, flags, pd, addr, length, access);
	}
	if (flags & ~(IBV_REREG_MR_CHANGE_TRANSLATION | IBV_REREG_MR_CHANGE_PD |
		      IBV_REREG_MR_CHANGE_ACCESS)) {
		ret = IBV_REREG_MR_ERR_INPUT;
		errno = EINVAL;
		goto out;
	}
	npd = flags & IBV_REREG_MR_CHANGE_PD ? pd : smr->mr.pd;
	naddr = flags & IBV_REREG_MR_CHANGE_TRANSLATION ? addr : smr->mr.addr;
	nlength = flags & IBV_REREG_MR_CHANGE_TRANSLATION ? length :
		  smr->mr.length;
	if (!(flags & IBV_REREG_MR_CHANGE_ACCESS))
		access = smr->imp->access;
	if (!npd || unservable(npd, naddr, nlength, (uintptr_t)naddr, access)) {
		ret = IBV_REREG_MR_ERR_INPUT;
		errno = EOPNOTSUPP;
		goto out;
	}
	imp = get_implicit(npd, access);
	if (!imp) {
		ret = IBV_REREG_MR_ERR_CMD;
		goto out;
	}
	ret = put_implicit(smr->imp);
	if (ret) {
		put_implicit(imp);
		errno = ret;
		ret = IBV_REREG_MR_ERR_CMD;
		goto out;
	}
	smr->imp = imp;
	fill(smr, npd, naddr, nlength);
out:
	pthread_mutex_unlock(&lock);
	return ret;
}

static void __attribute__((destructor)) report(void)
{
	say("%lu registrations served by implicit MRs, %lu passed to libibverbs",
	    nr_served, nr_passed);
}
