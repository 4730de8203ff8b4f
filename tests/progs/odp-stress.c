// SPDX-License-Identifier: GPL-2.0
/*
 * ODP under fire, over loopback RC QPs on rxe0.
 *
 * storm (default): lanes of RC traffic (RDMA WRITE, RDMA READ, SEND and
 *   atomics; explicit and implicit ODP MRs, on both ends) move checksummed
 *   data through one arena while disturber threads, on the same buffers,
 *   munmap and remap (MAP_FIXED), MADV_DONTNEED, mprotect back and forth,
 *   fork, and move_pages between NUMA nodes.  Every payload is checked.
 *
 *   Each lane has a generation counter that a destructive disturber (one
 *   that loses data or opens a window in which access is refused) makes odd
 *   while it works and even again when done.  A transfer that overlapped no
 *   such window must complete successfully with exact data.  One that did
 *   may end in an access error (the lane's QPs are then recreated and the
 *   transfer retried: counted), and its data may hold, word by word, only
 *   the new value, the previous one or zero (a page dropped or replaced):
 *   any other word is corruption.  move_pages and fork preserve data and
 *   open no window: transfers across them must be exact.
 *
 * pressure (-P MIB): an arena of MIB MiB, filled with per-page patterns by
 *   the CPU (more than the guest's RAM, so most of it is swapped out), read
 *   and written at random through an implicit ODP MR while a thread keeps
 *   touching other parts; every block read is checked against the pattern
 *   the arena must hold, every block written is checked by the CPU.
 *
 * dereg (-D N): N times, a peer keeps RDMA WRITEs in flight to an ODP MR
 *   that is deregistered under it: every WRITE completes, successfully
 *   before the deregistration and with a remote access error after it, and
 *   the memory no longer changes once the first error is seen.
 *
 * Prints a results table; exits 1 on any failure.
 */
#include "rdma-loop.h"
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

#define LANE_BYTES	(6 * PAGE)	/* one lane's area at each end */
#define XFER_OFF	100		/* transfers start mid-page ... */
#define XFER_LEN	(4 * PAGE + 200) /* ... and cross 5 pages */

enum op { OP_WRITE, OP_READ, OP_SEND, OP_ATOMIC, OP_NR };
static const char *const op_name[] = { "write", "read", "send", "atomic" };

static atomic_bool stop;
static atomic_int failures;
static int verbose;

#define FAIL(...) do {							\
	printf("FAIL: " __VA_ARGS__);					\
	printf("\n");							\
	fflush(stdout);							\
	atomic_fetch_add(&failures, 1);					\
} while (0)

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245 + 12345;
	return (*s >> 8) & 0xffffff;
}

/* ------------------------------------------------------------------------ */
/* storm */

struct lane {
	int id;
	enum op op;
	enum mr_kind kind;
	pthread_t thread;
	pthread_mutex_t cpu;	/* held while the CPU touches the lane's areas */
	atomic_uint gen;	/* odd while a destructive disturber works */
	unsigned char *a;	/* requester's area */
	unsigned char *b;	/* responder's area */
	struct pair p;
	uint64_t seq;
	uint64_t counter;	/* atomic lanes: the value the word must hold */
	/* results */
	uint64_t xfers, exact, disturbed, bytes, retries, recreated;
	uint64_t connected_seq;	/* seq of the first transfer on these QPs */
	int last_status;	/* of the transfer before */
	const char *failed_wc;	/* which completion the last status is */
};

struct storm {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	unsigned char *arena;
	size_t arena_len;
	struct ibv_mr *explicit_mr, *implicit_mr;
	struct lane *lanes;
	int nlanes;
	int nodes;
	atomic_ulong dist[6];
};

enum { D_REMAP, D_MUNMAP, D_DONTNEED, D_MPROTECT, D_FORK, D_MOVE };
static const char *const dist_name[] = {
	"remap MAP_FIXED", "munmap + mmap", "MADV_DONTNEED",
	"mprotect RO/NONE + RW", "fork", "move_pages",
};

static struct storm S;

static struct ibv_mr *lane_mr(struct lane *l)
{
	return l->kind == MR_IMPLICIT ? S.implicit_mr : S.explicit_mr;
}

/* The 64-bit word at offset @off of a payload: never zero. */
static uint64_t word(const struct lane *l, uint64_t seq, uint64_t off)
{
	return ((uint64_t)(l->id + 1) << 56) | ((seq & 0xffffff) << 32) |
	       (off + 1);
}

static void put_payload(struct lane *l, unsigned char *dst, uint64_t seq)
{
	uint64_t *w = (uint64_t *)(dst + XFER_OFF - XFER_OFF % 8);
	size_t i;

	for (i = 0; i < XFER_LEN / 8; i++)
		w[i] = word(l, seq, i);
}

/*
 * Check a received payload.  Returns 0 when exact, 1 when every word is the
 * new value, the previous one or zero (allowed when @disturbed), -1 on a
 * word that can be none of those.
 */
static int check_payload(struct lane *l, const unsigned char *got,
			 uint64_t seq, bool disturbed)
{
	const uint64_t *w = (const uint64_t *)(got + XFER_OFF - XFER_OFF % 8);
	bool exact = true;
	size_t i;

	for (i = 0; i < XFER_LEN / 8; i++) {
		uint64_t v = w[i];

		if (v == word(l, seq, i))
			continue;
		exact = false;
		/* Lost (zero) or stale: this lane's word, an older seq. */
		if (disturbed && (v == 0 ||
				  ((v >> 56) == (uint64_t)l->id + 1 &&
				   (v & 0xffffffff) == i + 1)))
			continue;
		FAIL("lane %d (%s %s) seq %llu: word %zu is %#llx, want %#llx%s%s",
		     l->id, op_name[l->op], mr_kind_name[l->kind],
		     (unsigned long long)seq, i, (unsigned long long)v,
		     (unsigned long long)word(l, seq, i),
		     disturbed ? " (or 0 or an older value)" : "",
		     disturbed ? "" : " (no window)");
		return -1;
	}
	return exact ? 0 : 1;
}

static void sleep_ms(unsigned int ms);

/*
 * New QPs for a lane.  A setup that fails is said (with its error) and
 * tried again a few times: the tests are of the data path, but what fails
 * here is shown, not hidden.
 */
static int lane_connect(struct lane *l)
{
	int i;

	for (i = 0; i < 4; i++) {
		pair_close(&l->p);
		if (!pair_open_on(&l->p, S.ctx, S.pd, 4))
			return 0;
		printf("# lane %d: QP setup failed (%s), attempt %d\n", l->id,
		       strerror(errno), i + 1);
		sleep_ms(20);
	}
	return -1;
}

/* One transfer; the completion status of the requester (or -1/-2). */
static int lane_xfer(struct lane *l, uint64_t *fetched_at)
{
	struct ibv_mr *mr = lane_mr(l);
	unsigned char *a = l->a + XFER_OFF - XFER_OFF % 8;
	unsigned char *b = l->b + XFER_OFF - XFER_OFF % 8;
	struct ibv_recv_wr rwr, *bad;
	struct ibv_sge rsge;
	int st;

	l->failed_wc = "requester";
	switch (l->op) {
	case OP_WRITE:
		return post_one(&l->p, IBV_WR_RDMA_WRITE, a, mr->lkey,
				XFER_LEN, (uintptr_t)b, mr->rkey, 0, 0);
	case OP_READ:
		return post_one(&l->p, IBV_WR_RDMA_READ, a, mr->lkey,
				XFER_LEN, (uintptr_t)b, mr->rkey, 0, 0);
	case OP_SEND:
		rsge.addr = (uintptr_t)b;
		rsge.length = XFER_LEN;
		rsge.lkey = mr->lkey;
		memset(&rwr, 0, sizeof(rwr));
		rwr.sg_list = &rsge;
		rwr.num_sge = 1;
		if (ibv_post_recv(l->p.qp[1], &rwr, &bad))
			return -2;
		st = post_one(&l->p, IBV_WR_SEND, a, mr->lkey, XFER_LEN, 0, 0,
			      0, 0);
		if (st != IBV_WC_SUCCESS)
			return st;
		l->failed_wc = "receive";
		return wait_wc(l->p.cq[1]);
	case OP_ATOMIC:
		/* The word at l->b + 8 * (seq % 16): fetch-add or cmp-swap. */
		*fetched_at = (uintptr_t)l->b + 8 * (l->seq % 16);
		if (l->seq & 1)
			return post_one(&l->p, IBV_WR_ATOMIC_FETCH_AND_ADD,
					l->a, mr->lkey, 8, *fetched_at,
					mr->rkey, 3, 0);
		return post_one(&l->p, IBV_WR_ATOMIC_CMP_AND_SWP, l->a,
				mr->lkey, 8, *fetched_at, mr->rkey,
				l->counter, l->counter + 3);
	default:
		return -2;
	}
}

/* Atomic lanes: 16 words, all holding l->counter (set under l->cpu). */
static void atomic_reset(struct lane *l)
{
	uint64_t *w = (uint64_t *)l->b;
	int i;

	l->counter = (uint64_t)(l->id + 1) << 40 | (l->seq & 0xffff) << 16;
	for (i = 0; i < 16; i++)
		w[i] = l->counter;
}

static void *lane_run(void *arg)
{
	struct lane *l = arg;
	uint64_t at = 0;

	pthread_mutex_lock(&l->cpu);
	if (l->op == OP_ATOMIC)
		atomic_reset(l);
	pthread_mutex_unlock(&l->cpu);

	while (!atomic_load(&stop)) {
		unsigned int g0, g1;
		bool disturbed;
		int st, c = 0;
		unsigned char *src, *dst;

		l->seq++;
		src = l->op == OP_READ ? l->b : l->a;
		dst = l->op == OP_READ ? l->a : l->b;

		pthread_mutex_lock(&l->cpu);
		g0 = atomic_load(&l->gen);
		if (l->op == OP_ATOMIC) {
			uint64_t *w = (uint64_t *)l->b;

			/* Where the words were lost, start again. */
			if (w[l->seq % 16] != l->counter)
				atomic_reset(l);
			memset(l->a, 0, 8);
		} else {
			put_payload(l, src, l->seq);
		}
		pthread_mutex_unlock(&l->cpu);

		st = lane_xfer(l, &at);

		/*
		 * Check with the leniency a window allows, then see whether
		 * one was open: the generation is read after the data, so a
		 * page dropped during the check is seen as a window too.
		 */
		pthread_mutex_lock(&l->cpu);
		if (st == IBV_WC_SUCCESS && l->op == OP_ATOMIC) {
			uint64_t old = *(uint64_t *)l->a;
			uint64_t *w = (uint64_t *)(uintptr_t)at;

			if (old == l->counter && *w == l->counter + 3)
				c = 0;
			else if (old == l->counter || old == 0)
				c = 1;
			else
				c = -1;
			g1 = atomic_load(&l->gen);
			disturbed = g0 != g1 || (g0 & 1);
			if (c < 0 || (c > 0 && !disturbed)) {
				FAIL("lane %d (atomic %s) seq %llu: fetched %#llx, word now %#llx, want %#llx then %#llx%s",
				     l->id, mr_kind_name[l->kind],
				     (unsigned long long)l->seq,
				     (unsigned long long)old,
				     (unsigned long long)*w,
				     (unsigned long long)l->counter,
				     (unsigned long long)l->counter + 3,
				     disturbed ? "" : " (no window)");
				c = -1;
			}
			/* All 16 words move together. */
			if (c == 0) {
				int i;

				l->counter += 3;
				for (i = 0; i < 16; i++)
					((uint64_t *)l->b)[i] = l->counter;
			} else {
				atomic_reset(l);
			}
			l->bytes += 16;
		} else if (st == IBV_WC_SUCCESS) {
			c = check_payload(l, dst, l->seq, true);
			g1 = atomic_load(&l->gen);
			disturbed = g0 != g1 || (g0 & 1);
			if (c > 0 && !disturbed) {
				/* Report the first wrong word exactly. */
				if (check_payload(l, dst, l->seq, false) >= 0)
					FAIL("lane %d: payload changed while checked",
					     l->id);
				c = -1;
			}
			l->bytes += XFER_LEN;
		} else {
			g1 = atomic_load(&l->gen);
			disturbed = g0 != g1 || (g0 & 1);
		}
		pthread_mutex_unlock(&l->cpu);

		if (st != IBV_WC_SUCCESS) {
			if (!disturbed) {
				FAIL("lane %d (%s %s) seq %llu: %s status %s (%s) outside any unmap/protect window; QPs %u/%u used since seq %llu, status before %s",
				     l->id, op_name[l->op],
				     mr_kind_name[l->kind],
				     (unsigned long long)l->seq, l->failed_wc,
				     wc_name(st),
				     st == -2 ? strerror(errno) : "-",
				     l->p.qp[0]->qp_num, l->p.qp[1]->qp_num,
				     (unsigned long long)l->connected_seq,
				     wc_name(l->last_status));
				break;
			}
			/* Refused in a window: new QPs, and try again. */
			l->retries++;
			if (lane_connect(l)) {
				FAIL("lane %d: recreating QPs: %s", l->id,
				     strerror(errno));
				break;
			}
			l->recreated++;
			l->connected_seq = l->seq + 1;
			l->last_status = st;
			continue;
		}
		l->last_status = st;
		if (c < 0)
			break;
		l->xfers++;
		if (c == 0)
			l->exact++;
		else
			l->disturbed++;
	}
	return NULL;
}

/* A lane's two areas, or one of them, for a disturber to work on. */
static void pick(unsigned int *s, struct lane **lp, unsigned char **addr,
		 size_t *len)
{
	struct lane *l = &S.lanes[rnd(s) % S.nlanes];
	unsigned int w = rnd(s) % 3;

	*lp = l;
	*addr = w == 1 ? l->b : l->a;
	*len = w == 2 ? 0 : LANE_BYTES;
	if (w == 2) {		/* both: a and b are adjacent */
		*addr = l->a;
		*len = 2 * LANE_BYTES;
	}
}

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static void begin(struct lane *l)
{
	pthread_mutex_lock(&l->cpu);
	atomic_fetch_add(&l->gen, 1);
}

static void end(struct lane *l)
{
	atomic_fetch_add(&l->gen, 1);
	pthread_mutex_unlock(&l->cpu);
}

static void child_fault(int sig)
{
	(void)sig;
	_exit(0);
}

static void *disturb(void *arg)
{
	int kind = (int)(intptr_t)arg;
	unsigned int s = 0x9e3779b9u * (kind + 1);

	while (!atomic_load(&stop)) {
		struct lane *l;
		unsigned char *addr;
		size_t len, i;
		void *m;

		pick(&s, &l, &addr, &len);
		switch (kind) {
		case D_REMAP:
			begin(l);
			m = mmap(addr, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (m != addr)
				FAIL("mmap MAP_FIXED: %s", strerror(errno));
			end(l);
			break;
		case D_MUNMAP:
			begin(l);
			if (munmap(addr, len))
				FAIL("munmap: %s", strerror(errno));
			sleep_ms(rnd(&s) % 3);
			m = mmap(addr, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (m != addr)
				FAIL("mmap after munmap: %s", strerror(errno));
			end(l);
			break;
		case D_DONTNEED:
			/* Data lost, no window: the lane's CPU may run. */
			atomic_fetch_add(&l->gen, 1);
			/* ENOMEM: a munmap window left a hole in the range. */
			if (madvise(addr + (rnd(&s) % 4) * PAGE, 2 * PAGE,
				    MADV_DONTNEED) && errno != ENOMEM)
				FAIL("madvise: %s", strerror(errno));
			atomic_fetch_add(&l->gen, 1);
			break;
		case D_MPROTECT:
			begin(l);
			if (mprotect(addr, len, rnd(&s) % 2 ? PROT_READ :
				     PROT_NONE))
				FAIL("mprotect: %s", strerror(errno));
			sleep_ms(rnd(&s) % 3);
			if (mprotect(addr, len, PROT_READ | PROT_WRITE))
				FAIL("mprotect back: %s", strerror(errno));
			end(l);
			break;
		case D_FORK: {
			pid_t pid = fork();
			int ws;

			if (pid == 0) {
				/*
				 * The child scribbles over its copy of the
				 * arena (a pattern no lane ever sends) and
				 * goes; a hole or a protected page ends it.
				 */
				signal(SIGSEGV, child_fault);
				signal(SIGBUS, child_fault);
				for (i = 0; i < S.arena_len; i += 512)
					*(volatile uint64_t *)(S.arena + i) =
						0xa5a5a5a5a5a5a5a5ULL;
				_exit(0);
			}
			if (pid < 0) {
				FAIL("fork: %s", strerror(errno));
				break;
			}
			waitpid(pid, &ws, 0);
			break;
		}
		case D_MOVE: {
			void *pages[2 * LANE_BYTES / PAGE];
			int nodes[2 * LANE_BYTES / PAGE], status[2 * LANE_BYTES / PAGE];
			unsigned long n = len / PAGE;
			int node = rnd(&s) % S.nodes;

			for (i = 0; i < n; i++) {
				pages[i] = addr + i * PAGE;
				nodes[i] = node;
			}
			/*
			 * Pages of a lane's area may be gone (unmapped) while
			 * another disturber works: -ENOENT in status is fine.
			 */
			if (syscall(SYS_move_pages, 0, n, pages, nodes, status,
				    MPOL_MF_MOVE) < 0 && errno != ENOENT &&
			    errno != EFAULT)
				FAIL("move_pages: %s", strerror(errno));
			break;
		}
		}
		atomic_fetch_add(&S.dist[kind], 1);
		sleep_ms(kind == D_FORK ? 20 + rnd(&s) % 80 : 5 + rnd(&s) % 40);
	}
	return NULL;
}

static int count_nodes(void)
{
	char path[64];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
		if (access(path, F_OK))
			return n ? n : 1;
		n++;
	}
}

static int run_storm(int secs, int nlanes, unsigned int dmask)
{
	pthread_t dt[6];
	double t0, took;
	uint64_t tx = 0, tex = 0, tdis = 0, tb = 0, tre = 0;
	int i;

	S.nlanes = nlanes;
	S.nodes = count_nodes();
	S.ctx = loop_open();
	if (!S.ctx || !(S.pd = ibv_alloc_pd(S.ctx))) {
		FAIL("open %s: %s", loop_dev, strerror(errno));
		return 1;
	}
	/* Lane areas: a then b, adjacent, page aligned, a guard page apart. */
	S.arena_len = nlanes * (2 * LANE_BYTES + PAGE);
	/*
	 * Far below where mmap() places things: while a munmap window is
	 * open, a mapping made by another thread (a QP's queue, malloc)
	 * must not land in the hole and be clobbered by the MAP_FIXED that
	 * closes it.
	 */
	S.arena = mmap((void *)(8UL << 30), S.arena_len,
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (S.arena == MAP_FAILED)
		S.arena = NULL;
	if (!S.arena) {
		FAIL("mmap arena");
		return 1;
	}
	S.explicit_mr = ibv_reg_mr(S.pd, S.arena, S.arena_len,
				   ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	S.implicit_mr = ibv_reg_mr(S.pd, NULL, SIZE_MAX,
				   ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	if (!S.explicit_mr || !S.implicit_mr) {
		FAIL("reg_mr: %s", strerror(errno));
		return 1;
	}
	S.lanes = calloc(nlanes, sizeof(*S.lanes));
	for (i = 0; i < nlanes; i++) {
		struct lane *l = &S.lanes[i];

		l->id = i;
		l->op = (enum op)(i % OP_NR);
		l->kind = (i / OP_NR) % 2 ? MR_ODP : MR_IMPLICIT;
		if (i % 2)
			l->kind = l->kind == MR_ODP ? MR_IMPLICIT : MR_ODP;
		l->a = S.arena + i * (2 * LANE_BYTES + PAGE);
		l->b = l->a + LANE_BYTES;
		pthread_mutex_init(&l->cpu, NULL);
		if (pair_open_on(&l->p, S.ctx, S.pd, 4)) {
			FAIL("lane %d: QPs: %s", i, strerror(errno));
			return 1;
		}
	}
	printf("# storm: %d lanes, %d s, %d NUMA nodes, disturbers %#x\n",
	       nlanes, secs, S.nodes, dmask);
	fflush(stdout);
	t0 = now();
	for (i = 0; i < nlanes; i++)
		pthread_create(&S.lanes[i].thread, NULL, lane_run, &S.lanes[i]);
	for (i = 0; i < 6; i++)
		if (dmask & (1u << i))
			pthread_create(&dt[i], NULL, disturb, (void *)(intptr_t)i);
	while (now() - t0 < secs && !atomic_load(&failures)) {
		sleep_ms(500);
		if (verbose) {
			uint64_t x = 0;

			for (i = 0; i < nlanes; i++)
				x += S.lanes[i].xfers;
			printf("# %.0f s: %llu transfers\n", now() - t0,
			       (unsigned long long)x);
			fflush(stdout);
		}
	}
	atomic_store(&stop, true);
	for (i = 0; i < 6; i++)
		if (dmask & (1u << i))
			pthread_join(dt[i], NULL);
	for (i = 0; i < nlanes; i++)
		pthread_join(S.lanes[i].thread, NULL);
	took = now() - t0;

	printf("\n%-5s %-7s %-9s %10s %10s %10s %12s %8s\n", "lane", "op",
	       "mr", "transfers", "exact", "disturbed", "bytes", "retried");
	for (i = 0; i < nlanes; i++) {
		struct lane *l = &S.lanes[i];

		printf("%-5d %-7s %-9s %10llu %10llu %10llu %12llu %8llu\n",
		       l->id, op_name[l->op], mr_kind_name[l->kind],
		       (unsigned long long)l->xfers,
		       (unsigned long long)l->exact,
		       (unsigned long long)l->disturbed,
		       (unsigned long long)l->bytes,
		       (unsigned long long)l->retries);
		tx += l->xfers;
		tex += l->exact;
		tdis += l->disturbed;
		tb += l->bytes;
		tre += l->retries;
		pair_close(&l->p);
	}
	printf("%-5s %-7s %-9s %10llu %10llu %10llu %12llu %8llu\n", "all",
	       "", "", (unsigned long long)tx, (unsigned long long)tex,
	       (unsigned long long)tdis, (unsigned long long)tb,
	       (unsigned long long)tre);
	printf("\n%-24s %10s\n", "disturber", "count");
	for (i = 0; i < 6; i++)
		printf("%-24s %10lu\n", dist_name[i], atomic_load(&S.dist[i]));
	printf("\nSTORM seconds=%.0f transfers=%llu bytes_verified=%llu exact=%llu disturbed=%llu retried=%llu mismatches=%d\n",
	       took, (unsigned long long)tx, (unsigned long long)tb,
	       (unsigned long long)tex, (unsigned long long)tdis,
	       (unsigned long long)tre, atomic_load(&failures));
	ibv_dereg_mr(S.explicit_mr);
	ibv_dereg_mr(S.implicit_mr);
	ibv_dealloc_pd(S.pd);
	ibv_close_device(S.ctx);
	/* Each lane must have moved data, or the test tested nothing. */
	for (i = 0; i < nlanes; i++)
		if (!S.lanes[i].exact)
			FAIL("lane %d moved no undisturbed data", i);
	return atomic_load(&failures) ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* pressure */

#define BLK	(16 * PAGE)

/* The word @i of page @pg of the arena at version @v. */
static uint64_t pword(uint64_t pg, uint32_t v, uint64_t i)
{
	return (pg << 24) ^ ((uint64_t)v << 48) ^ (i * 0x9e3779b97f4a7c15ULL) ^
	       0x5555;
}

struct press {
	unsigned char *arena;
	size_t len;
	uint32_t *ver;		/* per page */
	pthread_mutex_t lock;	/* ver[] and inflight */
	size_t inflight;	/* first page of the block in flight, or -1 */
	uint64_t touched;
};

static struct press PR;

static void *press_toucher(void *arg)
{
	unsigned int s = 77;
	size_t npg = PR.len / PAGE;

	(void)arg;
	while (!atomic_load(&stop)) {
		size_t pg = rnd(&s) % npg;
		const uint64_t *w;

		pthread_mutex_lock(&PR.lock);
		if (PR.inflight != (size_t)-1 && pg >= PR.inflight &&
		    pg < PR.inflight + BLK / PAGE) {
			pthread_mutex_unlock(&PR.lock);
			continue;
		}
		w = (const uint64_t *)(PR.arena + pg * PAGE);
		if (w[7] != pword(pg, PR.ver[pg], 7))
			FAIL("CPU read of page %zu: word %#llx, want %#llx", pg,
			     (unsigned long long)w[7],
			     (unsigned long long)pword(pg, PR.ver[pg], 7));
		pthread_mutex_unlock(&PR.lock);
		PR.touched++;
	}
	return NULL;
}

static bool block_ok(const unsigned char *got, size_t first_pg,
		     const char *what)
{
	size_t p, i;

	for (p = 0; p < BLK / PAGE; p++) {
		const uint64_t *w = (const uint64_t *)(got + p * PAGE);
		size_t pg = first_pg + p;

		for (i = 0; i < PAGE / 8; i++)
			if (w[i] != pword(pg, PR.ver[pg], i)) {
				FAIL("%s of page %zu: word %zu is %#llx, want %#llx",
				     what, pg, i, (unsigned long long)w[i],
				     (unsigned long long)pword(pg, PR.ver[pg], i));
				return false;
			}
	}
	return true;
}

static int run_pressure(int secs, size_t mib)
{
	struct ibv_context *ctx = loop_open();
	struct ibv_pd *pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	struct ibv_mr *imr, *lmr;
	unsigned char *loc;
	struct pair p;
	pthread_t toucher;
	size_t npg, pg, i;
	uint64_t reads = 0, writes = 0, bytes = 0;
	unsigned int s = 4242;
	double t0, tfill;

	if (!pd) {
		FAIL("open %s: %s", loop_dev, strerror(errno));
		return 1;
	}
	PR.len = mib << 20;
	npg = PR.len / PAGE;
	PR.arena = map_anon(PR.len, PROT_READ | PROT_WRITE);
	PR.ver = calloc(npg, sizeof(*PR.ver));
	loc = map_anon(BLK, PROT_READ | PROT_WRITE);
	if (!PR.arena || !PR.ver || !loc) {
		FAIL("mmap %zu MiB", mib);
		return 1;
	}
	pthread_mutex_init(&PR.lock, NULL);
	PR.inflight = (size_t)-1;
	t0 = now();
	for (pg = 0; pg < npg; pg++) {
		uint64_t *w = (uint64_t *)(PR.arena + pg * PAGE);

		for (i = 0; i < PAGE / 8; i++)
			w[i] = pword(pg, 0, i);
		if (pg && !(pg % (64 << 20 >> 12)))
			printf("# filled %zu MiB, %.0f s\n", pg >> 8, now() - t0);
	}
	tfill = now() - t0;
	printf("# pressure: %zu MiB filled in %.1f s\n", mib, tfill);
	fflush(stdout);
	imr = ibv_reg_mr(pd, NULL, SIZE_MAX, ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	lmr = ibv_reg_mr(pd, loc, BLK, ACCESS_ALL);
	if (!imr || !lmr || pair_open_on(&p, ctx, pd, 4)) {
		FAIL("setup: %s", strerror(errno));
		return 1;
	}
	pthread_create(&toucher, NULL, press_toucher, NULL);
	t0 = now();
	while (now() - t0 < secs && !atomic_load(&failures)) {
		size_t first = (rnd(&s) % (npg / (BLK / PAGE))) * (BLK / PAGE);
		unsigned char *at = PR.arena + first * PAGE;
		bool wr = rnd(&s) % 3 == 0;
		int st;

		/* The toucher keeps off the block while it moves. */
		pthread_mutex_lock(&PR.lock);
		PR.inflight = first;
		if (wr)
			for (pg = first; pg < first + BLK / PAGE; pg++)
				PR.ver[pg]++;
		pthread_mutex_unlock(&PR.lock);
		if (wr) {
			/* New versions of the block's pages, written by RDMA. */
			for (pg = first; pg < first + BLK / PAGE; pg++) {
				uint64_t *w = (uint64_t *)(loc + (pg - first) * PAGE);

				for (i = 0; i < PAGE / 8; i++)
					w[i] = pword(pg, PR.ver[pg], i);
			}
			st = post_one(&p, IBV_WR_RDMA_WRITE, loc, lmr->lkey,
				      BLK, (uintptr_t)at, imr->rkey, 0, 0);
			if (st == IBV_WC_SUCCESS)
				block_ok(at, first, "CPU check of RDMA WRITE");
			writes++;
		} else {
			memset(loc, 0, BLK);
			st = post_one(&p, IBV_WR_RDMA_READ, loc, lmr->lkey,
				      BLK, (uintptr_t)at, imr->rkey, 0, 0);
			if (st == IBV_WC_SUCCESS)
				block_ok(loc, first, "RDMA READ");
			reads++;
		}
		pthread_mutex_lock(&PR.lock);
		PR.inflight = (size_t)-1;
		pthread_mutex_unlock(&PR.lock);
		if (st != IBV_WC_SUCCESS) {
			FAIL("%s of block at page %zu: %s", wr ? "write" : "read",
			     first, wc_name(st));
			break;
		}
		bytes += BLK;
	}
	atomic_store(&stop, true);
	pthread_join(toucher, NULL);
	/* At the end, the whole arena by the CPU: every page as expected. */
	for (pg = 0; pg < npg && !atomic_load(&failures); pg++) {
		const uint64_t *w = (const uint64_t *)(PR.arena + pg * PAGE);

		for (i = 0; i < PAGE / 8; i++)
			if (w[i] != pword(pg, PR.ver[pg], i)) {
				FAIL("final check of page %zu word %zu", pg, i);
				break;
			}
	}
	printf("\nPRESSURE arena_mib=%zu fill_s=%.1f rdma_reads=%llu rdma_writes=%llu bytes_verified=%llu cpu_touches=%llu final_pages_checked=%zu mismatches=%d\n",
	       mib, tfill, (unsigned long long)reads,
	       (unsigned long long)writes, (unsigned long long)bytes,
	       (unsigned long long)PR.touched, npg, atomic_load(&failures));
	pair_close(&p);
	ibv_dereg_mr(imr);
	ibv_dereg_mr(lmr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	if (!reads || !writes)
		FAIL("no traffic");
	return atomic_load(&failures) ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* dereg */

#define DWR	64	/* WRITEs in flight */

static int dereg_once(struct ibv_context *ctx, struct ibv_pd *pd, int iter,
		      enum mr_kind kind, uint64_t *ok_before, uint64_t *err_after)
{
	unsigned char *t = map_anon(4 * PAGE, PROT_READ | PROT_WRITE);
	unsigned char *src = map_anon(PAGE, PROT_READ | PROT_WRITE);
	unsigned char *snap = malloc(4 * PAGE);
	struct ibv_mr *mr, *smr;
	struct pair p;
	int posted = 0, done = 0, first_err = -1, i;
	bool dereged = false;
	double t0;

	if (!t || !src || !snap || pair_open_on(&p, ctx, pd, DWR)) {
		FAIL("dereg %d: setup", iter);
		return -1;
	}
	memset(t, 0, 4 * PAGE);
	fill(src, PAGE, iter);
	mr = reg_kind(pd, t, 4 * PAGE, ACCESS_ALL, kind);
	smr = ibv_reg_mr(pd, src, PAGE, ACCESS_ALL);
	if (!mr || !smr) {
		FAIL("dereg %d: reg_mr: %s", iter, strerror(errno));
		return -1;
	}
	t0 = now();
	/* Keep WRITEs in flight; deregister after a few have completed. */
	while (done < 400 && now() - t0 < 60) {
		struct ibv_wc wc[16];
		int n;

		while (posted - done < DWR && posted < 400) {
			struct ibv_sge sge = {
				.addr = (uintptr_t)src, .length = PAGE / 4,
				.lkey = smr->lkey,
			};
			struct ibv_send_wr wr = {
				.wr_id = posted, .opcode = IBV_WR_RDMA_WRITE,
				.sg_list = &sge, .num_sge = 1,
				.send_flags = IBV_SEND_SIGNALED,
				.wr.rdma = {
					.remote_addr = (uintptr_t)t +
						(posted % 16) * (PAGE / 4),
					.rkey = mr->rkey,
				},
			}, *bad;

			if (ibv_post_send(p.qp[0], &wr, &bad))
				break;
			posted++;
		}
		if (!dereged && done >= 8 + iter % 32) {
			if (ibv_dereg_mr(mr)) {
				FAIL("dereg %d: dereg_mr: %s", iter,
				     strerror(errno));
				return -1;
			}
			dereged = true;
			memcpy(snap, t, 4 * PAGE);
		}
		n = ibv_poll_cq(p.cq[0], 16, wc);
		for (i = 0; i < n; i++, done++) {
			if (wc[i].status == IBV_WC_SUCCESS) {
				if (first_err >= 0) {
					FAIL("dereg %d (%s): WRITE %llu succeeded after an error",
					     iter, mr_kind_name[kind],
					     (unsigned long long)wc[i].wr_id);
					return -1;
				}
				(*ok_before)++;
			} else if (first_err < 0) {
				if (!dereged ||
				    wc[i].status != IBV_WC_REM_ACCESS_ERR) {
					FAIL("dereg %d (%s): status %s%s", iter,
					     mr_kind_name[kind],
					     wc_name(wc[i].status),
					     dereged ? "" : " before dereg");
					return -1;
				}
				first_err = wc[i].status;
				(*err_after)++;
			} else if (wc[i].status != IBV_WC_WR_FLUSH_ERR) {
				FAIL("dereg %d: status %s after the first error",
				     iter, wc_name(wc[i].status));
				return -1;
			}
		}
		if (first_err >= 0 && done == posted)
			break;
	}
	if (first_err < 0) {
		FAIL("dereg %d (%s): no access error after deregistration (%d of %d done)",
		     iter, mr_kind_name[kind], done, posted);
		return -1;
	}
	/* Nothing lands once the MR is gone. */
	sleep_ms(50);
	if (memcmp(snap, t, 4 * PAGE)) {
		FAIL("dereg %d (%s): memory written after deregistration",
		     iter, mr_kind_name[kind]);
		return -1;
	}
	pair_close(&p);
	ibv_dereg_mr(smr);
	munmap(t, 4 * PAGE);
	munmap(src, PAGE);
	free(snap);
	return 0;
}

static int run_dereg(int n)
{
	struct ibv_context *ctx = loop_open();
	struct ibv_pd *pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	uint64_t ok = 0, err = 0;
	int i;

	if (!pd) {
		FAIL("open %s", loop_dev);
		return 1;
	}
	for (i = 0; i < n && !atomic_load(&failures); i++)
		dereg_once(ctx, pd, i, (enum mr_kind)(i % 3), &ok, &err);
	printf("\nDEREG iterations=%d writes_ok_before=%llu access_errors_after=%llu failures=%d\n",
	       i, (unsigned long long)ok, (unsigned long long)err,
	       atomic_load(&failures));
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	return atomic_load(&failures) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: odp-stress [-d DEV] [-t SECS] [-l LANES] [-x MASK] [-v]\n"
		"       odp-stress -P MIB [-t SECS]     memory pressure\n"
		"       odp-stress -D N                 deregistration under WRITEs\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int secs = 20, lanes = 8, dereg = 0, c;
	unsigned int dmask = 0x3f;
	size_t mib = 0;

	while ((c = getopt(argc, argv, "d:t:l:x:P:D:v")) != -1) {
		switch (c) {
		case 'd': loop_dev = optarg; break;
		case 't': secs = atoi(optarg); break;
		case 'l': lanes = atoi(optarg); break;
		case 'x': dmask = strtoul(optarg, NULL, 0); break;
		case 'P': mib = strtoul(optarg, NULL, 0); break;
		case 'D': dereg = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (loop_find_gid() < 0) {
		printf("FAIL: no RoCE v2 GID for 10.0.2.15 on %s\n", loop_dev);
		return 1;
	}
	if (mib)
		return run_pressure(secs, mib);
	if (dereg)
		return run_dereg(dereg);
	if (lanes < 1 || lanes > 32)
		usage();
	return run_storm(secs, lanes, dmask);
}
