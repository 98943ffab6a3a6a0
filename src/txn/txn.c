/* SPDX-License-Identifier: ISC */
#include "txn/txn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txn/publish.h"
#include "txn/refdiff.h"
#include "txn/refs.h"
#include "txn/stage.h"
#include "txn/upper.h"
#include "txn/verifier.h"

/* How long the publish lock is waited for: publishing is short, so a longer wait means
 * something is stuck. */
#define LOCK_WAIT_MS 30000
/* An honest hook writes its whole request at once, and receive-pack asks once per push: a
 * hook that takes longer, or a session that asks more often, is not git's doing. */
#define REQUEST_WAIT_MS 60000
#define MAX_REQUESTS	1

/* The indexer (git indexes the staged packs) or the verifier (libgit2 checks them). */
static void start_cage(struct txn *t, struct verifier *cage)
{
	struct verifier_spec spec = {
	    t->opt.repo_path,	   t->opt.repo_fd,
	    t->session.stage_path, t->session.checked_path,
	    &t->opt.cfg->limits,   cage == &t->indexer ? t->opt.cfg->git : NULL};
	verifier_start(&spec, cage);
}

int txn_begin(struct txn *t, const struct txn_options *opt, const char *state_path,
	      struct error *err)
{
	*t = (struct txn){.opt = *opt};
	if (opt->cfg->limits.timeout)
		t->deadline_ms = clock_ms() + (long long)opt->cfg->limits.timeout * 1000;
	if (state_open(state_path, &t->state, err) != 0)
		return -1;
	state_repo_key(opt->repo_fd, t->key, sizeof(t->key));
	session_sweep(&t->state);
	if (session_begin(&t->state, t->key, &t->session, err) != 0)
		return -1;
	/* No lock: a session must not wait for another's long publish to begin. A mark in the
	 * middle of an append is read back from the start of that line (journal.c). */
	int rc = journal_mark(&t->state, t->key, &t->mark, err);
	/* The verifier and the updater start ahead of need: every push that changes a ref asks
	 * them. The indexer starts when there is something to index (index_objects): ahead, it
	 * took a CPU from receive-pack for nothing on a push without objects. */
	if (rc == 0 && opt->ahead) {
		start_cage(t, &t->verifier);
		struct publish_spec updater = {opt->cfg->git, opt->repo_path};
		publish_start(&updater, &t->updater);
	}
	t->updater.spec = (struct publish_spec){opt->cfg->git, opt->repo_path};
	return rc;
}

static void refuse_all(struct txn_ref *refs, size_t count, enum ref_refusal refusal,
		       const char *reason)
{
	for (size_t i = 0; i < count; i++)
		decide_refuse(&refs[i], refusal, "%s", reason);
}

/* In a push, receive-pack writes nothing but the pack (unpackLimit=1: never a copy-up of an
 * existing object, never a ref): anything else is a compromised git's. The first such entry,
 * as "PATH why", or NULL. */
static bool has(const struct strvec *list, const char *path)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], path) == 0)
			return true;
	return false;
}

/* Whether the session published path itself: an object it staged, or the index or reverse
 * index beside a pack it staged (the index published is the verifier's). */
static bool ours(const struct txn *t, const char *path)
{
	char pack[128];
	size_t len = strlen(path);
	if (has(&t->handled, path))
		return true;
	if (strncmp(path, "objects/pack/pack-", 18) != 0 || len != 62 ||
	    (strcmp(path + 58, ".idx") != 0 && strcmp(path + 58, ".rev") != 0))
		return false;
	snprintf(pack, sizeof(pack), "%.58s.pack", path);
	return has(&t->handled, pack);
}

/* A copy-up that is not one of ours: the upper layer keeps what the session published, and
 * the repository has it now. */
static const char *foreign_copy_up(const struct txn *t, const struct upper_scan *scan)
{
	for (size_t i = 0; i < scan->copy_ups.count; i++)
		if (!ours(t, scan->copy_ups.items[i]))
			return scan->copy_ups.items[i];
	return NULL;
}

static const char *outside_push(const struct txn *t, const struct upper_scan *scan, char *buf,
				size_t size)
{
	const char *copy_up = foreign_copy_up(t, scan);
	if (scan->refused.count)
		return scan->refused.items[0];
	if (scan->deletes.count)
		snprintf(buf, size, "%s deletes existing objects", scan->deletes.items[0]);
	else if (scan->refs.count)
		snprintf(buf, size, "%s was written by git itself", scan->refs.items[0]);
	else if (copy_up)
		snprintf(buf, size, "%s changes an existing object file", copy_up);
	else if (scan->loose.count)
		snprintf(buf, size, "%s is a loose object, and receive-pack keeps packs",
			 scan->loose.items[0]);
	else
		return NULL;
	return buf;
}

/* Sort what git wrote so far and copy the new objects out of its reach. */
static void stage_objects(struct txn *t, struct txn_ref *refs, size_t count)
{
	struct upper_scan scan;
	struct error err = {""};
	char what[512];
	const char *outside;
	if (upper_scan(t->session.upper_fd, t->opt.repo_fd, &scan, &err) != 0) {
		refuse_all(refs, count, REFUSAL_FAILED, err.message);
		return;
	}
	if (t->opt.strict && (outside = outside_push(t, &scan, what, sizeof(what)))) {
		snprintf(t->refusal, sizeof(t->refusal), "git wrote outside the push (%s)",
			 outside);
		refuse_all(refs, count, REFUSAL_SESSION, t->refusal);
	} else if (scan.deletes.count) {
		snprintf(t->refusal, sizeof(t->refusal),
			 "%s deletes existing objects (gc, repack or prune?): repository "
			 "maintenance is not done through gitcage",
			 scan.deletes.items[0]);
		refuse_all(refs, count, REFUSAL_SESSION, t->refusal);
	} else if (stage_copy(t->session.upper_fd, t->session.stage_fd, &scan,
			      t->opt.cfg->limits.filesize, &t->handled, &t->pending, &err) != 0) {
		refuse_all(refs, count, REFUSAL_OBJECTS, err.message);
	}
	upper_scan_free(&scan);
}

/* Each pending object once in handled, so that no later scan stages it again. */
static void remember_pending(struct txn *t, size_t from)
{
	for (size_t i = from; i < t->pending.count; i++)
		strvec_push(&t->handled, t->pending.items[i]);
}

static void build_check(const struct txn *t, const struct txn_ref *refs, size_t count,
			struct check_request *check, size_t *index)
{
	*check = (struct check_request){.max_blob_size = t->opt.policy->max_blob_size};
	for (size_t i = 0; t->opt.fsck_ignore && i < t->opt.fsck_ignore->count; i++)
		strvec_push(&check->fsck_ignore, t->opt.fsck_ignore->items[i]);
	for (size_t i = 0; i < t->pending.count; i++) {
		const char *path = t->pending.items[i];
		size_t len = strlen(path);
		if (strncmp(path, "objects/pack/", 13) != 0)
			strvec_push(&check->loose, path);
		else if (len > 5 && strcmp(path + len - 5, ".pack") == 0)
			strvec_push(&check->packs, path);
	}
	for (size_t i = 0; i < count; i++) {
		index[i] = SIZE_MAX;
		if (refs[i].refusal != REFUSAL_NONE || refs[i].unchanged)
			continue;
		index[i] = check->count;
		check_add_command(check, refs[i].old_id, refs[i].new_id, refs[i].ref,
				  refs[i].ask_ff);
	}
}

/* The indexes git made in the indexer's cage, copied into the stage beside their packs: they
 * are what the verifier reads and what is published (the index git wrote in the sandbox never
 * is). */
static int import_indexes(struct txn *t, const struct check_request *check, struct error *err)
{
	char idx[128];
	for (size_t i = 0; i < check->packs.count; i++) {
		const char *pack = check->packs.items[i];
		const char *name = strrchr(pack, '/') + 1;
		snprintf(idx, sizeof(idx), "%.45s.idx", name);
		if (stage_import(t->session.checked_fd, idx, t->session.stage_fd, pack, err) != 0)
			return -1;
		strvec_pushf(&t->pending, "%.58s.idx", pack);
	}
	return 0;
}

/* The first cage: git indexes and fsck's the staged objects. 0 with the indexes in the stage,
 * 1 when git refused them (every ref refused, with why), -1 with err. */
static int index_objects(struct txn *t, const struct check_request *check, struct txn_ref *refs,
			 size_t count, struct error *err)
{
	struct check_request objects = {.fsck =
					    t->opt.strict ? CHECK_FSCK_STRICT : CHECK_FSCK_OBJECTS};
	for (size_t i = 0; i < check->fsck_ignore.count; i++)
		strvec_push(&objects.fsck_ignore, check->fsck_ignore.items[i]);
	for (size_t i = 0; i < check->packs.count; i++)
		strvec_push(&objects.packs, check->packs.items[i]);
	for (size_t i = 0; i < check->loose.count; i++)
		strvec_push(&objects.loose, check->loose.items[i]);
	if (!t->indexer.running)
		start_cage(t, &t->indexer);
	int rc = verifier_ask(&t->indexer, &objects, &t->stop_signal, err);
	if (rc == 0 && !objects.objects_ok) {
		for (size_t i = 0; i < count; i++)
			decide_refuse(&refs[i], REFUSAL_OBJECTS, "%s", objects.objects_reason);
		rc = 1;
	} else if (rc == 0) {
		rc = import_indexes(t, check, err);
	}
	check_request_free(&objects);
	return rc;
}

/* The facts, from the caged verifier; NULL when there is nothing to verify (deletions), or
 * when every ref is refused already. */
static struct check_request *verify(struct txn *t, struct txn_ref *refs, size_t count,
				    struct check_request *check, size_t *index)
{
	struct error err = {""};
	bool needed = t->pending.count > 0;
	build_check(t, refs, count, check, index);
	for (size_t i = 0; i < count; i++)
		needed |= index[i] != SIZE_MAX && strcmp(refs[i].new_id, relay_zero_id) != 0;
	if (!needed || check->count == 0)
		return NULL;
	int indexed = check->packs.count || check->loose.count
			  ? index_objects(t, check, refs, count, &err)
			  : 0;
	if (indexed == 1)
		return NULL;
	if (indexed == 0) {
		if (!t->verifier.running)
			start_cage(t, &t->verifier);
		if (verifier_ask(&t->verifier, check, &t->stop_signal, &err) == 0)
			return check;
	}
	for (size_t i = 0; i < count; i++)
		decide_refuse(&refs[i], REFUSAL_FAILED, "cannot be verified: %s", err.message);
	return NULL;
}

/* Step 4, under the lock: objects in, then the journal, then the refs. */
static void publish(struct txn *t, struct txn_ref *refs, size_t count, bool atomic)
{
	struct error err = {""};
	struct journal_entry *entries = xcalloc(count, sizeof(*entries));
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (refs[i].refusal == REFUSAL_NONE && !refs[i].unchanged) {
			memcpy(entries[n].old_id, refs[i].old_id, sizeof(entries[n].old_id));
			memcpy(entries[n].new_id, refs[i].new_id, sizeof(entries[n].new_id));
			entries[n++].ref = refs[i].ref;
		}
	/* The journal before the refs: a publish cut short then still counts as a move for
	 * every session that began before it. */
	if (n && (stage_publish(t->session.stage_fd, t->opt.repo_fd, &t->pending, &err) != 0 ||
		  journal_append(&t->state, t->key, entries, n, &err) != 0)) {
		for (size_t i = 0; i < count; i++)
			decide_refuse(&refs[i], REFUSAL_FAILED, "not published: %s", err.message);
	} else if (n) {
		strvec_free(&t->pending);
		t->published += publish_refs(&t->updater, refs, count, atomic);
	}
	free(entries);
}

static void decide_locked(struct txn *t, struct txn_ref *refs, size_t count,
			  const struct check_request *facts, const size_t *index, bool atomic)
{
	struct error err = {""};
	struct journal_changes changes = {0};
	char(*current)[RELAY_OID_HEX + 1] = xcalloc(count, sizeof(*current));
	enum ref_kind *kind = xcalloc(count, sizeof(*kind));
	int lock = journal_lock(&t->state, t->key, LOCK_EX, LOCK_WAIT_MS, &err);
	if (lock < 0 || journal_since(&t->state, t->key, &t->mark, &changes, &err) != 0) {
		refuse_all(refs, count, REFUSAL_FAILED, err.message);
	} else {
		for (size_t i = 0; i < count; i++)
			if (!refs[i].unchanged)
				kind[i] = refs_current(t->opt.repo_fd, refs[i].ref, current[i]);
		decide_after(&t->opt.decide, refs, count, facts, index, &changes, current, kind);
		if (atomic)
			decide_atomic(refs, count);
		publish(t, refs, count, atomic);
	}
	if (lock >= 0)
		close(lock);
	journal_changes_free(&changes);
	free(current);
	free(kind);
}

/* The whole decision for one request, its answer in answer. */
static void handle(struct txn *t, const struct relay_request *req, struct txn_ref *refs,
		   struct relay_answer *answer)
{
	struct check_request check = {0};
	size_t *index = xcalloc(req->count, sizeof(*index));
	size_t had = t->pending.count;
	bool atomic = req->atomic;
	long long began = clock_us();
	stage_objects(t, refs, req->count);
	remember_pending(t, had);
	decide_before(&t->opt.decide, refs, req->count);
	long long staged = clock_us();
	struct check_request *facts = verify(t, refs, req->count, &check, index);
	long long verified = clock_us();
	decide_locked(t, refs, req->count, facts, index, atomic);
	t->phases.stage_us += staged - began;
	t->phases.verify_us += verified - staged;
	t->phases.publish_us += clock_us() - verified;
	for (size_t i = 0; i < req->count; i++) {
		struct relay_verdict *v = &answer->verdicts[i];
		v->ok = refs[i].refusal == REFUSAL_NONE;
		snprintf(v->reason, sizeof(v->reason), "%s", refs[i].reason);
		if (v->ok)
			continue;
		if (refs[i].refusal == REFUSAL_RULE)
			strvec_pushf(&answer->messages, "gitcage: %s", refs[i].reason);
		else
			strvec_pushf(&answer->messages, "error: gitcage: %s not published: %s",
				     refs[i].ref, refs[i].reason);
	}
	check_request_free(&check);
	free(index);
}

/* Keep the request's refs for the audit record, with their fates. */
static struct txn_ref *add_refs(struct txn *t, const struct relay_request *req)
{
	grow_array(&t->refs, &t->ref_cap, t->ref_count + req->count, sizeof(*t->refs));
	struct txn_ref *refs = t->refs + t->ref_count;
	for (size_t i = 0; i < req->count; i++) {
		refs[i] = (struct txn_ref){.ref = xstrdup(req->commands[i].ref)};
		memcpy(refs[i].old_id, req->commands[i].old_id, sizeof(refs[i].old_id));
		memcpy(refs[i].new_id, req->commands[i].new_id, sizeof(refs[i].new_id));
	}
	t->ref_count += req->count;
	return refs;
}

/* Read one request from a channel, with a deadline: the hook runs inside the sandbox and
 * may never finish its sentence. */
static int read_request(int fd, long long deadline_ms, struct strbuf *in)
{
	char chunk[16384];
	while (!in->len || !relay_complete(in->data, in->len)) {
		long long left = deadline_ms - clock_ms();
		struct pollfd pfd = {fd, POLLIN, 0};
		if (left <= 0 || poll(&pfd, 1, (int)(left > 60000 ? 60000 : left)) <= 0)
			return -1;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || in->len + (size_t)n > RELAY_MAX_BYTES)
			return -1;
		strbuf_add(in, chunk, (size_t)n);
	}
	return 0;
}

/* The answer, within a deadline: a hook that never reads must not hold the publisher (and,
 * through it, the session's timeout and its stop signals). A hook that went away learns
 * nothing. */
static void write_answer(int fd, long long deadline_ms, const struct strbuf *out)
{
	for (size_t done = 0; done < out->len;) {
		long long left = deadline_ms - clock_ms();
		struct pollfd pfd = {fd, POLLOUT, 0};
		if (left <= 0 || poll(&pfd, 1, (int)(left > 60000 ? 60000 : left)) <= 0)
			return;
		ssize_t n = write(fd, out->data + done, out->len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		done += (size_t)n;
	}
}

/* A channel is a unix stream socket, as the hook makes it; anything else (a FIFO, a file, the
 * control socket itself) is not a hook's. It is read and written without blocking. */
static bool usable_channel(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
		return false;
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX)
		return false;
	int flags = fcntl(fd, F_GETFL);
	return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* A channel's deadline: soon, and never past the session's own (the sandbox's timeout cannot
 * fire while the publisher talks to a hook). */
static long long channel_deadline(const struct txn *t)
{
	long long soon = clock_ms() + REQUEST_WAIT_MS;
	return t->deadline_ms && t->deadline_ms < soon ? t->deadline_ms : soon;
}

static void serve_channel(struct txn *t, int fd)
{
	struct strbuf in = {0}, out = {0};
	struct relay_request req;
	struct error err = {""};
	/* receive-pack asks once per push; more requests would only hold the publisher's memory.
	 * Unanswered, the hook refuses everything itself. */
	if (++t->requests > MAX_REQUESTS || !usable_channel(fd))
		return;
	if (read_request(fd, channel_deadline(t), &in) != 0 ||
	    relay_parse_request(in.data, in.len, &req, &err) != 0) {
		/* Nothing to answer: the hook then refuses everything itself. */
		strbuf_free(&in);
		return;
	}
	struct txn_ref *refs = add_refs(t, &req);
	struct relay_answer answer = {.verdicts = xcalloc(req.count, sizeof(*answer.verdicts))};
	handle(t, &req, refs, &answer);
	relay_format_answer(&req, &answer, &out);
	write_answer(fd, channel_deadline(t), &out);
	relay_answer_free(&answer);
	relay_request_free(&req);
	strbuf_free(&in);
	strbuf_free(&out);
}

/* One control message: a byte, and the channel of one hook call. */
static int receive_channel(int control_fd)
{
	char byte, control[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	ssize_t n = recvmsg(control_fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == 0)
		return -2; /* every copy of the other end is closed: git is done */
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : -2;
	int channel = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < fds; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (channel < 0)
				channel = fd;
			else
				close(fd); /* one channel a message; more is noise */
		}
	}
	return channel;
}

int txn_on_relay(void *payload, int control_fd)
{
	struct txn *t = payload;
	int channel = receive_channel(control_fd);
	if (channel == -2)
		return 1;
	if (channel >= 0) {
		serve_channel(t, channel);
		close(channel);
	}
	return t->stop_signal ? -1 : 0;
}

int txn_publish_run(struct txn *t, struct error *err)
{
	struct ref_listing real = {0}, view = {0};
	struct journal_changes changes = {0};
	struct relay_request req = {0};
	const struct txn_options *o = &t->opt;
	int rc = refdiff_list_view(o->cfg->git, o->repo_path, o->repo_fd, &t->session,
				   &o->cfg->limits, &view, err);
	int lock = rc == 0 ? journal_lock(&t->state, t->key, LOCK_SH, LOCK_WAIT_MS, err) : -1;
	rc = lock >= 0 && journal_since(&t->state, t->key, &t->mark, &changes, err) == 0 &&
		     refdiff_list_real(o->cfg->git, o->repo_path, &real, err) == 0
		 ? 0
		 : -1;
	if (lock >= 0)
		close(lock);
	if (rc == 0)
		refdiff_commands(&real, &view, &changes, &req);
	if (rc == 0 && req.count) {
		struct txn_ref *refs = add_refs(t, &req);
		struct relay_answer answer = {.verdicts =
						  xcalloc(req.count, sizeof(*answer.verdicts))};
		handle(t, &req, refs, &answer);
		relay_answer_free(&answer);
	}
	relay_request_free(&req);
	journal_changes_free(&changes);
	refdiff_free(&real);
	refdiff_free(&view);
	return rc;
}

void txn_finish(struct txn *t)
{
	verifier_stop(&t->indexer);
	verifier_stop(&t->verifier);
	publish_stop(&t->updater);
	struct upper_scan scan;
	struct error err = {""};
	if (t->session.upper_fd >= 0 &&
	    upper_scan(t->session.upper_fd, t->opt.repo_fd, &scan, &err) == 0) {
		for (size_t i = 0; i < scan.refused.count; i++)
			strvec_push(&t->discarded, scan.refused.items[i]);
		/* In a push, receive-pack writes no ref itself and changes no existing file. */
		for (size_t i = 0; t->opt.strict && i < scan.refs.count; i++)
			strvec_pushf(&t->discarded, "%s was written by git itself",
				     scan.refs.items[i]);
		for (size_t i = 0; t->opt.strict && i < scan.deletes.count; i++)
			strvec_pushf(&t->discarded, "%s deletes existing objects",
				     scan.deletes.items[i]);
		for (size_t i = 0; t->opt.strict && i < scan.copy_ups.count; i++)
			if (!ours(t, scan.copy_ups.items[i]))
				strvec_pushf(&t->discarded, "%s changes an existing object file",
					     scan.copy_ups.items[i]);
		t->deletes = scan.deletes.count > 0;
		upper_scan_free(&scan);
	}
	session_end(&t->session);
	state_close(&t->state);
}

void txn_free(struct txn *t)
{
	for (size_t i = 0; i < t->ref_count; i++)
		free(t->refs[i].ref);
	free(t->refs);
	strvec_free(&t->pending);
	strvec_free(&t->handled);
	strvec_free(&t->discarded);
}
