/*
 * multi_stage_native.c - the runtime of a native binary (Go, Rust): what
 * both ecosystems share once they know the binaries the build writes.
 *
 * The binaries are copied to the runtime at the path they have in the
 * builder (a binary found on the builder's PATH only, such as cargo's or
 * go install's bin directory, goes to /usr/local/bin), so CMD and
 * ENTRYPOINT keep working as written. The runtime is distroless when
 * nothing needs a shell: static for a static binary, base or cc (glibc,
 * libssl, ca-certificates) for a dynamic one, `:nonroot` both; shell-form
 * CMD/ENTRYPOINT made of plain words become exec form. When a RUN, a user
 * that RUNs create (unless the runtime is :nonroot anyway), a shell script,
 * or a library package must live in the runtime, it is debian:<release>-slim
 * of the builder's Debian release, with ca-certificates. A glibc binary
 * needs the builder's release: a builder tag that does not say it is
 * pinned to -bookworm.
 */
#include <string.h>

#include "multi_stage.h"

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

static int env_only(const struct df_inst *inst, const char *const *names)
{
	size_t k, j;

	if (!inst->nargs)
		return 0;
	for (k = 0; 3 * k < inst->nargs; k++) {
		int found = 0;

		for (j = 0; names[j]; j++)
			if (df_span_eq(inst->args[3 * k], names[j]))
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

static int is_user_cmd(const struct ms_cmd *c)
{
	const char *n = c->argc && c->argv[0] ? base_name(c->argv[0]) : "";

	return !strcmp(n, "useradd") || !strcmp(n, "adduser") || !strcmp(n, "groupadd") ||
	       !strcmp(n, "addgroup");
}

/* Does a user-only RUN create `user` (name or name:group)? */
static int creates_user(const struct ms_item *it, const char *user)
{
	size_t k, i, n = strcspn(user, ":");

	for (k = 0; k < it->ncmds; k++) {
		const struct ms_cmd *c = &it->cmds[k];

		if (!is_user_cmd(c))
			continue;
		for (i = 1; i < c->argc; i++)
			if (c->argv[i] && strlen(c->argv[i]) == n && strncmp(c->argv[i], user, n) == 0)
				return 1;
	}
	return 0;
}

static int user_only(const struct ms_item *it)
{
	size_t k;

	if (it->cmd != DF_CMD_RUN || !it->shell_ok || !it->ncmds)
		return 0;
	for (k = 0; k < it->ncmds; k++)
		if (!is_user_cmd(&it->cmds[k]))
			return 0;
	return 1;
}

static int numeric_user(const char *u)
{
	return u && *u && strspn(u, "0123456789:") == strlen(u);
}

const char *ms_tag_release(const char *tag)
{
	static const char *const rel[] = { "bookworm", "bullseye", "buster", "trixie", NULL };
	size_t i;

	if (strstr(tag, "alpine"))
		return NULL;
	for (i = 0; rel[i]; i++)
		if (strstr(tag, rel[i]))
			return rel[i];
	return "";
}

const char *ms_pin_release(struct ms *ms, const char *release)
{
	const char *w = ms->from.resolved;
	const char *t = ms->tag;
	size_t n;

	if (ms->from.ref.has_digest)
		return NULL;
	if (ms->from.has_var) {
		/* rust:${RUST_VERSION} -> rust:${RUST_VERSION}-bookworm when the
		 * default makes it a plain version */
		const char *word = ms_strndup(ms, ms->from.word.ptr, ms->from.word.len);
		const char *colon = strrchr(word, ':');

		n = strspn(t, "0123456789.");
		if (!n || t[n] || !colon || !strchr(colon, '$') || strchr(word, '@'))
			return NULL;
		return ms_printf(ms, "%s-%s", word, release);
	}
	if (!*t || strcmp(t, "latest") == 0)
		return ms_printf(ms, "%.*s:%s",
				 (int)(ms->from.ref.has_tag ? strlen(w) - ms->from.ref.tag.len - 1 : strlen(w)),
				 w, release);
	if (strcmp(t, "slim") == 0)
		return ms_printf(ms, "%s-%s", w, release);
	n = strspn(t, "0123456789.");
	if (n && (t[n] == '\0' || strcmp(t + n, "-slim") == 0))
		return ms_printf(ms, "%s-%s", w, release);
	return NULL;
}

/* The alpine release of an -alpine3.NN builder tag, else the table's pin:
 * RUNs written for the alpine builder keep working in the runtime. */
static const char *alpine_image(struct ms *ms)
{
	const char *a = strstr(ms->tag, "alpine");
	const struct df_image *img;

	if (a && a[6] >= '0' && a[6] <= '9')
		return ms_printf(ms, "alpine:%.*s", (int)strspn(a + 6, "0123456789."), a + 6);
	img = df_image_get("alpine");
	return img && img->pin ? ms_printf(ms, "alpine:%s", img->pin) : "alpine:3";
}

/* The binary a program word names (absolute, relative to wd, or on PATH). */
static struct ms_bin *find_bin(struct ms *ms, struct ms_native *nv, const char *prog,
			       const char *wd)
{
	size_t i;

	for (i = 0; i < nv->nbins; i++) {
		struct ms_bin *b = &nv->bins[i];

		if (strchr(prog, '/')) {
			const char *abs = ms_abs(ms, wd, prog);

			if (abs && strcmp(abs, b->path) == 0)
				return b;
		} else if (strcmp(prog, b->name) == 0) {
			const char *dir = ms_strndup(ms, b->path, strlen(b->path) - strlen(b->name) - 1);

			if (b->onpath) {
				b->rt = ms_printf(ms, "/usr/local/bin/%s", b->name);
				return b;
			}
			if (!strcmp(dir, "/usr/local/bin") || !strcmp(dir, "/usr/bin") ||
			    !strcmp(dir, "/bin") || !strcmp(dir, "/usr/local/sbin") ||
			    !strcmp(dir, "/usr/sbin"))
				return b;
		}
	}
	return NULL;
}

/* Does the command name a path relative to the WORKDIR? */
static int relative_words(char **argv, int argc)
{
	int i;

	for (i = 0; i < argc; i++)
		if (argv[i] && argv[i][0] != '/' && argv[i][0] != '-' && strchr(argv[i], '/') &&
		    !strstr(argv[i], "://"))
			return 1;
	return 0;
}

static void exec_form(struct ms *ms, struct ms_item *it, char **w, int n)
{
	struct df_buf b = DF_BUF_INIT;
	int j;

	df_buf_addf(&b, "%s [", it->cmd == DF_CMD_CMD ? "CMD" : "ENTRYPOINT");
	for (j = 0; j < n; j++) {
		if (j)
			df_buf_adds(&b, ", ");
		ms_json(&b, w[j]);
	}
	df_buf_addc(&b, ']');
	df_buf_adds(&b, ms->eol);
	it->rtext = ms_strndup(ms, b.ptr, b.len);
	df_buf_release(&b);
}

int ms_plan_native(struct ms *ms, struct ms_native *nv)
{
	char **argv;
	long entry, cmd;
	int argc, shell = 0, users = 0, convert = 0;
	size_t i, k;
	const char *wd = ms_final_wd(ms), *release, *nonroot = ":nonroot";
	struct df_buf libs = DF_BUF_INIT;
	int r = -1;

	argc = ms_command(ms, &argv, &entry, &cmd);
	if (argc == 0)
		return ms_skip(ms, "no CMD or ENTRYPOINT says what the container runs");
	if (argc < 0)
		return ms_skip(ms, "CMD/ENTRYPOINT is not a plain command");
	if (!find_bin(ms, nv, argv[0], wd)) {
		if (ms_is_shell(argv[0]))
			return ms_skip(ms, "the container runs a shell (`%s`)", argv[0]);
		return ms_skip(ms, "the container runs %s, not a binary the %s writes", argv[0],
			       nv->what);
	}
	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];
		uint32_t line = ms->doc->nodes[it->idx].line;

		if (it->cmd == DF_CMD_RUN && user_only(it))
			users++;
		else if (it->cmd == DF_CMD_RUN && i > ms->last_build)
			shell = 1;
		else if (it->cmd == DF_CMD_RUN && i < ms->last_build && (it->kind & MS_K_SETUP) &&
			 !(it->kind & (MS_K_DEPS | MS_K_BUILD | MS_K_OTHER | MS_K_CD | MS_K_PKG | MS_K_TOUCH)))
			shell = 1;
		if ((it->cmd == DF_CMD_CMD || it->cmd == DF_CMD_ENTRYPOINT) && !it->inst->json &&
		    ((long)i == entry || (long)i == cmd)) {
			char **w;

			int n, j, glob = 0;

			if ((long)i == entry && cmd >= 0)
				shell = 1; /* a shell-form ENTRYPOINT ignores CMD: keep it so */
			else if ((n = ms_item_words(ms, it, &w)) <= 0)
				shell = 1;
			else {
				for (j = 0; j < n; j++)
					if (strpbrk(w[j], "*?["))
						glob = 1;
				if (glob)
					shell = 1; /* the shell expands it */
				else
					convert = 1;
			}
		}
		if (it->cmd == DF_CMD_HEALTHCHECK && it->inst->nargs &&
		    !df_span_ieq(it->inst->args[0], "NONE")) {
			char *prog;

			if (!it->inst->json || it->inst->nargs < 2)
				return ms_skip(ms, "the HEALTHCHECK at line %u needs a shell and tools "
					       "the runtime lacks", line);
			prog = ms_strndup(ms, it->inst->args[1].ptr, it->inst->args[1].len);
			if (!find_bin(ms, nv, prog, wd))
				return ms_skip(ms, "the HEALTHCHECK at line %u runs %s, which the runtime "
					       "lacks", line, prog);
		}
		if (it->cmd == DF_CMD_RUN && i <= ms->last_build && (it->kind & MS_K_PKG)) {
			if (!it->pkgs.manager || it->pkgs.unknown)
				continue; /* builder only; what it installs is for the build */
			for (k = 0; k < it->pkgs.n; k++) {
				const char *p = it->pkgs.names[k];
				const char *rt = ms_runtime_pkgs(it->pkgs.manager, p);

				if (ms_build_tool_pkg(p) || (rt && !*rt))
					continue;
				if (!rt && !ms_ends(p, "-dev") && !ms_ends(p, "-devel")) {
					ms_skip(ms, "the runtime may need %s (installed at line %u)", p, line);
					goto out;
				}
				if (!nv->glibc)
					continue; /* a static binary links no library */
				if (!rt) {
					ms_skip(ms, "no run-time library known for %s (line %u)", p, line);
					goto out;
				}
				if (strcmp(it->pkgs.manager, "apt") != 0) {
					ms_skip(ms, "%s packages for a glibc runtime", it->pkgs.manager);
					goto out;
				}
				if (!strcmp(rt, "libssl3") || !strcmp(rt, "libc6") ||
				    (!strcmp(nv->distroless, "cc") && !strcmp(rt, "libstdc++6")))
					continue; /* distroless has them */
				if (libs.len)
					df_buf_addc(&libs, ' ');
				df_buf_adds(&libs, rt);
			}
		}
	}
	/* :nonroot unless the app keeps data in a VOLUME its root user could
	 * write to; then users the RUNs create need those RUNs */
	for (i = 0; i < ms->nitems; i++)
		if (ms->items[i].cmd == DF_CMD_VOLUME)
			nonroot = "";
	if (libs.len || (users && !*nonroot))
		shell = 1;
	/* USER: numeric, nonroot/nobody, or a user a RUN creates */
	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];
		const char *u;
		size_t j;
		int made = 0;

		if (it->cmd != DF_CMD_USER || !it->inst->nargs)
			continue;
		u = ms_strndup(ms, it->inst->args[0].ptr, it->inst->args[0].len);
		if (numeric_user(u) || !strcmp(u, "root") || ms_starts(u, "nonroot") ||
		    ms_starts(u, "nobody"))
			continue;
		for (j = 0; j < i; j++)
			if (user_only(&ms->items[j]) && creates_user(&ms->items[j], u))
				made = 1;
		if (!made && !shell) {
			ms_skip(ms, "USER %s at line %u is not a user of the runtime image", u,
				ms->doc->nodes[it->idx].line);
			goto out;
		}
	}
	release = ms_tag_release(ms->tag);
	if (!nv->glibc) {
		ms->runtime_image = !shell ? ms_printf(ms, "gcr.io/distroless/static-debian12%s", nonroot)
				    : release ? "debian:bookworm-slim" : alpine_image(ms);
	} else {
		if (!release) {
			ms_skip(ms, "%s on alpine: dfix does not pick a musl runtime", nv->what);
			goto out;
		}
		if (!*release) {
			ms->builder_image = ms_pin_release(ms, "bookworm");
			if (!ms->builder_image) {
				ms_skip(ms, "the Debian release of %s is not known", ms->from.resolved);
				goto out;
			}
			release = "bookworm";
		}
		if (strcmp(release, "buster") == 0) {
			ms_skip(ms, "Debian buster is past its end of life");
			goto out;
		}
		if (shell || strcmp(release, "bookworm") != 0)
			ms->runtime_image = ms_printf(ms, "debian:%s-slim", release);
		else
			ms->runtime_image = ms_printf(ms, "gcr.io/distroless/%s-debian12%s",
						      nv->distroless, nonroot);
	}
	/* user RUNs and named USERs drop out of a :nonroot runtime */
	if (!shell && users && *nonroot)
		for (i = 0; i < ms->nitems; i++) {
			struct ms_item *it = &ms->items[i];

			if (user_only(it) || (it->cmd == DF_CMD_USER && it->inst->nargs &&
					      !numeric_user(ms_strndup(ms, it->inst->args[0].ptr,
								       it->inst->args[0].len))))
				it->no_runtime = 1;
		}
	if (ms_plan_compiled(ms, shell) < 0)
		goto out;
	for (i = 0; i < ms->nitems; i++)
		if (ms->items[i].cmd == DF_CMD_ENV && env_only(ms->items[i].inst, nv->build_env))
			ms_to(&ms->items[i], ms->items[i].builder, 0);
	/* shell-form CMD/ENTRYPOINT on a runtime without a shell: exec form */
	if (!shell && convert)
		for (i = 0; i < ms->nitems; i++) {
			struct ms_item *it = &ms->items[i];
			char **w;
			int n;

			if ((it->cmd != DF_CMD_CMD && it->cmd != DF_CMD_ENTRYPOINT) || it->inst->json ||
			    ((long)i != entry && (long)i != cmd))
				continue;
			n = ms_item_words(ms, it, &w);
			if (n > 0)
				exec_form(ms, it, w, n);
		}
	/* a runtime without WORKDIR runs in / */
	{
		int has_wd = 0;

		for (i = 0; i < ms->nitems; i++)
			if (ms->items[i].cmd == DF_CMD_WORKDIR && ms->items[i].runtime)
				has_wd = 1;
		if (!has_wd && wd && strcmp(wd, "/") != 0 && relative_words(argv, argc))
			ms_line(ms, &ms->items[0].rbefore, "WORKDIR %s", wd);
	}
	if (shell)
		ms_pkg_install(ms, &ms->items[0].rbefore, release ? "apt" : "apk",
			       libs.len ? ms_printf(ms, "ca-certificates %s", libs.ptr) : "ca-certificates");
	for (i = 0; i < nv->nbins; i++)
		ms_ship(ms, nv->bins[i].path, nv->bins[i].rt);
	{
		const char *refs[16];
		size_t nr = ms_referenced(ms, nv->src_suffixes, nv->not_runtime, refs, 16);

		for (k = 0; k < nr; k++) {
			const char *bp = ms_builder_path(ms, refs[k], ms->last_build + 1);

			if (bp && !ms_shipped(ms, bp))
				ms_ship(ms, bp, bp);
		}
	}
	ms_ship_dotenv(ms);
	ms_ship_command_files(ms, argv, argc, wd, 1);
	if (!*nonroot && strstr(ms->runtime_image, "distroless"))
		df_buf_addf(&ms->note, "; it runs as root as before (not :nonroot): the app keeps "
			    "data in a VOLUME");
	for (i = nv->nbins; i < ms->nship; i++)
		df_buf_addf(&ms->note, "%s%s", i == nv->nbins ? "; also ships " : ", ",
			    ms_rel(ms, wd, ms->ship[i].abs));
	r = 0;
out:
	df_buf_release(&libs);
	return r;
}
