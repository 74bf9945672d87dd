/*
 * non_root.c - non-root: the final stage ends with a non-root USER
 * (hadolint DL3002).
 *
 * The user is the image's own when the table names one (node, .NET's app,
 * distroless :nonroot), one the Dockerfile already creates, or a system
 * user created for the purpose ("app", with addgroup/adduser on Alpine and
 * groupadd/useradd elsewhere), whose app files are copied with --chown.
 * Left alone, and reported: a USER the Dockerfile already chose, images
 * whose process needs root (nginx/httpd serve ports < 1024; database
 * entrypoints drop privileges themselves), daemons that start as root,
 * base images (no CMD/ENTRYPOINT), Windows images, and bases dfix cannot
 * create a user on. A port < 1024 is named in the finding, not a reason
 * to stay root: Docker 20.10+ and containerd 2 let any user bind it.
 */
#include <string.h>

#include "imageref.h"
#include "internal.h"
#include "shell.h"

struct nr {
	struct df_ctx *ctx;
	struct df_doc *doc;
	struct df_stage *st;
	size_t ns;
	size_t fs;      /* final stage */
	uint32_t line;  /* of its FROM */
};

static const struct df_inst *inst_at(struct nr *n, size_t i)
{
	const struct df_node *nd = &n->doc->nodes[i];

	return nd->kind == DF_INSTRUCTION ? nd->inst : NULL;
}

static int is_root_user(struct df_span u)
{
	size_t c = 0;

	while (c < u.len && u.ptr[c] != ':')
		c++;
	u.len = c;
	return df_span_eq(u, "root") || df_span_eq(u, "0");
}

/* The stages the final image is built on, root first (at most ns). */
static size_t lineage(struct nr *n, size_t *out)
{
	size_t k = 0, s = n->fs, i;

	for (;;) {
		struct df_from f;

		out[k++] = s;
		if (df_from_read(n->doc, n->st, n->ns, s, &f) < 0 || f.stage < 0 ||
		    (size_t)f.stage >= s || k == n->ns)
			break;
		s = (size_t)f.stage;
	}
	for (i = 0; i < k / 2; i++) {
		size_t t = out[i];

		out[i] = out[k - 1 - i];
		out[k - 1 - i] = t;
	}
	return k;
}

/* Where USER goes: after the last RUN, COPY, ADD, WORKDIR or USER of the
 * stage; in a stage without them, before its CMD or ENTRYPOINT. */
static size_t user_slot(struct nr *n)
{
	size_t i, at = n->st[n->fs].from + 1;

	for (i = n->st[n->fs].from + 1; i < n->st[n->fs].end; i++) {
		const struct df_inst *inst = inst_at(n, i);

		if (inst && (inst->cmd == DF_CMD_RUN || inst->cmd == DF_CMD_COPY ||
			     inst->cmd == DF_CMD_ADD || inst->cmd == DF_CMD_WORKDIR ||
			     inst->cmd == DF_CMD_USER))
			at = i + 1;
	}
	if (at == n->st[n->fs].from + 1)
		for (i = at; i < n->st[n->fs].end; i++) {
			const struct df_inst *inst = inst_at(n, i);

			if (inst && (inst->cmd == DF_CMD_CMD || inst->cmd == DF_CMD_ENTRYPOINT))
				return df_doc_owned_start(n->doc, i);
		}
	return at;
}

static int insert_user(struct nr *n, const char *user)
{
	char text[300];

	snprintf(text, sizeof(text), "USER %s", user);
	return df_doc_insert(n->doc, user_slot(n), text, strlen(text));
}

/* A user the stages create with useradd/adduser but never switch to. */
static int created_user(struct nr *n, const size_t *lin, size_t nl, char *buf, size_t cap)
{
	static const char *const with_value[] = {
		"-g", "-G", "-u", "-d", "-s", "-c", "-k", "-K", "-e", "-f", "-p", "-h",
		"--gid", "--groups", "--uid", "--home-dir", "--home", "--shell", "--comment",
		"--gecos", "--ingroup", "--skel", "--key", "--expiredate", "--inactive",
		"--password", "--firstuid", "--lastuid", "--add_extra_groups",
	};
	size_t k, i, c, j, v;
	int found = 0;

	for (k = 0; k < nl; k++)
		for (i = n->st[lin[k]].from + 1; i < n->st[lin[k]].end; i++) {
			const struct df_inst *inst = inst_at(n, i);
			struct df_sh_script sc;
			const char *base;

			if (!inst || inst->cmd != DF_CMD_RUN || inst->json ||
			    df_sh_parse_rest(n->doc, inst, &sc) < 0)
				continue;
			base = inst->rest.ptr;
			for (c = 0; c < sc.ncmds; c++) {
				const struct df_sh_cmd *cmd = &sc.cmds[c];
				int ni = cmd->kind == DF_SH_SIMPLE ? df_sh_cmd_name(base, cmd) : -1;
				const char *name = NULL, *w;

				if (ni < 0 || !(w = df_sh_unquote(&n->doc->arena, base,
								   &cmd->words[ni], NULL)))
					continue;
				if (strrchr(w, '/'))
					w = strrchr(w, '/') + 1;
				if (strcmp(w, "useradd") != 0 && strcmp(w, "adduser") != 0)
					continue;
				for (j = (size_t)ni + 1; j < cmd->nwords; j++) {
					const char *a = df_sh_unquote(&n->doc->arena, base,
								      &cmd->words[j], NULL);

					if (!a || (cmd->words[j].flags & DF_SH_REDIR))
						break;
					if (a[0] != '-') {
						name = a;
						continue;
					}
					for (v = 0; v < sizeof(with_value) / sizeof(with_value[0]); v++)
						if (strcmp(a, with_value[v]) == 0)
							j++;
				}
				/* busybox `adduser [opts] user [group]`: the first name */
				if (name && strcmp(w, "adduser") == 0) {
					for (j = (size_t)ni + 1; j < cmd->nwords; j++) {
						const char *a = df_sh_unquote(&n->doc->arena, base,
									      &cmd->words[j], NULL);

						if (!a)
							break;
						if (a[0] != '-') {
							name = a;
							break;
						}
						for (v = 0; v < sizeof(with_value) / sizeof(with_value[0]);
						     v++)
							if (strcmp(a, with_value[v]) == 0)
								j++;
					}
				}
				if (name && strspn(name, "abcdefghijklmnopqrstuvwxyz"
						   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(name) &&
				    strlen(name) < cap) {
					snprintf(buf, cap, "%s", name);
					found = 1;
				}
			}
		}
	return found;
}

static int system_dest(struct df_span d)
{
	static const char *const dirs[] = {
		"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/root", "/var/lib/apt",
	};
	size_t k;

	for (k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		size_t l = strlen(dirs[k]);

		if (d.len >= l && memcmp(d.ptr, dirs[k], l) == 0 && (d.len == l || d.ptr[l] == '/'))
			return 1;
	}
	return 0;
}

/* COPY/ADD of app files in the final stage get --chown=owner. */
static int chown_copies(struct nr *n, const char *owner)
{
	size_t i, f;
	int count = 0;

	for (i = n->st[n->fs].from + 1; i < n->st[n->fs].end; i++) {
		const struct df_inst *inst = inst_at(n, i);
		struct df_edits e = { 0 };
		char flag[200];
		size_t off, s, en;
		int has = 0;

		if (!inst || (inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD) || !inst->nargs ||
		    df_pass_ignored(n->ctx, n->doc, i))
			continue;
		for (f = 0; f < inst->nflags; f++)
			if (inst->flags[f].len >= 7 && memcmp(inst->flags[f].ptr, "--chown", 7) == 0)
				has = 1;
		if (has || system_dest(inst->args[inst->nargs - 1]))
			continue;
		off = df_inst_log_off(inst, inst->keyword);
		if (off == (size_t)-1 || df_inst_range(inst, off, inst->keyword.len, &s, &en) < 0)
			continue;
		snprintf(flag, sizeof(flag), " --chown=%s", owner);
		df_edits_add(&e, en, en, flag, strlen(flag));
		if (df_edits_apply(n->doc, i, &e) == 0)
			count++;
	}
	return count;
}

/* The lowest port < 1024 the final stage EXPOSEs, or 0. */
static unsigned low_port(struct nr *n)
{
	size_t i, a, k;
	unsigned low = 0;

	for (i = n->st[n->fs].from + 1; i < n->st[n->fs].end; i++) {
		const struct df_inst *inst = inst_at(n, i);

		if (!inst || inst->cmd != DF_CMD_EXPOSE)
			continue;
		for (a = 0; a < inst->nargs; a++) {
			unsigned p = 0;

			for (k = 0; k < inst->args[a].len && k < 6; k++) {
				char c = inst->args[a].ptr[k];

				if (c < '0' || c > '9')
					break;
				p = p * 10 + (unsigned)(c - '0');
			}
			if (k > 0 && p > 0 && p < 1024 && (!low || p < low))
				low = p;
		}
	}
	return low;
}

/* distroless: the :nonroot tag of the same image. */
static int distroless_nonroot(struct nr *n, const struct df_from *f)
{
	const struct df_inst *inst = n->doc->nodes[f->idx].inst;
	struct df_edits e = { 0 };
	struct df_span tag = f->ref.tag;
	size_t off = df_inst_log_off(inst, f->word), s, en;
	char repl[100];

	if (f->has_var || f->ref.has_digest || off == (size_t)-1 ||
	    df_inst_range(inst, off, f->word.len, &s, &en) < 0)
		return -1;
	if (!f->ref.has_tag) {
		df_edits_add(&e, en, en, ":nonroot", 8);
	} else if (tag.len >= 6 && memcmp(tag.ptr, "latest", 6) == 0) {
		snprintf(repl, sizeof(repl), "nonroot%.*s", (int)(tag.len - 6), tag.ptr + 6);
		df_edits_add(&e, en - tag.len, en, repl, strlen(repl));
	} else if (tag.len >= 5 && memcmp(tag.ptr, "debug", 5) == 0 &&
		   !(tag.len >= 13 && memcmp(tag.ptr, "debug-nonroot", 13) == 0)) {
		snprintf(repl, sizeof(repl), "debug-nonroot%.*s", (int)(tag.len - 5), tag.ptr + 5);
		df_edits_add(&e, en - tag.len, en, repl, strlen(repl));
	} else {
		return -1;
	}
	return df_edits_apply(n->doc, f->idx, &e);
}

/* How to create a system user on this base: "apk", "apt", "rpm" or NULL. */
static const char *user_tool(struct nr *n, const size_t *lin, size_t nl,
			     const struct df_variant *v)
{
	size_t k, i;

	if (v && v->pkg) {
		if (strcmp(v->pkg, "apk") == 0)
			return "apk";
		if (strcmp(v->pkg, "apt") == 0)
			return "apt";
		if (strcmp(v->pkg, "dnf") == 0 || strcmp(v->pkg, "yum") == 0)
			return "rpm";
		return NULL;
	}
	if (v && !v->shell)
		return NULL;
	/* an unknown image: what its RUNs use */
	for (k = 0; k < nl; k++)
		for (i = n->st[lin[k]].from + 1; i < n->st[lin[k]].end; i++) {
			const struct df_inst *inst = inst_at(n, i);
			struct df_span r;
			const char *p;

			if (!inst || inst->cmd != DF_CMD_RUN)
				continue;
			r = inst->rest;
			for (p = r.ptr; p + 7 <= r.ptr + r.len; p++) {
				if (memcmp(p, "apk add", 7) == 0)
					return "apk";
				if (p + 7 <= r.ptr + r.len && memcmp(p, "apt-get", 7) == 0)
					return "apt";
			}
		}
	return NULL;
}

/* What the final image runs: the first word of the last ENTRYPOINT or (with
 * none) CMD of the stages, or an empty span when it sets neither. */
static struct df_span program(struct nr *n, const size_t *lin, size_t nl)
{
	struct df_span ep = { NULL, 0 }, cmd = { NULL, 0 }, w;
	size_t k, i, e;

	for (k = 0; k < nl; k++)
		for (i = n->st[lin[k]].from + 1; i < n->st[lin[k]].end; i++) {
			const struct df_inst *inst = inst_at(n, i);

			if (!inst || (inst->cmd != DF_CMD_CMD && inst->cmd != DF_CMD_ENTRYPOINT))
				continue;
			w.ptr = "";
			w.len = 0;
			if (inst->json && inst->nargs) {
				w = inst->args[0];
			} else if (!inst->json) {
				w = inst->rest;
				for (e = 0; e < w.len && w.ptr[e] != ' ' && w.ptr[e] != '\t'; e++)
					;
				w.len = e;
			}
			if (!w.ptr)
				w.ptr = "";
			if (inst->cmd == DF_CMD_ENTRYPOINT)
				ep = w;
			else
				cmd = w;
		}
	return ep.ptr ? ep : cmd;
}

/* Daemons that start as root by design (and drop privileges, or need them). */
static int root_daemon(struct df_span p)
{
	static const char *const names[] = {
		"sshd", "cron", "crond", "supervisord", "systemd", "init", "dockerd", "openvpn",
		"squid", "named", "dnsmasq", "rsyslogd", "syslog-ng", "postfix", "dovecot",
		"vsftpd", "smbd", "nginx", "httpd", "apache2", "apache2-foreground", "haproxy",
		"tcpdump", "tshark", "iptables", "keepalived", "ipfm",
	};
	size_t d = p.len, k;
	struct df_span b;

	for (k = 0; k + 6 <= p.len; k++)
		if (memcmp(p.ptr + k, "/sbin/", 6) == 0)
			return 1;
	while (d > 0 && p.ptr[d - 1] != '/')
		d--;
	b.ptr = p.ptr + d;
	b.len = p.len - d;
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (df_span_eq(b, names[k]))
			return 1;
	return 0;
}

/* A user that exists without the Dockerfile creating it: numeric, or the
 * one the image ships. */
static int known_user(struct df_span u, const struct df_image *img)
{
	size_t k, c = 0;

	while (c < u.len && u.ptr[c] != ':')
		c++;
	for (k = 0; k < c && u.ptr[k] >= '0' && u.ptr[k] <= '9'; k++)
		;
	if (c && k == c)
		return 1;
	return img && img->user && c == strlen(img->user) && memcmp(u.ptr, img->user, c) == 0;
}

static unsigned major(struct df_span v)
{
	unsigned m = 0;
	size_t i;

	for (i = 0; i < v.len && i < 4 && v.ptr[i] >= '0' && v.ptr[i] <= '9'; i++)
		m = m * 10 + (unsigned)(v.ptr[i] - '0');
	return m;
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct nr n;
	struct df_from f;
	const struct df_image *img = NULL;
	const struct df_variant *v = NULL;
	struct df_span ver = { NULL, 0 };
	size_t *lin, nl, k, i, fromi;
	struct df_span last = { NULL, 0 }, prev_nonroot = { NULL, 0 };
	char user[128], owner[300], tail[300] = "";
	const char *tool;
	unsigned port;
	int changes = 0;

	if (doc->escape == '`' || df_doc_devcontainer(doc))
		return 0; /* Windows; a development container has its own user setup */
	memset(&n, 0, sizeof(n));
	n.ctx = ctx;
	n.doc = doc;
	n.st = df_stages(doc, &n.ns);
	if (!n.ns)
		goto out0;
	n.fs = n.ns - 1;
	fromi = n.st[n.fs].from;
	n.line = doc->nodes[fromi].line;
	if (df_pass_ignored(ctx, doc, fromi))
		goto out0;
	lin = df_xcalloc(n.ns, sizeof(*lin));
	nl = lineage(&n, lin);
	if (df_from_read(doc, n.st, n.ns, lin[0], &f) < 0 || f.stage >= 0 || f.windows)
		goto out;
	if (f.resolved && !f.ref.scratch) {
		img = df_image_lookup(&f.ref);
		v = img ? df_variant_lookup(img, f.ref.tag, &ver) : NULL;
		if (v && strcmp(v->kind, "windows") == 0)
			goto out;
	}
	/* the USER the stages set last, and the last non-root one known to
	 * exist: a RUN ran as it, or the stages create it */
	{
		int ran = 0;

		for (k = 0; k < nl; k++)
			for (i = n.st[lin[k]].from + 1; i < n.st[lin[k]].end; i++) {
				const struct df_node *nd = &n.doc->nodes[i];
				const struct df_inst *inst;

				if (nd->kind != DF_INSTRUCTION || !nd->inst)
					continue;
				if (nd->cmd == DF_CMD_RUN)
					ran = 1;
				inst = nd->inst;
				if (nd->cmd != DF_CMD_USER || !inst->nargs)
					continue;
				if (last.len && !is_root_user(last) &&
				    (ran || known_user(last, img)))
					prev_nonroot = last;
				last = inst->args[0];
				ran = 0;
			}
	}
	if (last.len && is_root_user(last) && !prev_nonroot.len &&
	    created_user(&n, lin, nl, user, sizeof(user))) {
		prev_nonroot.ptr = user;
		prev_nonroot.len = strlen(user);
	}
	if (last.len) {
		if (!is_root_user(last))
			goto out;
		if (prev_nonroot.len && prev_nonroot.len < sizeof(user)) {
			if (prev_nonroot.ptr != user)
				snprintf(user, sizeof(user), "%.*s", (int)prev_nonroot.len,
					 prev_nonroot.ptr);
			if (insert_user(&n, user) == 0) {
				df_ctx_finding(ctx, "DL3002", n.line, "USER %s at the end of the final "
					       "stage: it switched to root and did not switch back", user);
				changes = 1;
			}
		} else {
			df_img_note(ctx, "DL3002", n.line, "the final stage chooses to run as root "
				    "(USER %.*s): left as written", (int)last.len, last.ptr);
		}
		goto out;
	}
	if (v && strcmp(v->runs_as, "root") != 0)
		goto out; /* the image itself runs as a non-root user */
	if (!f.resolved) {
		df_img_note(ctx, "DL3002", n.line, "the final stage runs as root; its image comes "
			    "from a variable, so dfix cannot tell how to add a user");
		goto out;
	}
	if (img && df_image_flag(img, "root-ports")) {
		df_img_note(ctx, "DL3002", n.line, "the final stage runs as root: %s serves ports "
			    "below 1024 as root and drops privileges itself; left alone (an "
			    "unprivileged variant listens on a high port)", img->repo);
		goto out;
	}
	if (img && df_image_flag(img, "drops-root")) {
		df_img_note(ctx, "DL3002", n.line, "the final stage runs as root: the %s "
			    "entrypoint switches to the %s user itself; left alone", img->repo,
			    img->user ? img->user : "service");
		goto out;
	}
	{
		struct df_span prog = program(&n, lin, nl);

		if (!prog.ptr && (!img || strcmp(img->family, "distroless") != 0)) {
			df_img_note(ctx, "DL3002", n.line, "the final stage sets no CMD or "
				    "ENTRYPOINT, as a base image does: USER is left to the images "
				    "built on it");
			goto out;
		}
		if (prog.ptr && root_daemon(prog)) {
			df_img_note(ctx, "DL3002", n.line, "the final stage runs %.*s, a daemon that "
				    "starts as root: left alone", (int)prog.len, prog.ptr);
			goto out;
		}
	}
	port = low_port(&n);
	if (port)
		snprintf(tail, sizeof(tail), "; it exposes port %u: binding it as non-root relies "
			 "on the unprivileged-port default of Docker 20.10+ and containerd 2 "
			 "(elsewhere add CAP_NET_BIND_SERVICE or listen on a port >= 1024)", port);
	if (f.ref.scratch || (img && strcmp(img->family, "distroless") == 0)) {
		if (img && distroless_nonroot(&n, &f) == 0) {
			df_ctx_finding(ctx, "DL3002", n.line, "%s:nonroot: the distroless image "
				       "that runs as nonroot (uid 65532)%s", img->repo, tail);
			changes = 1;
		} else if (insert_user(&n, "65532:65532") == 0) {
			df_ctx_finding(ctx, "DL3002", n.line, "USER 65532:65532: the final stage ran "
				       "as root; a numeric user needs no /etc/passwd entry%s", tail);
			changes = 1;
		}
		goto out;
	}
	if (v && !v->shell)
		goto out;
	/* a user the Dockerfile creates */
	if (created_user(&n, lin, nl, user, sizeof(user))) {
		if (insert_user(&n, user) == 0) {
			df_ctx_finding(ctx, "DL3002", n.line, "USER %s: the Dockerfile creates the user "
				       "%s but the final stage still ran as root%s", user, user, tail);
			changes = 1;
		}
		goto out;
	}
	/* a user the image ships (node, .NET 8+ app) */
	if (img && img->user && (strcmp(img->family, "dotnet") != 0 || major(ver) >= 8)) {
		snprintf(user, sizeof(user), "%s", img->user);
		snprintf(owner, sizeof(owner), "%s:%s", img->user, img->user);
		k = (size_t)chown_copies(&n, owner);
		if (insert_user(&n, user) == 0) {
			df_ctx_finding(ctx, "DL3002", n.line, "USER %s: the final stage ran as root; "
				       "%s has the user %s%s%s", user, img->repo, user,
				       k ? ", and the app files are copied as theirs" : "", tail);
			changes = 1;
		}
		goto out;
	}
	tool = user_tool(&n, lin, nl, v);
	if (!tool) {
		df_img_note(ctx, "DL3002", n.line, "the final stage runs as root; dfix does not know "
			    "how to add a user to %s", f.resolved);
		goto out;
	}
	k = (size_t)chown_copies(&n, "app:app");
	if (insert_user(&n, "app") < 0)
		goto out;
	{
		const char *create = strcmp(tool, "apk") == 0
			? "RUN addgroup -S app && adduser -S app -G app"
			: "RUN groupadd -r app && useradd -r -g app app";

		size_t at = n.st[n.fs].from + 1;

		/* before the first step that builds the filesystem */
		for (i = n.st[n.fs].from + 1; i < n.st[n.fs].end; i++) {
			const struct df_inst *inst = inst_at(&n, i);

			if (inst && (inst->cmd == DF_CMD_RUN || inst->cmd == DF_CMD_COPY ||
				     inst->cmd == DF_CMD_ADD || inst->cmd == DF_CMD_WORKDIR ||
				     inst->cmd == DF_CMD_USER)) {
				at = df_doc_owned_start(doc, i);
				break;
			}
		}
		if (df_doc_insert(doc, at, create, strlen(create)) < 0)
			goto out;
		df_ctx_finding(ctx, "DL3002", n.line, "USER app: the final stage ran as root; a "
			       "system user app is created%s%s", k ? " and owns the copied app files" : "",
			       tail);
		changes = 1;
	}
out:
	free(lin);
out0:
	free(n.st);
	return changes;
}

const struct df_pass df_pass_non_root = {
	.id = "non-root",
	.level = DF_LEVEL_REVIEW,
	.codes = "DL3002",
	.summary = "the final stage runs as a non-root USER",
	.doc = "A container that runs as root turns any bug in the program into root in the\n"
	       "container. non-root ends the final stage with a non-root USER:\n"
	       "  - the image's own user when it has one: node (node images), app (.NET 8+),\n"
	       "    the :nonroot tag of distroless images (uid 65532);\n"
	       "  - a user the Dockerfile already creates with useradd/adduser;\n"
	       "  - otherwise a system user app, created right after FROM\n"
	       "    (RUN addgroup -S app && adduser -S app -G app on Alpine,\n"
	       "     RUN groupadd -r app && useradd -r -g app app on Debian and RHEL),\n"
	       "    with --chown=app:app on the COPY/ADD of app files;\n"
	       "  - USER 65532:65532 on scratch.\n"
	       "USER goes after the last RUN, COPY, ADD or WORKDIR, so the build steps still\n"
	       "run as root. Nothing changes when the Dockerfile sets a USER (one that\n"
	       "switched back to root at the end gets the earlier user again); images that\n"
	       "need root to serve ports < 1024 (nginx, httpd) or whose entrypoint drops\n"
	       "privileges itself (postgres, redis, mongo...), daemons that start as root\n"
	       "(sshd, cron, programs in sbin), base images (no CMD or ENTRYPOINT) and\n"
	       "Windows images are reported and left alone. A stage that EXPOSEs a port\n"
	       "below 1024 gets the user too: Docker 20.10+ and containerd 2 let\n"
	       "unprivileged users bind those ports; the finding says so.\n",
	.run = run,
};
