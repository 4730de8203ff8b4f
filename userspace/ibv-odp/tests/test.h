/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the test programs share: check() records a failed condition of the
 * current test, result() prints its "RESULT PASS|FAIL name" line, and
 * test_open() opens the device and sets up the loopback QPs on a new PD.
 */
#ifndef TEST_H
#define TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "loopback.h"

/* failed: some test failed (the exit status); test_failed: this one. */
static int failed, test_failed;

static inline void check(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void check(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return;
	test_failed = 1;
	printf("# check failed: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline void result(const char *name)
{
	printf("RESULT %s %s\n", test_failed ? "FAIL" : "PASS", name);
	fflush(stdout);
	failed |= test_failed;
	test_failed = 0;
}

/*
 * Opens device @name into l->ctx, allocates l->pd and connects the loopback
 * QPs.  0, or -1 with a "RESULT FAIL" line printed.
 */
static inline int test_open(struct loop *l, const char *name)
{
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !l->ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			l->ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (!l->ctx) {
		printf("RESULT FAIL open-%s\n", name);
		return -1;
	}
	l->pd = ibv_alloc_pd(l->ctx);
	if (!l->pd || loop_create(l)) {
		printf("RESULT FAIL setup (%s)\n", strerror(errno));
		return -1;
	}
	return 0;
}

#endif
