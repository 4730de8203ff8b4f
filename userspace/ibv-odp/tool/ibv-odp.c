// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibv-odp: On-Demand Paging capabilities, counters and a loopback probe of
 * an RDMA device, and a launcher for the preload shim.  See ibv-odp(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <infiniband/verbs.h>

#include "ibv_odp.h"

/* Exit statuses, documented in ibv-odp(1). */
enum {
	EX_OK = 0,
	EX_FAIL = 1,		/* a verb failed, data mismatch */
	EX_USAGE = 2,		/* bad arguments */
	EX_NODEV = 3,		/* no RDMA device, or not the one named */
	EX_UNSUPP = 4,		/* the device lacks the feature */
	EX_NOEXEC = 127,	/* run: the command could not be started */
};

#ifndef LIBDIR
#define LIBDIR "/usr/local/lib"
#endif
#define PRELOAD_NAME "libibv-odp-preload.so"

static const char *prog = "ibv-odp";

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s COMMAND [OPTIONS]\n"
"\n"
"On-Demand Paging (ODP) of RDMA devices.\n"
"\n"
"commands:\n"
"  caps  [-d DEV]                 ODP capabilities, per transport\n"
"  stats [-d DEV] [-p PORT] [--watch] [-i SECS] [-c COUNT]\n"
"                                 ODP counters; --watch prints the change\n"
"                                 every SECS (default 1) seconds, COUNT times\n"
"  probe [-d DEV] [-p PORT] [-g GID_INDEX] [-s SIZE] [--prefetch]\n"
"                                 register the whole address space (implicit\n"
"                                 ODP), RDMA WRITE then READ through a QP\n"
"                                 connected to itself into memory never\n"
"                                 touched, verify the data, report the faults\n"
"                                 counted and the time taken\n"
"  run [-v] -- CMD [ARG]...       run CMD with its memory registrations\n"
"                                 served by implicit ODP MRs (no pinning)\n"
"  help                           this text\n"
"\n"
"exit status: 0 success, 1 failure, 2 bad arguments, 3 no (such) device,\n"
"4 feature not supported by the device; run: the command's status, 127\n"
"when it could not be started.\n", prog);
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return EX_USAGE;
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *val)
{
	char *end;

	errno = 0;
	*val = strtoul(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': *val <<= 10; end++; break;
	case 'm': case 'M': *val <<= 20; end++; break;
	}
	return *end || *val < min || *val > max ? -1 : 0;
}

/* The devices to work on: all, or the one named. */
struct devs {
	struct ibv_device **list;
	struct ibv_device *sel[64];
	int n;
};

static int get_devs(struct devs *d, const char *name)
{
	int i, num;

	d->n = 0;
	d->list = ibv_get_device_list(&num);
	if (!d->list) {
		fprintf(stderr, "%s: cannot list RDMA devices: %s\n", prog,
			strerror(errno));
		return EX_NODEV;
	}
	for (i = 0; i < num && d->n < 64; i++)
		if (!name || !strcmp(ibv_get_device_name(d->list[i]), name))
			d->sel[d->n++] = d->list[i];
	if (!d->n) {
		if (name)
			fprintf(stderr, "%s: no RDMA device named %s\n", prog, name);
		else
			fprintf(stderr, "%s: no RDMA device\n", prog);
		ibv_free_device_list(d->list);
		return EX_NODEV;
	}
	return EX_OK;
}

static struct ibv_context *open_dev(struct ibv_device *dev)
{
	struct ibv_context *ctx = ibv_open_device(dev);

	if (!ctx)
		fprintf(stderr, "%s: cannot open %s: %s\n", prog,
			ibv_get_device_name(dev), strerror(errno));
	return ctx;
}

static const struct option dev_opts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "port", required_argument, NULL, 'p' },
	{ "gid-index", required_argument, NULL, 'g' },
	{ "size", required_argument, NULL, 's' },
	{ "prefetch", no_argument, NULL, 'P' },
	{ "watch", no_argument, NULL, 'w' },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'c' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ }
};

struct args {
	const char *dev;
	unsigned long port, gid, size, interval, count;
	int port_set, gid_set, prefetch, watch, verbose;
};

/* Options of COMMAND; @allowed lists the short options it takes. */
static int parse(int argc, char **argv, const char *allowed, struct args *a)
{
	unsigned long v;
	int c;

	memset(a, 0, sizeof(*a));
	a->port = 1;
	a->size = 256 << 10;
	a->interval = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:p:g:s:Pwi:c:vh", dev_opts,
				NULL)) != -1) {
		if (c == '?')
			return bad_usage("%s: unknown option '%s'", argv[0],
					 argv[optind - 1]);
		if (c == ':')
			return bad_usage("%s: option '%s' needs a value",
					 argv[0], argv[optind - 1]);
		if (c == 'h') {
			usage(stdout);
			exit(EX_OK);
		}
		if (!strchr(allowed, c))
			return bad_usage("%s: option '%s' does not apply",
					 argv[0], argv[optind - 1]);
		switch (c) {
		case 'd':
			a->dev = optarg;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, 255, &a->port))
				return bad_usage("bad port '%s'", optarg);
			a->port_set = 1;
			break;
		case 'g':
			if (parse_ulong(optarg, 0, INT_MAX, &a->gid))
				return bad_usage("bad GID index '%s'", optarg);
			a->gid_set = 1;
			break;
		case 's':
			if (parse_ulong(optarg, 1, 1UL << 30, &a->size))
				return bad_usage("bad size '%s' (1 B to 1 GiB)",
						 optarg);
			break;
		case 'P':
			a->prefetch = 1;
			break;
		case 'w':
			a->watch = 1;
			break;
		case 'i':
			if (parse_ulong(optarg, 1, 3600, &v))
				return bad_usage("bad interval '%s'", optarg);
			a->interval = v;
			break;
		case 'c':
			if (parse_ulong(optarg, 1, ULONG_MAX, &a->count))
				return bad_usage("bad count '%s'", optarg);
			break;
		case 'v':
			a->verbose = 1;
			break;
		}
	}
	return EX_OK;
}

static int cmd_caps(int argc, char **argv)
{
	struct ibv_odp_dev_caps caps;
	struct ibv_context *ctx;
	struct args a;
	struct devs d;
	int i, ret, status = EX_OK;

	ret = parse(argc, argv, "d", &a);
	if (ret)
		return ret;
	if (optind < argc)
		return bad_usage("caps: unexpected argument '%s'", argv[optind]);
	ret = get_devs(&d, a.dev);
	if (ret)
		return ret;
	for (i = 0; i < d.n; i++) {
		ctx = open_dev(d.sel[i]);
		if (!ctx) {
			status = EX_FAIL;
			continue;
		}
		ret = ibv_odp_query_caps(ctx, &caps);
		if (ret) {
			fprintf(stderr, "%s: %s: cannot query the device: %s\n",
				prog, ibv_get_device_name(d.sel[i]),
				strerror(ret));
			status = EX_FAIL;
		} else {
			printf("%s%s:\n", i ? "\n" : "",
			       ibv_get_device_name(d.sel[i]));
			ibv_odp_print_caps(stdout, &caps);
			/* One named device without ODP: say so by the status. */
			if (a.dev && !caps.odp)
				status = EX_UNSUPP;
		}
		ibv_close_device(ctx);
	}
	ibv_free_device_list(d.list);
	return status;
}

struct port_stats {
	const char *name;
	struct ibv_context *ctx;
	uint8_t port;
	struct ibv_odp_counters c;
};

static int cmd_stats(int argc, char **argv)
{
	struct port_stats ps[64];
	struct ibv_device_attr attr;
	struct ibv_odp_counters now;
	unsigned long round;
	struct args a;
	struct devs d;
	int i, j, n = 0, ret, status = EX_OK;

	ret = parse(argc, argv, "dpwic", &a);
	if (ret)
		return ret;
	if (optind < argc)
		return bad_usage("stats: unexpected argument '%s'", argv[optind]);
	if ((a.count || a.interval != 1) && !a.watch)
		return bad_usage("stats: -i and -c go with --watch");
	ret = get_devs(&d, a.dev);
	if (ret)
		return ret;

	for (i = 0; i < d.n; i++) {
		struct ibv_context *ctx = open_dev(d.sel[i]);
		int p, first, last;

		if (!ctx) {
			status = EX_FAIL;
			continue;
		}
		if (ibv_query_device(ctx, &attr)) {
			fprintf(stderr, "%s: %s: cannot query the device\n",
				prog, ibv_get_device_name(d.sel[i]));
			status = EX_FAIL;
			ibv_close_device(ctx);
			continue;
		}
		first = a.port_set ? (int)a.port : 1;
		last = a.port_set ? (int)a.port : attr.phys_port_cnt;
		if (first > attr.phys_port_cnt) {
			fprintf(stderr, "%s: %s has no port %d\n", prog,
				ibv_get_device_name(d.sel[i]), first);
			ibv_close_device(ctx);
			status = EX_NODEV;
			continue;
		}
		for (p = first; p <= last && n < 64; p++) {
			ret = ibv_odp_read_counters(ctx, p, &ps[n].c);
			if (ret) {
				fprintf(stderr, "%s: %s port %d: %s\n", prog,
					ibv_get_device_name(d.sel[i]), p,
					ret == EOPNOTSUPP ?
					"no ODP counters" : strerror(ret));
				if (status == EX_OK)
					status = ret == EOPNOTSUPP ?
						 EX_UNSUPP : EX_FAIL;
				continue;
			}
			ps[n].name = ibv_get_device_name(d.sel[i]);
			ps[n].ctx = ctx;
			ps[n].port = p;
			n++;
		}
		if (!n || ps[n - 1].ctx != ctx)
			ibv_close_device(ctx);
	}

	for (i = 0; i < n; i++) {
		printf("%s%s port %u:\n", i ? "\n" : "", ps[i].name, ps[i].port);
		for (j = 0; j < IBV_ODP_CNT_NUM; j++)
			if (ps[i].c.valid & (1U << j))
				printf("  %-20s %" PRIu64 "\n",
				       ibv_odp_counter_name(j),
				       ps[i].c.value[j]);
	}
	fflush(stdout);

	for (round = 0; a.watch && n && (!a.count || round < a.count);
	     round++) {
		sleep(a.interval);
		for (i = 0; i < n; i++) {
			ret = ibv_odp_read_counters(ps[i].ctx, ps[i].port, &now);
			if (ret) {
				fprintf(stderr, "%s: %s port %u: %s\n", prog,
					ps[i].name, ps[i].port, strerror(ret));
				status = EX_FAIL;
				goto out;
			}
			printf("%s/%u +%lus:", ps[i].name, ps[i].port,
			       (round + 1) * a.interval);
			for (j = 0; j < IBV_ODP_CNT_NUM; j++)
				if (now.valid & ps[i].c.valid & (1U << j))
					printf(" %s +%" PRIu64,
					       ibv_odp_counter_name(j),
					       now.value[j] - ps[i].c.value[j]);
			printf("\n");
			ps[i].c = now;
		}
		fflush(stdout);
	}
out:
	for (i = 0; i < n; i++)
		if (i == n - 1 || ps[i + 1].ctx != ps[i].ctx)
			ibv_close_device(ps[i].ctx);
	ibv_free_device_list(d.list);
	return status;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* A GID of the port to reach ourselves by: RoCE v2 preferred. */
static int pick_gid(struct ibv_context *ctx, uint8_t port, int *index)
{
	struct ibv_gid_entry ents[64];
	ssize_t n, i;
	int best = -1;

	n = ibv_query_gid_table(ctx, ents, 64, 0);
	for (i = 0; i < n; i++) {
		if (ents[i].port_num != port)
			continue;
		if (ents[i].gid_type == IBV_GID_TYPE_ROCE_V2) {
			*index = ents[i].gid_index;
			return 0;
		}
		if (best < 0)
			best = ents[i].gid_index;
	}
	if (best < 0)
		return -1;
	*index = best;
	return 0;
}

static int post_wait(struct ibv_qp *qp, struct ibv_cq *cq,
		     enum ibv_wr_opcode op, void *local, void *remote,
		     size_t size, struct ibv_mr *mr, double *us)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = size, .lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = op, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = (uintptr_t)remote,
			     .rkey = mr->rkey },
	}, *bad;
	struct ibv_wc wc;
	double t0 = now_us(), deadline = t0 + 60e6;
	int n, ret;

	ret = ibv_post_send(qp, &wr, &bad);
	if (ret) {
		fprintf(stderr, "%s: probe: ibv_post_send: %s\n", prog,
			strerror(ret));
		return -1;
	}
	while ((n = ibv_poll_cq(cq, 1, &wc)) == 0)
		if (now_us() > deadline) {
			fprintf(stderr, "%s: probe: no completion in 60 s\n",
				prog);
			return -1;
		}
	*us = now_us() - t0;
	if (n < 0 || wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "%s: probe: %s completed with %s\n", prog,
			op == IBV_WR_RDMA_WRITE ? "RDMA WRITE" : "RDMA READ",
			n < 0 ? "a poll error" : ibv_wc_status_str(wc.status));
		return -1;
	}
	return 0;
}

static int connect_self(struct ibv_qp *qp, struct ibv_context *ctx,
			uint8_t port, int gid_index)
{
	struct ibv_port_attr pa;
	struct ibv_qp_attr at;
	union ibv_gid gid;

	if (ibv_query_port(ctx, port, &pa) ||
	    ibv_query_gid(ctx, port, gid_index, &gid))
		return -1;
	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_INIT;
	at.port_num = port;
	at.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	if (ibv_modify_qp(qp, &at, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_RTR;
	at.path_mtu = pa.active_mtu;
	at.dest_qp_num = qp->qp_num;
	at.rq_psn = 1;
	at.max_dest_rd_atomic = 1;
	at.min_rnr_timer = 12;
	at.ah_attr.port_num = port;
	if (pa.link_layer == IBV_LINK_LAYER_INFINIBAND) {
		at.ah_attr.dlid = pa.lid;
	} else {
		at.ah_attr.is_global = 1;
		at.ah_attr.grh.dgid = gid;
		at.ah_attr.grh.sgid_index = gid_index;
		at.ah_attr.grh.hop_limit = 1;
	}
	if (ibv_modify_qp(qp, &at, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&at, 0, sizeof(at));
	at.qp_state = IBV_QPS_RTS;
	at.timeout = 14;
	at.retry_cnt = 7;
	at.rnr_retry = 7;
	at.sq_psn = 1;
	at.max_rd_atomic = 1;
	return ibv_modify_qp(qp, &at, IBV_QP_STATE | IBV_QP_TIMEOUT |
			     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC) ? -1 : 0;
}

static void print_delta(const struct ibv_odp_counters *b,
			const struct ibv_odp_counters *e)
{
	int j;

	printf("counters:");
	for (j = 0; j < IBV_ODP_CNT_NUM; j++)
		if (b->valid & e->valid & (1U << j))
			printf(" %s +%" PRIu64, ibv_odp_counter_name(j),
			       e->value[j] - b->value[j]);
	printf("\n");
}

static int cmd_probe(int argc, char **argv)
{
	struct ibv_odp_counters c0, c1, c2;
	struct ibv_qp_init_attr qia;
	struct ibv_odp_dev_caps caps;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_qp *qp = NULL;
	struct ibv_mr *mr = NULL;
	unsigned char *src = MAP_FAILED, *dst = MAP_FAILED, *back = MAP_FAILED;
	double t_pf = 0, t_w, t_r;
	int gid_index, ret, status = EX_FAIL, have_cnt;
	size_t i, size;
	struct args a;
	struct devs d;

	ret = parse(argc, argv, "dpgsP", &a);
	if (ret)
		return ret;
	if (optind < argc)
		return bad_usage("probe: unexpected argument '%s'", argv[optind]);
	ret = get_devs(&d, a.dev);
	if (ret)
		return ret;
	size = a.size;
	ctx = open_dev(d.sel[0]);
	if (!ctx)
		goto out;
	ret = ibv_odp_query_caps(ctx, &caps);
	if (ret) {
		fprintf(stderr, "%s: probe: cannot query %s: %s\n", prog,
			ibv_get_device_name(d.sel[0]), strerror(ret));
		goto out;
	}
	if (!caps.odp || !caps.implicit ||
	    (caps.ops[IBV_ODP_TRANSPORT_RC] & (IBV_ODP_OP_WRITE | IBV_ODP_OP_READ)) !=
	    (IBV_ODP_OP_WRITE | IBV_ODP_OP_READ)) {
		fprintf(stderr, "%s: probe: %s does not support %s\n", prog,
			ibv_get_device_name(d.sel[0]),
			!caps.odp ? "On-Demand Paging" : !caps.implicit ?
			"implicit On-Demand Paging" :
			"RDMA WRITE and READ on ODP memory over RC");
		status = EX_UNSUPP;
		goto out;
	}
	if (a.gid_set)
		gid_index = a.gid;
	else if (pick_gid(ctx, a.port, &gid_index)) {
		fprintf(stderr, "%s: probe: %s port %lu has no GID\n", prog,
			ibv_get_device_name(d.sel[0]), a.port);
		status = EX_NODEV;
		goto out;
	}

	pd = ibv_alloc_pd(ctx);
	cq = pd ? ibv_create_cq(ctx, 4, NULL, NULL, 0) : NULL;
	if (!cq) {
		fprintf(stderr, "%s: probe: PD/CQ: %s\n", prog, strerror(errno));
		goto out;
	}
	memset(&qia, 0, sizeof(qia));
	qia.send_cq = qia.recv_cq = cq;
	qia.qp_type = IBV_QPT_RC;
	qia.cap.max_send_wr = 2;
	qia.cap.max_recv_wr = 1;
	qia.cap.max_send_sge = qia.cap.max_recv_sge = 1;
	qp = ibv_create_qp(pd, &qia);
	if (!qp || connect_self(qp, ctx, a.port, gid_index)) {
		fprintf(stderr, "%s: probe: cannot connect an RC QP to itself on %s port %lu GID %d: %s\n",
			prog, ibv_get_device_name(d.sel[0]), a.port, gid_index,
			strerror(errno));
		goto out;
	}
	mr = ibv_odp_reg_implicit(pd, IBV_ACCESS_LOCAL_WRITE |
				  IBV_ACCESS_REMOTE_WRITE |
				  IBV_ACCESS_REMOTE_READ);
	if (!mr) {
		fprintf(stderr, "%s: probe: implicit registration: %s\n", prog,
			strerror(errno));
		goto out;
	}

	/* Source written by the CPU; destinations never touched before. */
	src = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	back = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED || back == MAP_FAILED) {
		fprintf(stderr, "%s: probe: mmap: %s\n", prog, strerror(errno));
		goto out;
	}
	for (i = 0; i < size; i++)
		src[i] = (unsigned char)(i * 7 + (i >> 12) + 1);

	have_cnt = !ibv_odp_read_counters(ctx, a.port, &c0);
	if (a.prefetch) {
		struct ibv_sge sg[3] = {
			{ (uintptr_t)src, size, mr->lkey },
			{ (uintptr_t)dst, size, mr->lkey },
			{ (uintptr_t)back, size, mr->lkey },
		};
		double t0 = now_us();

		ret = ibv_odp_prefetch(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
				       IBV_ADVISE_MR_FLAG_FLUSH, sg, 3);
		t_pf = now_us() - t0;
		if (ret) {
			fprintf(stderr, "%s: probe: prefetch: %s\n", prog,
				strerror(ret));
			status = ret == EOPNOTSUPP ? EX_UNSUPP : EX_FAIL;
			goto out;
		}
	}
	usleep(20000);
	if (have_cnt)
		have_cnt = !ibv_odp_read_counters(ctx, a.port, &c1);
	if (post_wait(qp, cq, IBV_WR_RDMA_WRITE, src, dst, size, mr, &t_w) ||
	    post_wait(qp, cq, IBV_WR_RDMA_READ, back, dst, size, mr, &t_r))
		goto out;
	/* sysfs keeps the values for the port's lifespan (10 ms). */
	usleep(20000);
	if (have_cnt)
		have_cnt = !ibv_odp_read_counters(ctx, a.port, &c2);
	if (memcmp(dst, src, size) || memcmp(back, src, size)) {
		for (i = 0; i < size && dst[i] == src[i] && back[i] == src[i]; i++)
			;
		fprintf(stderr, "%s: probe: data mismatch at byte %zu: wrote 0x%02x, WRITE left 0x%02x, READ returned 0x%02x\n",
			prog, i, src[i], dst[i], back[i]);
		goto out;
	}
	printf("device: %s port %lu GID index %d\n",
	       ibv_get_device_name(d.sel[0]), a.port, gid_index);
	printf("implicit MR: lkey 0x%x rkey 0x%x\n", mr->lkey, mr->rkey);
	printf("size: %zu bytes (%zu pages)\n", size,
	       (size + sysconf(_SC_PAGESIZE) - 1) / sysconf(_SC_PAGESIZE));
	if (a.prefetch) {
		printf("prefetch: %.0f us\n", t_pf);
		if (have_cnt) {
			printf("prefetch ");
			print_delta(&c0, &c1);
		}
	}
	printf("rdma write: %.0f us\nrdma read: %.0f us\n", t_w, t_r);
	printf("data: verified\n");
	if (have_cnt)
		print_delta(&c1, &c2);
	else
		printf("counters: not available\n");
	status = EX_OK;
out:
	if (src != MAP_FAILED)
		munmap(src, size);
	if (dst != MAP_FAILED)
		munmap(dst, size);
	if (back != MAP_FAILED)
		munmap(back, size);
	if (mr)
		ibv_dereg_mr(mr);
	if (qp)
		ibv_destroy_qp(qp);
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	if (ctx)
		ibv_close_device(ctx);
	ibv_free_device_list(d.list);
	return status;
}

static int find_preload(char *path, size_t size)
{
	char exe[PATH_MAX];
	const char *env = getenv("IBV_ODP_PRELOAD");
	ssize_t n;

	if (env && *env) {
		snprintf(path, size, "%s", env);
		return access(path, R_OK);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(path, size, "%s/../lib/%s", dirname(exe), PRELOAD_NAME);
		if (!access(path, R_OK))
			return 0;
	}
	snprintf(path, size, "%s/%s", LIBDIR, PRELOAD_NAME);
	return access(path, R_OK);
}

static int cmd_run(int argc, char **argv)
{
	char path[PATH_MAX], *preload;
	const char *old;
	struct args a;
	int ret;

	ret = parse(argc, argv, "v", &a);
	if (ret)
		return ret;
	if (optind >= argc)
		return bad_usage("run: no command given (run [-v] -- CMD [ARG]...)");
	if (find_preload(path, sizeof(path))) {
		fprintf(stderr, "%s: run: cannot find %s (tried %s; set IBV_ODP_PRELOAD)\n",
			prog, PRELOAD_NAME, path);
		return EX_FAIL;
	}
	old = getenv("LD_PRELOAD");
	if (asprintf(&preload, "%s%s%s", path, old && *old ? ":" : "",
		     old ? old : "") < 0)
		return EX_FAIL;
	if (setenv("LD_PRELOAD", preload, 1) ||
	    (a.verbose && setenv("IBV_ODP_PRELOAD_VERBOSE", "1", 1)))
		return EX_FAIL;
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "%s: run: cannot run %s: %s\n", prog, argv[optind],
		strerror(errno));
	return errno == ENOENT ? EX_NOEXEC : 126;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "caps", cmd_caps }, { "stats", cmd_stats },
		{ "probe", cmd_probe }, { "run", cmd_run },
	};
	unsigned int i;

	if (argc < 2)
		return bad_usage("no command given");
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EX_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return bad_usage("unknown command '%s'", argv[1]);
}
