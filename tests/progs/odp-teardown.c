// SPDX-License-Identifier: GPL-2.0
/*
 * The end of an ODP MR's life, on rxe0: what the device wrote survives the
 * teardown, and nothing is freed while a fault in the MR is still running.
 *
 * Fixtures:
 *   teardown       odp, implicit (teardown-keeps-writes): an anonymous buffer
 *                  is paged out, read back by the CPU (so its pages sit in
 *                  the swap cache, mapped writable but clean), written by an
 *                  RDMA WRITE through an ODP MR, the MR deregistered before
 *                  any invalidation, the buffer paged out again and read:
 *                  every byte must be the RDMA data.  Needs swap.
 *   blocked_fault  dereg, dereg_qp_pd (dereg-during-blocked-fault): an RDMA
 *                  WRITE faults on a page of a file served by a FUSE server
 *                  of this process, which holds the read; meanwhile the MR
 *                  is deregistered (and the responder's QP and PD
 *                  destroyed); then the read is answered.  The requester
 *                  gets IBV_WC_REM_ACCESS_ERR, the file's page is unchanged,
 *                  and the kernel log stays clean (KASAN, lockdep, the pool's
 *                  timeout warning).  HOLD_SECS sets how long the read is
 *                  held (1 s; more than 50 s shows an MR freed under its
 *                  fault on a kernel that waits only that long).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fuse.h>
#include <infiniband/verbs.h>

#include "kselftest_harness.h"
#include "rdma-loop.h"

#define NPAGES		16
#define LEN		(NPAGES * PAGE)
#define SEED_CPU	11	/* what the CPU wrote first */
#define SEED_RDMA	77	/* what the RDMA WRITE carries */
#define SEED_FILE	33	/* the FUSE file's contents */

/* ---- pagemap: is a page of ours in swap? ------------------------------ */

static int pages_swapped(const void *addr, size_t len)
{
	uint64_t e;
	size_t i;
	int fd, n = 0;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	for (i = 0; i < len / PAGE; i++) {
		off_t off = ((uintptr_t)addr / PAGE + i) * sizeof(e);

		if (pread(fd, &e, sizeof(e), off) != sizeof(e)) {
			n = -1;
			break;
		}
		n += !!(e & (1ULL << 62));
	}
	close(fd);
	return n;
}

/* Page flags and counts of the range (/proc/kpageflags), for a report. */
static void page_report(const void *addr, size_t len)
{
	int pm = open("/proc/self/pagemap", O_RDONLY);
	int kf = open("/proc/kpageflags", O_RDONLY);
	int kc = open("/proc/kpagecount", O_RDONLY);
	size_t i;

	for (i = 0; i < len / PAGE; i++) {
		uint64_t e = 0, fl = 0, cnt = 0, pfn;

		if (pread(pm, &e, 8, ((uintptr_t)addr / PAGE + i) * 8) != 8)
			break;
		pfn = e & ((1ULL << 55) - 1);
		if (e & (1ULL << 63)) {
			if (pread(kf, &fl, 8, pfn * 8) != 8 ||
			    pread(kc, &cnt, 8, pfn * 8) != 8)
				fl = cnt = ~0ULL;
		}
		fprintf(stderr, "#   page %zu: pagemap %#llx kpageflags %#llx count %llu\n",
			i, (unsigned long long)e, (unsigned long long)fl,
			(unsigned long long)cnt);
	}
	close(pm);
	close(kf);
	close(kc);
}

/*
 * MADV_PAGEOUT until every page of the range is in swap: a dirty page is
 * written out first, and taken on a later pass.  Returns the number of the
 * range's pages in swap at the end.
 */
static int page_out(void *addr, size_t len)
{
	int tries, n = -1;

	for (tries = 0; tries < 50; tries++) {
		if (madvise(addr, len, MADV_PAGEOUT))
			return -1;
		n = pages_swapped(addr, len);
		if (n == (int)(len / PAGE))
			return n;
		usleep(100000);
	}
	page_report(addr, len);
	return n;
}

static bool swap_on(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int n = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n > 1;
}

/* ---- teardown-keeps-writes -------------------------------------------- */

FIXTURE(teardown) {
	struct pair p;
	unsigned char *buf, *src;
	struct ibv_mr *src_mr;
};

FIXTURE_VARIANT(teardown) {
	enum mr_kind kind;
};

FIXTURE_VARIANT_ADD(teardown, odp) { .kind = MR_ODP };
FIXTURE_VARIANT_ADD(teardown, implicit) { .kind = MR_IMPLICIT };

FIXTURE_SETUP(teardown)
{
	cpu_set_t one;

	/*
	 * One CPU: a page faulted in waits in that CPU's LRU batch, and
	 * MADV_PAGEOUT drains only its own CPU's batch before it looks for
	 * pages on the LRU.
	 */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
	ASSERT_TRUE(swap_on()) TH_LOG("no swap: the case script turns it on");
	ASSERT_GE(loop_find_gid(), 0);
	ASSERT_EQ(pair_open(&self->p), 0) TH_LOG("pair_open: %s", strerror(errno));
	self->buf = map_anon(LEN, PROT_READ | PROT_WRITE);
	self->src = map_anon(LEN, PROT_READ | PROT_WRITE);
	ASSERT_NE(self->buf, NULL);
	ASSERT_NE(self->src, NULL);
	fill(self->src, LEN, SEED_RDMA);
	self->src_mr = ibv_reg_mr(self->p.pd, self->src, LEN,
				  IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(self->src_mr, NULL);
}

FIXTURE_TEARDOWN(teardown)
{
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	pair_close(&self->p);
}

TEST_F(teardown, teardown_keeps_writes)
{
	struct ibv_mr *mr;
	size_t i;
	int st;

	/* In swap, then back by a read: in the swap cache, clean. */
	fill(self->buf, LEN, SEED_CPU);
	ASSERT_EQ(page_out(self->buf, LEN), NPAGES) TH_LOG("could not page the buffer out");
	for (i = 0; i < LEN; i += PAGE)
		ASSERT_EQ(self->buf[i], pattern(i, SEED_CPU));
	ASSERT_EQ(pages_swapped(self->buf, LEN), 0);

	mr = reg_kind(self->p.pd, self->buf, LEN, ACCESS_ALL, variant->kind);
	ASSERT_NE(mr, NULL) TH_LOG("reg: %s", strerror(errno));
	st = post_one(&self->p, IBV_WR_RDMA_WRITE, self->src, self->src_mr->lkey,
		      LEN, (uintptr_t)self->buf, mr->rkey, 0, 0);
	ASSERT_EQ(st, IBV_WC_SUCCESS) TH_LOG("WRITE: %s", wc_name(st));
	/* Deregistered before any invalidation of the buffer. */
	ASSERT_EQ(ibv_dereg_mr(mr), 0);

	/* Reclaim again: a page it took for clean loses the RDMA data. */
	ASSERT_EQ(page_out(self->buf, LEN), NPAGES) TH_LOG("could not page the buffer out again");
	for (i = 0; i < LEN; i++)
		if (self->buf[i] != pattern(i, SEED_RDMA))
			break;
	ASSERT_EQ(i, LEN) TH_LOG("byte %zu (page %zu) is %u, the CPU's %u, not the RDMA data %u",
				 i, i / PAGE, self->buf[i], pattern(i, SEED_CPU),
				 pattern(i, SEED_RDMA));
}

/* ---- a FUSE server that holds a read ---------------------------------- */

struct fuse_hold {
	int fd;
	char dir[64];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool held;		/* a READ arrived and is being held */
	bool release;		/* answer it */
};

static void fuse_attr_of(uint64_t ino, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = ino == FUSE_ROOT_ID ? 2 : 1;
	a->mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->size = ino == FUSE_ROOT_ID ? 0 : LEN;
	a->blocks = a->size / 512;
	a->blksize = PAGE;
}

/*
 * The server's buffers, touched before any read is held: while the device's
 * fault sleeps in the read, it holds this process's mmap lock for read, and
 * a page fault of the server queued behind a writer would never end.
 */
static struct {
	struct fuse_out_header h;
	unsigned char arg[LEN];
} fuse_out;
static unsigned char fuse_in[FUSE_MIN_READ_BUFFER + LEN];
static unsigned char fuse_data[LEN];

static void fuse_reply(int fd, uint64_t unique, int error, const void *arg,
		       size_t len)
{
	fuse_out.h.len = sizeof(fuse_out.h) + len;
	fuse_out.h.error = error;
	fuse_out.h.unique = unique;
	if (len)
		memcpy(fuse_out.arg, arg, len);
	if (write(fd, &fuse_out, fuse_out.h.len) < 0)
		perror("fuse reply");
}

static void *fuse_serve(void *arg)
{
	struct fuse_hold *h = arg;

	memset(&fuse_out, 0, sizeof(fuse_out));
	memset(fuse_in, 0, sizeof(fuse_in));
	memset(fuse_data, 0, sizeof(fuse_data));
	for (;;) {
		struct fuse_in_header *in = (void *)fuse_in;
		void *body = fuse_in + sizeof(*in);
		ssize_t n = read(h->fd, fuse_in, sizeof(fuse_in));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < (ssize_t)sizeof(*in))
			return NULL;	/* unmounted: ENODEV */
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = body;
			struct fuse_init_out o = {
				.major = FUSE_KERNEL_VERSION,
				.minor = FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = ii->max_readahead,
				.max_background = 16,
				.congestion_threshold = 12,
				.max_write = LEN,
				.time_gran = 1,
			};

			fuse_reply(h->fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = {
				.nodeid = 2, .generation = 1,
				.entry_valid = 3600, .attr_valid = 3600,
			};

			if (in->nodeid != FUSE_ROOT_ID || strcmp(body, "f")) {
				fuse_reply(h->fd, in->unique, -ENOENT, NULL, 0);
				break;
			}
			fuse_attr_of(2, &o.attr);
			fuse_reply(h->fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = { .attr_valid = 3600 };

			fuse_attr_of(in->nodeid, &o.attr);
			fuse_reply(h->fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = { .fh = 1 };

			fuse_reply(h->fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *ri = body;
			size_t len = 0;
			uint64_t i;

			pthread_mutex_lock(&h->lock);
			h->held = true;
			pthread_cond_broadcast(&h->cond);
			while (!h->release)
				pthread_cond_wait(&h->cond, &h->lock);
			pthread_mutex_unlock(&h->lock);
			if (ri->offset < LEN)
				len = ri->size < LEN - ri->offset ?
				      ri->size : LEN - ri->offset;
			for (i = 0; i < len; i++)
				fuse_data[i] = pattern(ri->offset + i,
						       SEED_FILE);
			fuse_reply(h->fd, in->unique, 0, fuse_data, len);
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;		/* no reply */
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			fuse_reply(h->fd, in->unique, 0, NULL, 0);
			break;
		default:
			fuse_reply(h->fd, in->unique, -ENOSYS, NULL, 0);
		}
	}
}

/* Mount a FUSE file system of one file, "f", served by a thread. */
static int fuse_hold_start(struct fuse_hold *h)
{
	char opts[128];

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	strcpy(h->dir, "/tmp/odp-fuse-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	h->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (h->fd < 0)
		return -1;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", h->fd);
	if (mount("odp-fuse", h->dir, "fuse", MS_NOSUID | MS_NODEV, opts))
		return -1;
	return pthread_create(&h->thread, NULL, fuse_serve, h) ? -1 : 0;
}

/* Wait up to @secs for a READ to be held. */
static bool fuse_hold_wait(struct fuse_hold *h, int secs)
{
	struct timespec t;
	bool held;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += secs;
	pthread_mutex_lock(&h->lock);
	while (!h->held &&
	       pthread_cond_timedwait(&h->cond, &h->lock, &t) != ETIMEDOUT)
		;
	held = h->held;
	pthread_mutex_unlock(&h->lock);
	return held;
}

static void fuse_hold_release(struct fuse_hold *h)
{
	pthread_mutex_lock(&h->lock);
	h->release = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static void fuse_hold_stop(struct fuse_hold *h)
{
	fuse_hold_release(h);
	umount2(h->dir, MNT_DETACH);
	if (h->thread)
		pthread_join(h->thread, NULL);
	if (h->fd > 0)
		close(h->fd);
	rmdir(h->dir);
}

/* ---- dereg-during-blocked-fault --------------------------------------- */

/*
 * The requester and the responder on PDs of their own, so that the
 * responder's QP, MR and PD can all go while the requester waits.
 */
FIXTURE(blocked_fault) {
	struct ibv_context *ctx;
	struct ibv_pd *pd[2];
	struct ibv_cq *cq[2];
	struct ibv_qp *qp[2];
	struct ibv_mr *src_mr, *mr;
	unsigned char *src, *file;
	struct fuse_hold fuse;
	int file_fd;
};

FIXTURE_VARIANT(blocked_fault) {
	bool qp_pd;	/* also destroy the responder's QP, CQ and PD */
};

FIXTURE_VARIANT_ADD(blocked_fault, dereg) { .qp_pd = false };
FIXTURE_VARIANT_ADD(blocked_fault, dereg_qp_pd) { .qp_pd = true };

FIXTURE_SETUP(blocked_fault)
{
	char path[96];
	union ibv_gid gid;
	int i;

	self->file_fd = -1;
	ASSERT_GE(loop_find_gid(), 0);
	ASSERT_EQ(fuse_hold_start(&self->fuse), 0)
		TH_LOG("FUSE mount: %s (CONFIG_FUSE_FS?)", strerror(errno));
	snprintf(path, sizeof(path), "%s/f", self->fuse.dir);
	self->file_fd = open(path, O_RDWR);
	ASSERT_GE(self->file_fd, 0) TH_LOG("open %s: %s", path, strerror(errno));
	/* Private: the device's write would land in a copy, never the file. */
	self->file = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			  self->file_fd, 0);
	ASSERT_NE(self->file, MAP_FAILED);

	self->ctx = loop_open();
	ASSERT_NE(self->ctx, NULL);
	ASSERT_EQ(ibv_query_gid(self->ctx, 1, loop_gid, &gid), 0);
	for (i = 0; i < 2; i++) {
		struct ibv_qp_init_attr ia = {
			.qp_type = IBV_QPT_RC,
			.cap = { .max_send_wr = 4, .max_recv_wr = 4,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		self->pd[i] = ibv_alloc_pd(self->ctx);
		ASSERT_NE(self->pd[i], NULL);
		self->cq[i] = ibv_create_cq(self->ctx, 8, NULL, NULL, 0);
		ASSERT_NE(self->cq[i], NULL);
		ia.send_cq = ia.recv_cq = self->cq[i];
		self->qp[i] = ibv_create_qp(self->pd[i], &ia);
		ASSERT_NE(self->qp[i], NULL);
	}
	ASSERT_EQ(loop_qp_to_rts(self->qp[0], self->qp[1]->qp_num, &gid,
				 IBV_MTU_1024, 4), 0);
	ASSERT_EQ(loop_qp_to_rts(self->qp[1], self->qp[0]->qp_num, &gid,
				 IBV_MTU_1024, 4), 0);

	self->src = map_anon(PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(self->src, NULL);
	fill(self->src, PAGE, SEED_RDMA);
	self->src_mr = ibv_reg_mr(self->pd[0], self->src, PAGE,
				  IBV_ACCESS_LOCAL_WRITE);
	ASSERT_NE(self->src_mr, NULL);
	/* Registration faults nothing: the file is not read yet. */
	self->mr = ibv_reg_mr(self->pd[1], self->file, LEN,
			      ACCESS_ALL | IBV_ACCESS_ON_DEMAND);
	ASSERT_NE(self->mr, NULL) TH_LOG("ODP reg: %s", strerror(errno));
}

FIXTURE_TEARDOWN(blocked_fault)
{
	int i;

	fuse_hold_release(&self->fuse);
	if (self->mr)
		ibv_dereg_mr(self->mr);
	if (self->src_mr)
		ibv_dereg_mr(self->src_mr);
	for (i = 0; i < 2; i++) {
		if (self->qp[i])
			ibv_destroy_qp(self->qp[i]);
		if (self->cq[i])
			ibv_destroy_cq(self->cq[i]);
		if (self->pd[i])
			ibv_dealloc_pd(self->pd[i]);
	}
	if (self->ctx)
		ibv_close_device(self->ctx);
	if (self->file && self->file != MAP_FAILED)
		munmap(self->file, LEN);
	if (self->file_fd >= 0)
		close(self->file_fd);
	fuse_hold_stop(&self->fuse);
}

struct teardown_job {
	FIXTURE_DATA(blocked_fault) *f;
	bool qp_pd;
	int go[2];		/* a pipe: one byte starts the teardown */
	int err;
	volatile bool done;
};

/*
 * Deregister the responder's MR (and destroy its QP, CQ and PD), once told
 * to.  The thread exists before the fault: while the fault sleeps it holds
 * the mmap lock for read, and creating a thread (its stack) needs it for
 * writing.
 */
static void *teardown_responder(void *arg)
{
	struct teardown_job *j = arg;
	char c;

	if (read(j->go[0], &c, 1) != 1) {
		j->err = EIO;
		j->done = true;
		return NULL;
	}
	j->err = ibv_dereg_mr(j->f->mr);
	if (!j->err)
		j->f->mr = NULL;
	if (!j->err && j->qp_pd) {
		j->err = ibv_destroy_qp(j->f->qp[1]) ?:
			 ibv_destroy_cq(j->f->cq[1]) ?:
			 ibv_dealloc_pd(j->f->pd[1]);
		if (!j->err)
			j->f->qp[1] = NULL, j->f->cq[1] = NULL, j->f->pd[1] = NULL;
	}
	j->done = true;
	return NULL;
}

TEST_F_TIMEOUT(blocked_fault, dereg_during_blocked_fault, 240)
{
	struct teardown_job job = { .f = self, .qp_pd = variant->qp_pd };
	int hold = getenv("HOLD_SECS") ? atoi(getenv("HOLD_SECS")) : 1;
	struct ibv_sge sge = {
		.addr = (uintptr_t)self->src, .length = PAGE,
		.lkey = self->src_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_RDMA_WRITE, .sg_list = &sge, .num_sge = 1,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = (uintptr_t)self->file + PAGE,
			     .rkey = self->mr->rkey },
	}, *bad;
	pthread_t t;
	int st, i;

	ASSERT_EQ(pipe(job.go), 0);
	ASSERT_EQ(pthread_create(&t, NULL, teardown_responder, &job), 0);
	ASSERT_EQ(ibv_post_send(self->qp[0], &wr, &bad), 0);
	if (!fuse_hold_wait(&self->fuse, 30)) {
		close(job.go[1]);
		pthread_join(t, NULL);
		ASSERT_TRUE(false) TH_LOG("the responder's fault never reached the FUSE server");
	}

	/* The fault sleeps in the FUSE read: take the responder down. */
	ASSERT_EQ(write(job.go[1], "g", 1), 1);
	sleep(hold);
	TH_LOG("after %d s of a held fault, the teardown has %s", hold,
	       job.done ? "returned" : "not returned (it waits for the fault)");
	fuse_hold_release(&self->fuse);
	pthread_join(t, NULL);
	close(job.go[0]);
	close(job.go[1]);
	ASSERT_EQ(job.err, 0) TH_LOG("teardown: %s", strerror(job.err));

	st = wait_wc_full(self->cq[0], 30, NULL);
	ASSERT_EQ(st, IBV_WC_REM_ACCESS_ERR) TH_LOG("requester: %s", wc_name(st));
	/* The file's pages as the server gave them: the WRITE never landed. */
	for (i = 0; i < (int)LEN; i++)
		if (self->file[i] != pattern(i, SEED_FILE))
			break;
	ASSERT_EQ(i, (int)LEN) TH_LOG("byte %d of the file is %u, not %u", i,
				      self->file[i], pattern(i, SEED_FILE));
}

TEST_HARNESS_MAIN
