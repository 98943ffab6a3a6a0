/* SPDX-License-Identifier: ISC */
#include "txn/decide.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool is_zero(const char *id)
{
	return strcmp(id, relay_zero_id) == 0;
}

void decide_refuse(struct txn_ref *ref, enum ref_refusal refusal, const char *fmt, ...)
{
	va_list ap;
	if (ref->refusal != REFUSAL_NONE)
		return; /* the first reason is the one the client sees */
	ref->refusal = refusal;
	va_start(ap, fmt);
	vsnprintf(ref->reason, sizeof(ref->reason), fmt, ap);
	va_end(ap);
}

static const char *perm_words(enum acl_perm perm)
{
	switch (perm) {
	case ACL_CREATE:
		return "create";
	case ACL_DELETE:
		return "delete";
	case ACL_REWIND:
		return "rewind";
	default:
		return "push to";
	}
}

static bool allows(const struct decide_context *ctx, enum acl_perm perm, const char *ref)
{
	return !ctx->rules ||
	       acl_check_ref(ctx->cfg, ctx->repo, ctx->creator, ctx->user, perm, ref, NULL);
}

static void refuse_rule(const struct decide_context *ctx, struct txn_ref *ref, enum acl_perm perm)
{
	decide_refuse(ref, REFUSAL_RULE, "%s may not %s %s", ctx->user, perm_words(perm), ref->ref);
}

/* git's rules for a ref's name (git-check-ref-format(1)), under refs/: no component that
 * starts with '.' or ends with ".lock", no "..", "//" or "@{", no control character, space,
 * ~ ^ : ? * [ or backslash, and no '/' or '.' at the end. The verifier asks libgit2 too; this
 * is for the updates it never sees (deletions, no-ops), so that none is audited, notified or
 * handed to git update-ref under a name git would not make. */
static bool refname_valid(const char *name)
{
	size_t len = strlen(name);
	if (strncmp(name, "refs/", 5) != 0 || name[len - 1] == '/' || name[len - 1] == '.' ||
	    strstr(name, "..") || strstr(name, "//") || strstr(name, "@{") || strstr(name, "/.") ||
	    strstr(name, ".lock/") || (len >= 5 && strcmp(name + len - 5, ".lock") == 0))
		return false;
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr(" ~^:?*[\\", *c))
			return false;
	return true;
}

void decide_before(const struct decide_context *ctx, struct txn_ref *refs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct txn_ref *ref = &refs[i];
		if (!refname_valid(ref->ref)) {
			decide_refuse(ref, REFUSAL_NAME,
				      strncmp(ref->ref, "refs/", 5) != 0 ? "not a ref under refs/"
									 : "not a valid ref name");
			continue;
		}
		if (ref->unchanged)
			continue;
		ref->perm = is_zero(ref->old_id)   ? ACL_CREATE
			    : is_zero(ref->new_id) ? ACL_DELETE
						   : ACL_WRITE;
		if (ref->perm != ACL_WRITE) {
			if (!allows(ctx, ref->perm, ref->ref))
				refuse_rule(ctx, ref, ref->perm);
		} else if (allows(ctx, ACL_REWIND, ref->ref)) {
			ref->perm = ACL_REWIND; /* may do either: no need to know which */
		} else if (strncmp(ref->ref, "refs/tags/", 10) == 0) {
			/* Moving a tag rewrites what it promised, fast-forward or not (gitolite).
			 */
			refuse_rule(ctx, ref, ACL_REWIND);
		} else if (allows(ctx, ACL_WRITE, ref->ref)) {
			ref->ask_ff = true;
		} else {
			refuse_rule(ctx, ref, ACL_WRITE);
		}
	}
}

/* What the verifier found about one ref's new value. */
static void apply_facts(const struct decide_context *ctx, struct txn_ref *ref,
			const struct check_request *facts, const struct check_command *cmd)
{
	if (!cmd->name_valid) {
		decide_refuse(ref, REFUSAL_NAME, "not a valid ref name");
	} else if (!facts->objects_ok) {
		decide_refuse(ref, REFUSAL_OBJECTS, "%s", facts->objects_reason);
	} else if (ref->perm == ACL_DELETE) {
		return;
	} else if (!cmd->exists) {
		decide_refuse(ref, REFUSAL_MISSING, "points to a missing object");
	} else if (strncmp(ref->ref, "refs/heads/", 11) == 0 && strcmp(cmd->type, "commit")) {
		decide_refuse(ref, REFUSAL_TYPE, "a branch must point to a commit, not a %s",
			      cmd->type);
	} else if (ref->ask_ff && cmd->ff != CHECK_FF_YES) {
		refuse_rule(ctx, ref, ACL_REWIND);
	}
}

/* The value the session saw must still be the ref's: nothing published since the session
 * began may have touched it, and the repository must hold it now. */
static void check_unmoved(struct txn_ref *ref, const struct journal_changes *changes,
			  const char *current, enum ref_kind kind)
{
	static const char moved[] = "it moved while this push ran; fetch and push again";
	if (changes->lost || journal_find(changes, ref->ref))
		decide_refuse(ref, REFUSAL_MOVED, moved);
	else if (kind == REF_SYMBOLIC)
		decide_refuse(ref, REFUSAL_SYMBOLIC,
			      "a symbolic ref in this repository; push to its target");
	else if (kind == REF_UNREADABLE)
		decide_refuse(ref, REFUSAL_FAILED, "cannot be read in the repository");
	else if (strcmp(current, ref->old_id) != 0)
		decide_refuse(ref, REFUSAL_MOVED, moved);
}

void decide_after(const struct decide_context *ctx, struct txn_ref *refs, size_t count,
		  const struct check_request *facts, const size_t *fact_index,
		  const struct journal_changes *changes, char (*current)[RELAY_OID_HEX + 1],
		  const enum ref_kind *current_kind)
{
	for (size_t i = 0; i < count; i++) {
		struct txn_ref *ref = &refs[i];
		if (ref->refusal != REFUSAL_NONE || ref->unchanged)
			continue;
		if (strcmp(ref->old_id, ref->new_id) == 0 &&
		    (current_kind[i] == REF_OID || current_kind[i] == REF_ABSENT) &&
		    strcmp(current[i], ref->new_id) == 0) {
			ref->unchanged = true; /* a no-op, and true: nothing to do */
			continue;
		}
		if (facts && fact_index[i] < facts->count)
			apply_facts(ctx, ref, facts, &facts->commands[fact_index[i]]);
		else if (ref->perm != ACL_DELETE)
			decide_refuse(ref, REFUSAL_FAILED, "was not verified");
		check_unmoved(ref, changes, current[i], current_kind[i]);
	}
}

void decide_atomic(struct txn_ref *refs, size_t count)
{
	const struct txn_ref *first = NULL;
	for (size_t i = 0; i < count && !first; i++)
		if (refs[i].refusal != REFUSAL_NONE)
			first = &refs[i];
	if (!first)
		return;
	for (size_t i = 0; i < count; i++)
		decide_refuse(&refs[i], REFUSAL_ATOMIC, "atomic push: %s was refused", first->ref);
}

enum audit_verdict decide_verdict(const struct txn_ref *ref)
{
	if (ref->refusal == REFUSAL_NONE)
		return AUDIT_OK;
	return ref->refusal == REFUSAL_FAILED ? AUDIT_FAILED : AUDIT_REFUSED;
}
