/*
 * base_image.c - base-image: smaller base images for the stages whose files
 * reach the final image (article strategies 2 and 5).
 *
 * For each such stage that starts from an image (the "root" of the stages
 * built FROM it), the image table gives the variant of its tag and the tag
 * of the leaner variant --base (or the image's default) asks for. Alpine is
 * only chosen when nothing in the stages built on that root would break on
 * musl or without apt: otherwise -slim, and the finding says why. Moving to
 * Alpine translates the package steps (apt-get/yum/dnf/microdnf -> apk, in
 * apk.c); a command the smaller image lacks (curl, git, bash...) is
 * installed. A final stage that only runs a static Go binary gets
 * distroless static.
 *
 * Builder and runtime share one libc: the builders a stage copies build
 * output from (COPY --from, followed through their own copies), when they
 * start from an image of the same family (node, python, ruby, php: native
 * modules, wheels, gems), move to Alpine with it; when one cannot, neither
 * does the stage (-slim, with the reason). A builder already on Alpine keeps
 * the stage off glibc. Go, Rust and Java builders are left as they are.
 *
 * Only the image word of the FROM is edited (or the ARG default that names
 * the image); digest-pinned references and Windows images are left alone.
 *
 * What it reads in the stages (the caveats, builders, packages and tools)
 * is in base_image_scan.c; here are the decisions and the edits.
 */
#include <stdarg.h>
#include <string.h>

#include "base_image.h"
#include "shell.h"


/* ---------------------------------------------------------------- tools a smaller image lacks */

struct tools {
	const char *from_kind, *to_kind; /* variant kinds */
	int to_alpine;
	const struct df_apk *x;
	struct df_buf need;  /* " pkg " to install */
	struct df_buf names; /* "curl, git" for the finding */
};

static int kind_has(const char *kind, const char *apt, const char *apk)
{
	if (strcmp(kind, "full") == 0)
		return 1;
	if (strcmp(kind, "alpine") == 0)
		return apk == NULL;
	return apt == NULL;
}

static void tool_seen(void *arg, const char *p, size_t n)
{
	struct tools *tl = arg;
	const char *apt, *apk, *pkg;
	const struct df_buf *have;
	int added = 0;

	if (df_tool_lookup(p, n, &apt, &apk) < 0)
		return;
	if (!kind_has(tl->from_kind, apt, apk) || kind_has(tl->to_kind, apt, apk))
		return;
	pkg = tl->to_alpine ? apk : apt;
	have = tl->to_alpine ? &tl->x->apk : &tl->x->native;
	if (!pkg)
		return;
	/* the first package provides the command; the rest go with it */
	if (df_pkgset_has(have, pkg, strcspn(pkg, " ")))
		return;
	while (*pkg) {
		size_t k = strcspn(pkg, " ");

		if (k && !df_pkgset_has(have, pkg, k) && !df_pkgset_has(&tl->need, pkg, k)) {
			df_pkgset_add(&tl->need, pkg, k);
			added = 1;
		}
		pkg += k;
		while (*pkg == ' ')
			pkg++;
	}
	if (!added)
		return;
	if (tl->names.len)
		df_buf_adds(&tl->names, ", ");
	df_buf_add(&tl->names, p, n);
}

/* ---------------------------------------------------------------- the FROM edit */

static int apply_edits(struct df_doc *doc, size_t idx, struct df_edits *e, int dry)
{
	if (dry) {
		df_edits_release(e);
		return 0;
	}
	return df_edits_apply(doc, idx, e);
}

/* Rewrite the image of stage r: same repository with tag new_tag, or
 * new_ref (another repository). Returns 0, or -1 with *why. With dry, only
 * says whether it could (the new text is not parsed). */
static int edit_from(struct bi *b, const struct df_from *f, const char *new_tag,
		     const char *new_ref, const char **why, int dry)
{
	struct df_doc *doc = b->doc;
	const struct df_inst *inst = doc->nodes[f->idx].inst;
	struct df_edits e = { 0 };
	struct df_buf t = DF_BUF_INIT;
	size_t off = df_inst_log_off(inst, f->word), s, en;
	int rc;

	*why = "the image word spans lines";
	if (off == (size_t)-1 || df_inst_range(inst, off, f->word.len, &s, &en) < 0)
		return -1;
	if (!f->has_var) {
		if (new_ref) {
			df_buf_adds(&t, new_ref);
		} else {
			size_t keep = f->ref.has_tag ? (size_t)(f->ref.tag.ptr - f->resolved) - 1
						     : f->ref.text.len;

			df_buf_add(&t, f->word.ptr, keep);
			df_buf_addc(&t, ':');
			df_buf_adds(&t, new_tag);
		}
		df_edits_add(&e, s, en, t.ptr, t.len);
		df_buf_release(&t);
		*why = "the new FROM does not parse";
		return apply_edits(doc, f->idx, &e, dry);
	}
	/* FROM name:${VERSION}: change the literal suffix after the variable */
	if (!new_ref && f->ref.has_tag) {
		struct df_span ver;
		const struct df_image *img = df_image_lookup(&f->ref);
		const struct df_variant *v = img ? df_variant_lookup(img, f->ref.tag, &ver) : NULL;
		size_t ol, nl = strlen(new_tag);

		if (v && ver.len && ver.ptr == f->ref.tag.ptr && nl >= ver.len &&
		    memcmp(new_tag, ver.ptr, ver.len) == 0) {
			ol = f->ref.tag.len - ver.len;
			if (f->word.len > ol && !memchr(f->ref.tag.ptr + ver.len, '$', ol) &&
			    memcmp(f->word.ptr + f->word.len - ol, f->ref.tag.ptr + ver.len, ol) == 0 &&
			    memchr(f->word.ptr, '$', f->word.len - ol)) {
				df_edits_add(&e, en - ol, en, new_tag + ver.len, nl - ver.len);
				*why = "the new FROM does not parse";
				return apply_edits(doc, f->idx, &e, dry);
			}
		}
	}
	/* FROM ${BASE}: change the default of the global ARG */
	{
		struct df_span w = f->word, name;
		size_t i, a, uses = 0;
		const char *nm;

		if (w.len > 3 && w.ptr[0] == '$' && w.ptr[1] == '{' && w.ptr[w.len - 1] == '}') {
			name.ptr = w.ptr + 2;
			name.len = w.len - 3;
		} else if (w.len > 1 && w.ptr[0] == '$') {
			name.ptr = w.ptr + 1;
			name.len = w.len - 1;
		} else {
			*why = "the image comes from a variable dfix cannot change";
			return -1;
		}
		for (i = 0; i < name.len; i++)
			if (!(name.ptr[i] == '_' || (name.ptr[i] >= 'A' && name.ptr[i] <= 'Z') ||
			      (name.ptr[i] >= 'a' && name.ptr[i] <= 'z') ||
			      (name.ptr[i] >= '0' && name.ptr[i] <= '9'))) {
				*why = "the image comes from a variable dfix cannot change";
				return -1;
			}
		nm = df_arena_dup(&doc->arena, name.ptr, name.len);
		/* the variable must name this image only */
		for (i = 0; i < doc->nnodes; i++) {
			const struct df_inst *o = bi_inst_at(b, i);
			struct df_buf p1 = DF_BUF_INIT, p2 = DF_BUF_INIT;
			int hit;

			if (!o || o->cmd == DF_CMD_ARG)
				continue;
			df_buf_addf(&p1, "$%s", nm);
			df_buf_addf(&p2, "${%s", nm);
			hit = df_apk_has_text(o->logical, p2.ptr) || df_apk_has_text(o->logical, p1.ptr);
			df_buf_release(&p1);
			df_buf_release(&p2);
			uses += hit;
		}
		if (uses != 1) {
			*why = "the ARG that names the image is used elsewhere too";
			return -1;
		}
		for (i = 0; i < doc->nnodes; i++) {
			const struct df_inst *o = bi_inst_at(b, i);
			size_t vs, ve;

			if (!o)
				continue;
			if (o->cmd == DF_CMD_FROM)
				break;
			if (o->cmd != DF_CMD_ARG)
				continue;
			for (a = 0; a + name.len + 1 < o->rest.len; a++) {
				struct df_span val;
				size_t k, o2;

				if ((a > 0 && !bi_is_sep((unsigned char)o->rest.ptr[a - 1])) ||
				    memcmp(o->rest.ptr + a, nm, name.len) != 0 ||
				    o->rest.ptr[a + name.len] != '=')
					continue;
				val.ptr = o->rest.ptr + a + name.len + 1;
				for (k = 0; k < o->rest.len - a - name.len - 1 &&
					    !bi_is_sep((unsigned char)val.ptr[k]) && val.ptr[k] != '$'; k++)
					;
				val.len = k;
				if (a + name.len + 1 + k < o->rest.len &&
				    !(o->rest.ptr[a + name.len + 1 + k] == ' ' ||
				      o->rest.ptr[a + name.len + 1 + k] == '\t')) {
					*why = "the ARG default is quoted or has variables";
					return -1;
				}
				if (val.len != f->ref.text.len ||
				    memcmp(val.ptr, f->resolved, val.len) != 0) {
					*why = "the ARG default is not the image itself";
					return -1;
				}
				o2 = df_inst_log_off(o, val);
				if (o2 == (size_t)-1 || df_inst_range(o, o2, val.len, &vs, &ve) < 0)
					return -1;
				if (new_ref) {
					df_buf_adds(&t, new_ref);
				} else {
					size_t keep = f->ref.has_tag ?
						(size_t)(f->ref.tag.ptr - f->resolved) - 1 : f->ref.text.len;

					df_buf_add(&t, f->resolved, keep);
					df_buf_addc(&t, ':');
					df_buf_adds(&t, new_tag);
				}
				df_edits_add(&e, vs, ve, t.ptr, t.len);
				df_buf_release(&t);
				*why = "the new ARG does not parse";
				rc = apply_edits(doc, i, &e, dry);
				return rc;
			}
		}
		*why = "the ARG that names the image has no default dfix can change";
		return -1;
	}
}

/* ---------------------------------------------------------------- decisions */

/* Text for "node:18 ≈ 910 MB → node:18-alpine ≈ 120 MB" (sizes when known). */
static void sizes(struct df_buf *out, const char *repo, struct df_span tag, const char *repo2,
		  const char *tag2, const char *from_text, const char *to_text)
{
	unsigned a, c;
	const char *sa, *sc;
	struct df_span t2 = { tag2, strlen(tag2) };

	if (df_image_size(repo, tag, &a, &sa) == 0 && df_image_size(repo2, t2, &c, &sc) == 0 &&
	    strcmp(sa, sc) == 0) {
		df_buf_addf(out, "%s \xe2\x89\x88 %u MB \xe2\x86\x92 %s \xe2\x89\x88 %u MB", from_text,
			    a, to_text, c);
		if (strncmp(sa, "article:", 8) == 0)
			df_buf_addf(out, " (the article's figures, %s)", sa + 8);
		else if (strncmp(sa, "approx:", 7) == 0)
			df_buf_addf(out, " (approximate compressed sizes, %s)", sa + 7);
		else
			df_buf_addf(out, " (%s)", sa);
	} else {
		df_buf_addf(out, "%s \xe2\x86\x92 %s", from_text, to_text);
	}
}

/* Did this pass already say something about that line (in an earlier round)? */
static int noted_line(const struct df_ctx *ctx, uint32_t line)
{
	size_t i;

	for (i = 0; i < ctx->nfindings; i++)
		if (ctx->findings[i].line == line && ctx->current &&
		    strcmp(ctx->findings[i].pass, ctx->current->id) == 0)
			return 1;
	return 0;
}

/* A report-only finding, once per line: the driver runs the pass again on
 * its own output, where the same FROM reads differently. */
static void note(struct df_ctx *ctx, uint32_t line, const char *fmt, ...) DF_PRINTF(3, 4);
static void note(struct df_ctx *ctx, uint32_t line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (noted_line(ctx, line))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	df_img_note(ctx, NULL, line, "%s", msg);
}

struct plan {
	struct df_from f;
	const struct df_image *img;
	const struct df_variant *var;
	struct df_span version; /* {v} of the tag (or the table's pin) */
	char key[512];          /* repository key */
	int mirror;
};

/* Does the stage set the user, run anything, or need a shell? For the
 * "final stage only runs a program" tests. */
static int runs_only_program(struct bi *b, size_t t, int *cmd_json_only)
{
	size_t i;

	*cmd_json_only = 1;
	for (i = b->st[t].from + 1; i < b->st[t].end; i++) {
		const struct df_inst *inst = bi_inst_at(b, i);

		if (!inst)
			continue;
		switch (inst->cmd) {
		case DF_CMD_RUN:
		case DF_CMD_SHELL:
		case DF_CMD_ONBUILD:
		case DF_CMD_UNKNOWN:
			return 0;
		case DF_CMD_HEALTHCHECK:
			if (!(inst->nargs >= 1 && df_span_ieq(inst->args[0], "NONE")))
				return 0;
			break;
		case DF_CMD_CMD:
		case DF_CMD_ENTRYPOINT:
			if (!inst->json)
				*cmd_json_only = 0;
			break;
		case DF_CMD_USER: {
			struct df_span u = inst->nargs ? inst->args[0] : inst->rest;
			size_t k;
			int num = u.len > 0;

			for (k = 0; k < u.len; k++)
				if (!((u.ptr[k] >= '0' && u.ptr[k] <= '9') || u.ptr[k] == ':'))
					num = 0;
			if (!num && !df_span_eq(u, "root") && !df_span_eq(u, "nobody") &&
			    !df_span_eq(u, "nonroot") && !df_span_eq(u, "nonroot:nonroot"))
				return 0;
			break;
		}
		default:
			break;
		}
	}
	return 1;
}

/* A stage (and the ones it builds on) sets CGO_ENABLED=0 / builds Go. */
static int go_builder(struct bi *b, size_t t, int *cgo_off)
{
	size_t s = t;
	int go = 0;

	*cgo_off = 0;
	for (;;) {
		size_t i;
		struct df_from f;

		for (i = b->st[s].from + 1; i < b->st[s].end; i++) {
			const struct df_inst *inst = bi_inst_at(b, i);

			if (!inst)
				continue;
			if ((inst->cmd == DF_CMD_RUN || inst->cmd == DF_CMD_ENV ||
			     inst->cmd == DF_CMD_ARG) && df_apk_has_text(inst->logical, "CGO_ENABLED=0"))
				*cgo_off = 1;
			if ((inst->cmd == DF_CMD_ENV) && df_apk_has_word(inst->logical, "CGO_ENABLED") &&
			    df_apk_has_word(inst->logical, "0"))
				*cgo_off = 1;
			if (inst->cmd == DF_CMD_RUN && df_apk_has_text(inst->logical, "CGO_ENABLED=1"))
				*cgo_off = -1;
			if (inst->cmd == DF_CMD_RUN && df_apk_has_word(inst->rest, "go") &&
			    (df_apk_has_word(inst->rest, "build") || df_apk_has_word(inst->rest, "install")))
				go = 1;
		}
		if (df_from_read(b->doc, b->st, b->ns, s, &f) < 0)
			break;
		if (f.stage < 0) {
			const struct df_image *img = f.resolved ? df_image_lookup(&f.ref) : NULL;

			if (img && strcmp(img->family, "go") == 0 && go)
				go = 1;
			break;
		}
		s = (size_t)f.stage;
	}
	if (*cgo_off < 0)
		*cgo_off = 0;
	return go;
}

/* The final stage runs a static Go binary copied from a builder: 1; built
 * with cgo: -1 (and *why); 0 when it is not a Go runtime stage. */
static int go_static(struct bi *b, size_t fs, const char **why)
{
	size_t i;
	int json_only, gos = 0, cgo = 0;

	if (!runs_only_program(b, fs, &json_only))
		return 0;
	for (i = b->st[fs].from + 1; i < b->st[fs].end; i++) {
		const struct df_inst *inst = bi_inst_at(b, i);
		int src, off;

		if (!inst || (src = bi_copy_from_stage(b, fs, inst)) < 0)
			continue;
		if (go_builder(b, (size_t)src, &off)) {
			if (off)
				gos++;
			else
				cgo++;
		}
	}
	if (cgo) {
		*why = "the Go binary is built with cgo (CGO_ENABLED=0 is not set), so it needs "
		       "a C library: distroless static would not run it";
		return -1;
	}
	if (!gos || !json_only)
		return 0;
	/* the program it starts is one of the files copied in */
	{
		struct df_span prog = { NULL, 0 };
		size_t d;

		for (i = b->st[fs].from + 1; i < b->st[fs].end; i++) {
			const struct df_inst *inst = bi_inst_at(b, i);

			if (inst && inst->cmd == DF_CMD_ENTRYPOINT && inst->nargs)
				prog = inst->args[0];
		}
		for (i = b->st[fs].from + 1; i < b->st[fs].end && !prog.ptr; i++) {
			const struct df_inst *inst = bi_inst_at(b, i);

			if (inst && inst->cmd == DF_CMD_CMD && inst->nargs)
				prog = inst->args[0];
		}
		if (!prog.ptr)
			return 0;
		for (d = prog.len; d > 0 && prog.ptr[d - 1] != '/'; d--)
			;
		prog.ptr += d;
		prog.len -= d;
		for (i = b->st[fs].from + 1; i < b->st[fs].end; i++) {
			const struct df_inst *inst = bi_inst_at(b, i);
			size_t a;

			if (!inst || (inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD))
				continue;
			for (a = 0; a < inst->nargs; a++) {
				struct df_span w = inst->args[a];

				while (w.len > 1 && w.ptr[w.len - 1] == '/')
					w.len--;
				for (d = w.len; d > 0 && w.ptr[d - 1] != '/'; d--)
					;
				if (prog.len && w.len - d == prog.len &&
				    memcmp(w.ptr + d, prog.ptr, prog.len) == 0)
					return 1;
			}
		}
	}
	return 0;
}

static void note_keep_build(struct bi *b, const struct plan *p, size_t r, uint32_t line)
{
	if (df_image_flag(p->img, "build-tool") && b->root[b->ns - 1] == r)
		note(b->ctx, line,
			    "%.*s in the final image ships its build toolchain: build in a separate "
			    "stage and copy the result into a smaller runtime image",
			    (int)p->f.word.len, p->f.word.ptr);
}

static void read_stages(struct bi *b);

/* Move root stage r to newtag (same repository) or newref (another one,
 * "" when not): the package steps translated when the target is Alpine (x
 * holds what checking them found), the FROM edited, and the commands the
 * new image lacks installed (tl->names lists them; the caller releases
 * tl->need and tl->names). Returns 1; 0 when nothing changed (noted); -1
 * when package steps may be half-translated. */
static int apply_move(struct bi *b, size_t r, struct plan *p, const char *newtag,
		      const char *newref, struct df_apk *x, struct tools *tl)
{
	struct df_ctx *ctx = b->ctx;
	struct df_doc *doc = b->doc;
	uint32_t line = doc->nodes[p->f.idx].line;
	const char *why = NULL;

	/* commands the new image lacks */
	memset(tl, 0, sizeof(*tl));
	{
		const struct df_variant *tv;
		const char *tpkg;

		if (newref[0]) {
			struct df_imageref nr;
			const struct df_image *ni;

			df_imageref_parse(newref, strlen(newref), &nr);
			ni = df_image_lookup(&nr);
			tv = ni ? df_variant_lookup(ni, nr.tag, NULL) : NULL;
		} else {
			struct df_span nt = { newtag, strlen(newtag) };

			tv = df_variant_lookup(p->img, nt, NULL);
		}
		tpkg = tv && tv->pkg ? tv->pkg : "";
		tl->from_kind = p->var->kind;
		tl->to_kind = tv ? tv->kind : "slim";
		tl->to_alpine = strcmp(tpkg, "apk") == 0;
		tl->x = x;
		if (!tl->to_alpine)
			bi_collect_installed(b, r, &x->native);
		bi_used_tools(b, r, tool_seen, tl);
		if (tl->to_alpine && x->bash && !df_pkgset_has(&x->apk, "bash", 4) &&
		    !df_pkgset_has(&tl->need, "bash", 4) && strcmp(p->var->kind, "alpine") != 0) {
			df_pkgset_add(&tl->need, "bash", 4);
			if (tl->names.len)
				df_buf_adds(&tl->names, ", ");
			df_buf_adds(&tl->names, "bash");
		}
		if (tl->need.len && strcmp(tpkg, "apk") != 0 && strcmp(tpkg, "apt") != 0) {
			note(ctx, line, "%.*s: the smaller variant lacks %s",
				    (int)p->f.word.len, p->f.word.ptr, tl->names.ptr);
			return 0;
		}
	}

	/* apply: package steps (later nodes first), then the FROM, then the
	 * install of missing commands right after it */
	if (tl->to_alpine && strcmp(p->var->pkg ? p->var->pkg : "", "apk") != 0) {
		memset(x->why, 0, sizeof(x->why));
		df_buf_reset(&x->apk);
		if (bi_xlate_chain(x, b, r, 1) < 0) {
			/* some RUNs may be translated already: drop the whole run */
			note(ctx, line, "%.*s stays: %s", (int)p->f.word.len,
				    p->f.word.ptr, x->why);
			return -1;
		}
		read_stages(b); /* RUNs may have gone */
	}
	if (edit_from(b, &p->f, newref[0] ? NULL : newtag, newref[0] ? newref : NULL, &why, 0) < 0) {
		note(ctx, line, "%.*s: %s%s%s would be smaller, not changed: %s",
			    (int)p->f.word.len, p->f.word.ptr, newref[0] ? "" : p->key,
			    newref[0] ? "" : ":", newref[0] ? newref : newtag, why);
		return 0;
	}
	if (tl->need.len && bi_append_install(b, r, tl->to_alpine, &tl->need) < 0) {
		struct df_buf ins = DF_BUF_INIT;
		size_t at = p->f.idx + 1;

		if (tl->to_alpine)
			df_buf_addf(&ins, "RUN apk add --no-cache%.*s", (int)tl->need.len - 1,
				    tl->need.ptr);
		else
			df_buf_addf(&ins, "RUN apt-get update && apt-get install -y "
				    "--no-install-recommends%.*s && rm -rf /var/lib/apt/lists/*",
				    (int)tl->need.len - 1, tl->need.ptr);
		if (df_doc_insert(doc, at, ins.ptr, ins.len) < 0)
			tl->names.len = 0;
		df_buf_release(&ins);
	}
	return 1;
}


/* Choose and apply the change for root stage r. Returns the changes made,
 * or -1 when the tree is half-edited and must be dropped. */
/* The packages of the stages on root r cannot go to Alpine (and why)? */
static const char *pkg_steps_bad(struct bi *b, size_t r, const struct plan *p,
				 struct df_apk *x)
{
	if (strcmp(p->var->pkg ? p->var->pkg : "", "apk") == 0)
		return NULL;
	if (!p->var->pkg && (bi_chain_run_has(b, r, "yum", 1, NULL) ||
			     bi_chain_run_has(b, r, "microdnf", 1, NULL) ||
			     bi_chain_run_has(b, r, "dnf", 1, NULL) ||
			     bi_chain_run_has(b, r, "apt-get", 1, NULL)))
		return "dfix does not know this image's package manager";
	if (bi_xlate_chain(x, b, r, 0) < 0)
		return x->why;
	return NULL;
}

/* Gems with C extensions compile in place: the full image has the compiler,
 * slim and alpine do not. */
static int gems_need_compiler(struct bi *b, size_t r, const struct plan *p)
{
	return strcmp(p->var->kind, "full") == 0 && strcmp(p->img->family, "ruby") == 0 &&
	       (bi_chain_run_has(b, r, "bundle", 1, NULL) || bi_chain_run_has(b, r, "gem", 1, NULL)) &&
	       !bi_chain_run_has(b, r, "build-essential", 1, NULL) &&
	       !bi_chain_run_has(b, r, "build-base", 1, NULL) && !bi_chain_run_has(b, r, "gcc", 1, NULL);
}

/* A builder on a full Python image installs packages without installing a
 * compiler: those without a musl wheel would not build on Alpine. */
static int wheels_need_compiler(struct bi *b, size_t q, const struct plan *p)
{
	static const char *const tools[] = { "pip", "pip3", "poetry", "pipenv", "uv" };
	size_t k;

	if (strcmp(p->var->kind, "full") != 0 || strcmp(p->img->family, "python") != 0 ||
	    bi_chain_run_has(b, q, "build-essential", 1, NULL) ||
	    bi_chain_run_has(b, q, "build-base", 1, NULL) || bi_chain_run_has(b, q, "gcc", 1, NULL))
		return 0;
	for (k = 0; k < sizeof(tools) / sizeof(tools[0]); k++)
		if (bi_chain_run_has(b, q, tools[k], 1, NULL))
			return 1;
	return 0;
}

/* Can root stage q, a builder whose output the stage being decided copies,
 * move to Alpine with it? NULL when it can (*p is read, newtag set, x holds
 * the check of its package steps); otherwise why not, in buf. */
static const char *builder_check(struct bi *b, size_t q, struct plan *p, char *newtag,
				 size_t ntcap, struct df_apk *x, char *buf, size_t cap)
{
	const char *bad = NULL, *why = NULL;

	memset(p, 0, sizeof(*p));
	if (df_from_read(b->doc, b->st, b->ns, q, &p->f) < 0 || p->f.stage >= 0 ||
	    !p->f.resolved || p->f.windows ||
	    !df_imageref_key(&p->f.ref, p->key, sizeof(p->key), &p->mirror) ||
	    !(p->img = df_image_get(p->key)) ||
	    !(p->var = df_variant_lookup(p->img, p->f.ref.tag, &p->version))) {
		snprintf(buf, cap, "dfix does not know the variant of its image");
		return buf;
	}
	if (!p->version.len || df_span_eq(p->version, "latest")) {
		if (!p->img->pin) {
			snprintf(buf, cap, "dfix does not know the version of %.*s",
				 (int)p->f.word.len, p->f.word.ptr);
			return buf;
		}
		p->version.ptr = p->img->pin;
		p->version.len = strlen(p->img->pin);
	}
	if (df_pass_ignored(b->ctx, b->doc, b->st[q].from))
		bad = "its FROM is under a dfix ignore pragma";
	else if (p->f.ref.has_digest)
		bad = "its image is pinned by digest, and dfix never unpins";
	else if (df_variant_target(p->var, "alpine", p->version, newtag, ntcap) < 0 ||
		 strchr(newtag, ':'))
		bad = "dfix knows no Alpine variant of its image";
	if (!bad && strcmp(p->img->family, "node") == 0)
		bad = bi_node_musl(b, q, buf, cap);
	if (!bad)
		bad = bi_glibc_downloads(b, q, buf, cap);
	if (!bad)
		bad = bi_glibc_copies(b, q, buf, cap);
	if (!bad && gems_need_compiler(b, q, p))
		bad = "bundle install builds native gems with the compiler the full image has";
	if (!bad && wheels_need_compiler(b, q, p))
		bad = "pip builds the packages that have no musl wheel with the compiler the full "
		      "image has";
	if (!bad)
		bad = pkg_steps_bad(b, q, p, x);
	if (!bad && edit_from(b, &p->f, newtag, NULL, &why, 1) < 0)
		bad = why;
	if (bad && bad != buf) {
		snprintf(buf, cap, "%s", bad);
		bad = buf;
	}
	return bad;
}

/* Move the builders in b->mates to Alpine, the runtime root r having moved:
 * one finding each. Returns 0, or -1 when one could not move after all. */
static int move_builders(struct bi *b, size_t r)
{
	size_t k, j;
	char rl[200], why[600];

	/* the last stage first: its edits do not move the earlier ones */
	for (k = 1; k < b->nmates; k++)
		for (j = k; j > 0 && b->mates[j - 1] < b->mates[j]; j--) {
			size_t tmp = b->mates[j];

			b->mates[j] = b->mates[j - 1];
			b->mates[j - 1] = tmp;
		}
	bi_stage_label(b, r, rl, sizeof(rl));
	for (k = 0; k < b->nmates; k++) {
		size_t q = b->mates[k];
		struct plan mp;
		struct df_apk xm;
		struct tools tl;
		char mtag[256];
		uint32_t line = 0;
		int rc = -1;

		read_stages(b);
		df_apk_init(&xm, b->ctx, b->doc);
		memset(&tl, 0, sizeof(tl));
		if (!builder_check(b, q, &mp, mtag, sizeof(mtag), &xm, why, sizeof(why))) {
			line = b->doc->nodes[mp.f.idx].line;
			rc = apply_move(b, q, &mp, mtag, "", &xm, &tl);
		}
		if (rc > 0) {
			struct df_buf msg = DF_BUF_INIT;

			df_buf_addf(&msg, "%s \xe2\x86\x92 %.*s:%s: stage %s moves to Alpine and "
				    "copies build output from this stage, so the builder switches "
				    "too, to keep the same libc (musl)", mp.f.resolved,
				    (int)(mp.f.ref.has_tag ? (size_t)(mp.f.ref.tag.ptr -
								      mp.f.resolved) - 1
							   : mp.f.ref.text.len),
				    mp.f.resolved, mtag, rl);
			if (xm.native.len)
				df_buf_adds(&msg, "; package steps translated to apk");
			if (tl.names.len)
				df_buf_addf(&msg, "; installs %s, which the smaller image lacks",
					    tl.names.ptr);
			df_ctx_finding(b->ctx, NULL, line, "%s", msg.ptr);
			df_buf_release(&msg);
		}
		df_buf_release(&tl.need);
		df_buf_release(&tl.names);
		df_apk_release(&xm);
		if (rc <= 0)
			return -1;
	}
	read_stages(b);
	return 0;
}

static int do_root(struct bi *b, size_t r)
{
	struct df_ctx *ctx = b->ctx;
	struct df_doc *doc = b->doc;
	struct plan p;
	const char *policy, *why = NULL, *fall = NULL, *chosen_key = NULL, *forced = NULL;
	char newtag[256], newref[512], reason[600], full[600], label[200];
	struct df_buf msg = DF_BUF_INIT;
	struct df_apk x;
	struct tools tl;
	uint32_t line;
	int final_root = r == b->ns - 1, java_runtime = 0, changes = 0;
	long musl_mate = -1;
	struct on_root it;
	size_t k;

	memset(&p, 0, sizeof(p));
	memset(b->along, 0, b->ns + 1);
	b->nmates = 0;
	if (df_from_read(doc, b->st, b->ns, r, &p.f) < 0 || p.f.stage >= 0 || !p.f.resolved ||
	    p.f.ref.scratch || p.f.windows)
		return 0;
	line = doc->nodes[p.f.idx].line;
	if (!df_imageref_key(&p.f.ref, p.key, sizeof(p.key), &p.mirror))
		return 0;
	p.img = df_image_get(p.key);
	policy = ctx->base ? ctx->base : NULL;
	if (policy && strcmp(policy, "keep") == 0)
		return 0;

	/* a final stage that only runs a Go binary */
	if (final_root && (!policy || strcmp(policy, "distroless") == 0) &&
	    (!p.img || (strcmp(p.img->family, "distroless") != 0 &&
			strcmp(p.img->family, "windows") != 0))) {
		const char *gwhy = NULL;
		int g = go_static(b, r, &gwhy);

		if (g > 0 && p.img) {
			const char *dl = "gcr.io/distroless/static-debian12";

			if (p.f.ref.has_digest) {
				note(ctx, line, "%.*s is pinned by digest: to move this "
					    "static Go runtime stage to %s, pin that image's digest "
					    "instead", (int)p.f.word.len, p.f.word.ptr, dl);
				return 0;
			}
			if (edit_from(b, &p.f, NULL, dl, &why, 0) < 0) {
				note(ctx, line, "%.*s -> %s not done: %s",
					    (int)p.f.word.len, p.f.word.ptr, dl, why);
				return 0;
			}
			snprintf(full, sizeof(full), "%s", p.f.resolved);
			sizes(&msg, p.key, p.f.ref.tag, dl, "latest", full, dl);
			df_ctx_finding(ctx, NULL, line, "%s: the final stage only runs a static Go "
				       "binary (CGO_ENABLED=0), which needs no OS at all", msg.ptr);
			df_buf_release(&msg);
			return 1;
		}
		if (g < 0 && p.img && strcmp(p.img->family, "os") != 0)
			note(ctx, line, "%s", gwhy);
		else if (g < 0)
			note(ctx, line, "%.*s kept off distroless static: %s",
				    (int)p.f.word.len, p.f.word.ptr, gwhy);
	}
	if (!p.img)
		return 0;
	if (strcmp(p.img->family, "distroless") == 0 || strcmp(p.img->family, "windows") == 0)
		return 0;
	p.var = df_variant_lookup(p.img, p.f.ref.tag, &p.version);
	if (!p.var || strcmp(p.var->kind, "windows") == 0)
		return 0;
	if (!p.version.len || df_span_eq(p.version, "latest")) {
		if (!p.img->pin)
			return 0;
		p.version.ptr = p.img->pin;
		p.version.len = strlen(p.img->pin);
	}
	if (!policy)
		policy = p.img->lean;

	/* the builders whose output it copies: glibc ones must move with it to
	 * Alpine, a musl one keeps it off glibc */
	if (bi_libc_family(p.img->family)) {
		size_t n = 0;

		bi_builders_of(b, r, p.img->family);
		for (k = 0; k < b->nmates; k++) {
			const struct df_image *mi;
			const struct df_variant *mv = bi_root_variant(b, b->mates[k], &mi);

			if (mv && strcmp(mv->libc, "musl") == 0) {
				if (musl_mate < 0)
					musl_mate = (long)b->mates[k];
			} else {
				b->mates[n++] = b->mates[k];
			}
		}
		b->nmates = n;
	}

	/* which variant */
	if (strcmp(p.img->family, "java") == 0) {
		static const char *const jdk_words[] = {
			"javac", "mvn", "mvnw", "gradle", "gradlew", "jar", "jlink", "jpackage",
			"jdeps", "native-image", "sbt", "lein", "ant",
		};

		/* a runtime stage runs java (or a jar) and builds nothing */
		java_runtime = 0;
		for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) {
			const struct df_inst *inst = it.inst;

			if ((inst->cmd == DF_CMD_CMD || inst->cmd == DF_CMD_ENTRYPOINT) &&
			    (df_apk_has_word(inst->rest, "java") ||
			     df_apk_has_text(inst->rest, ".jar")))
				java_runtime = 1;
		}
		for (k = 0; k < sizeof(jdk_words) / sizeof(jdk_words[0]); k++)
			if (bi_chain_run_has(b, r, jdk_words[k], 1, NULL))
				java_runtime = 0;
		for (bi_on_root_start(&it, r); java_runtime && bi_on_root_next(b, &it);) {
			const struct df_inst *inst = it.inst;

			if ((inst->cmd == DF_CMD_CMD || inst->cmd == DF_CMD_ENTRYPOINT))
				for (k = 0; k < sizeof(jdk_words) / sizeof(jdk_words[0]); k++)
					if (df_apk_has_word(inst->rest, jdk_words[k]))
						java_runtime = 0;
		}
	}
	if (strcmp(policy, "distroless") == 0) {
		note(ctx, line, "%.*s: dfix only moves static Go runtime stages to "
			    "distroless; using the %s variant", (int)p.f.word.len, p.f.word.ptr,
			    strcmp(p.img->lean, "keep") == 0 ? "current" : p.img->lean);
		policy = p.img->lean;
	}
	if (strcmp(policy, "keep") == 0) {
		note_keep_build(b, &p, r, line);
		return 0;
	}
	if (strcmp(p.img->family, "java") == 0) {
		if (!java_runtime) {
			if (strcmp(policy, "alpine") != 0)
				return 0;
			chosen_key = "alpine";
		} else {
			chosen_key = strcmp(policy, "alpine") == 0 ? "jre-alpine" : "jre";
		}
	} else {
		chosen_key = strcmp(policy, "alpine") == 0 ? "alpine"
			   : strcmp(policy, "jre") == 0 ? "slim" : policy;
	}
	if (strcmp(chosen_key, "slim") != 0 && strcmp(chosen_key, "alpine") != 0 &&
	    strcmp(chosen_key, "jre") != 0 && strcmp(chosen_key, "jre-alpine") != 0)
		return 0;
	if (musl_mate >= 0 && strcmp(p.var->libc, "musl") != 0 && !strstr(chosen_key, "alpine")) {
		/* build output made on musl does not go to a glibc image */
		forced = chosen_key;
		chosen_key = "alpine";
	}
	if (df_variant_target(p.var, chosen_key, p.version, newtag, sizeof(newtag)) < 0) {
		/* no JRE on Alpine for this image: its Alpine JDK then */
		if (strcmp(chosen_key, "jre-alpine") != 0 ||
		    df_variant_target(p.var, "alpine", p.version, newtag, sizeof(newtag)) < 0) {
			if (b->nmates && strcmp(p.var->libc, "musl") == 0)
				note(ctx, line, "%.*s (musl) copies build output from stage %s, "
				     "which builds on glibc: native code built there may not load "
				     "here; build it on the Alpine variant too", (int)p.f.word.len,
				     p.f.word.ptr, bi_stage_label(b, b->mates[0], label, sizeof(label)));
			note_keep_build(b, &p, r, line);
			return 0;
		}
		chosen_key = "alpine";
	}

	/* Alpine: what would break on musl or without apt */
	df_apk_init(&x, ctx, doc);
	if (strstr(chosen_key, "alpine")) {
		const char *bad = NULL;

		/* node modules built by a musl builder are fine: check only what
		 * the stage installs itself */
		if (strcmp(p.img->family, "node") == 0 &&
		    (musl_mate < 0 || bi_chain_run_has(b, r, "npm", 1, NULL) ||
		     bi_chain_run_has(b, r, "yarn", 1, NULL) || bi_chain_run_has(b, r, "pnpm", 1, NULL)))
			bad = bi_node_musl(b, r, reason, sizeof(reason));
		if (!bad)
			bad = bi_glibc_downloads(b, r, reason, sizeof(reason));
		if (!bad)
			bad = bi_glibc_copies(b, r, reason, sizeof(reason));
		if (!bad)
			bad = pkg_steps_bad(b, r, &p, &x);
		/* the builders it copies from must come along */
		for (k = 0; !bad && k < b->nmates; k++) {
			struct plan mp;
			struct df_apk xm;
			char mtag[256], mwhy[300];

			df_apk_init(&xm, ctx, doc);
			if (builder_check(b, b->mates[k], &mp, mtag, sizeof(mtag), &xm, mwhy,
					  sizeof(mwhy))) {
				struct df_span img = b->st[b->mates[k]].image;

				snprintf(reason, sizeof(reason), "the builder stage %s (%.*s) "
					 "cannot move to Alpine too (%s), and it must use the same "
					 "libc as this stage",
					 bi_stage_label(b, b->mates[k], label, sizeof(label)),
					 (int)img.len, img.ptr ? img.ptr : "", mwhy);
				bad = reason;
			}
			df_apk_release(&xm);
		}
		if (bad && musl_mate >= 0) {
			note(ctx, line, "%.*s stays: stage %s, whose build output it copies, is "
			     "on Alpine (musl), so it cannot move to a glibc image, and not to "
			     "Alpine, because %s", (int)p.f.word.len, p.f.word.ptr,
			     bi_stage_label(b, (size_t)musl_mate, label, sizeof(label)), bad);
			goto out;
		}
		if (bad) {
			const char *fk = strcmp(chosen_key, "jre-alpine") == 0 ? "jre" : "slim";

			b->nmates = 0;
			fall = bad;
			if (bad != reason) {
				snprintf(reason, sizeof(reason), "%s", bad);
				fall = reason;
			}
			df_apk_release(&x);
			df_apk_init(&x, ctx, doc);
			if (df_variant_target(p.var, fk, p.version, newtag, sizeof(newtag)) < 0) {
				note(ctx, line, "%.*s stays: not alpine, because %s",
						    (int)p.f.word.len, p.f.word.ptr, fall);
				return 0;
			}
			chosen_key = fk;
		}
	}
	if (gems_need_compiler(b, r, &p)) {
		note(ctx, line, "%.*s stays: bundle install builds native gems with the compiler "
		     "the full image has and %s lacks; build them in a separate stage",
		     (int)p.f.word.len, p.f.word.ptr, newtag);
		goto out;
	}
	/* a target in another repository (openjdk -> eclipse-temurin) */
	newref[0] = '\0';
	if (strchr(newtag, ':')) {
		if (p.mirror || p.f.ref.registry.len) {
			note(ctx, line, "%.*s: %s would be smaller; dfix does not change "
				    "the registry", (int)p.f.word.len, p.f.word.ptr, newtag);
			goto out;
		}
		if (!p.var->pkg && (bi_chain_run_has(b, r, "microdnf", 1, NULL) ||
				    bi_chain_run_has(b, r, "yum", 1, NULL) ||
				    bi_chain_run_has(b, r, "dnf", 1, NULL))) {
			note(ctx, line, "%.*s: %s would be smaller, but the stage "
				    "installs packages with another package manager",
				    (int)p.f.word.len, p.f.word.ptr, newtag);
			goto out;
		}
		snprintf(newref, sizeof(newref), "%s", newtag);
	}
	if (!newref[0]) {
		struct df_span nt = { newtag, strlen(newtag) };

		if (df_variant_lookup(p.img, nt, NULL) == p.var) {
			/* already that variant: the fallback is where it is */
			if (fall)
				note(ctx, line, "%.*s stays: not alpine, because %s",
					    (int)p.f.word.len, p.f.word.ptr, fall);
			goto out;
		}
	}
	if (p.f.ref.has_digest) {
		note(ctx, line, "%.*s is pinned by digest: to move to %s%s%s, pin the "
			    "digest of that image (dfix never unpins)", (int)p.f.word.len,
			    p.f.word.ptr, newref[0] ? "" : p.key, newref[0] ? "" : ":",
			    newref[0] ? newref : newtag);
		goto out;
	}

	changes = apply_move(b, r, &p, newtag, newref, &x, &tl);
	if (changes <= 0)
		goto out_tools;
	if (!tl.to_alpine)
		b->nmates = 0;
	{
		char to[700];

		if (newref[0])
			snprintf(to, sizeof(to), "%s", newref);
		else
			snprintf(to, sizeof(to), "%.*s:%s",
				 (int)(p.f.ref.has_tag ? (size_t)(p.f.ref.tag.ptr - p.f.resolved) - 1
						       : p.f.ref.text.len), p.f.resolved, newtag);
		snprintf(full, sizeof(full), "%s", p.f.resolved);
		if (newref[0]) {
			struct df_imageref nr;
			char k2[512];

			df_imageref_parse(newref, strlen(newref), &nr);
			df_imageref_key(&nr, k2, sizeof(k2), NULL);
			{
				char tg[200];

				snprintf(tg, sizeof(tg), "%.*s", (int)nr.tag.len, nr.tag.ptr);
				sizes(&msg, p.key, p.f.ref.tag, k2, tg, full, to);
			}
		} else {
			sizes(&msg, p.key, p.f.ref.tag, p.key, newtag, full, to);
		}
		if (fall)
			df_buf_addf(&msg, "; not alpine, because %s", fall);
		else if (tl.to_alpine)
			df_buf_adds(&msg, "; nothing in the stage needs glibc");
		else if (java_runtime && strcmp(chosen_key, "jre") == 0)
			df_buf_adds(&msg, "; the stage only runs Java, so the JRE is enough");
		if (forced)
			df_buf_addf(&msg, "; alpine rather than %s: stage %s, whose build output "
				    "it copies, is on Alpine (musl)", forced,
				    bi_stage_label(b, (size_t)musl_mate, label, sizeof(label)));
		for (k = 0; k < b->nmates; k++)
			df_buf_addf(&msg, "%s%s", k > 0 ? ", "
				    : b->nmates > 1 ? "; its builder stages " : "; its builder stage ",
				    bi_stage_label(b, b->mates[k], label, sizeof(label)));
		if (b->nmates)
			df_buf_addf(&msg, " move%s to Alpine too, to keep the same libc",
				    b->nmates == 1 ? "s" : "");
		if (tl.to_alpine && x.native.len)
			df_buf_adds(&msg, "; package steps translated to apk");
		if (tl.names.len)
			df_buf_addf(&msg, "; installs %s, which the smaller image lacks", tl.names.ptr);
		if (!tl.to_alpine && strcmp(p.img->family, "python") == 0 &&
		    strcmp(p.var->kind, "full") == 0 &&
		    (bi_chain_run_has(b, r, "pip", 1, NULL) || bi_chain_run_has(b, r, "pip3", 1, NULL)) &&
		    !df_pkgset_has(&x.native, "build-essential", 15) &&
		    !df_pkgset_has(&x.native, "gcc", 3))
			df_buf_adds(&msg, "; slim has no compiler: a package pip must build from "
				    "source needs build-essential");
		df_ctx_finding(ctx, NULL, line, "%s", msg.ptr);
	}
	if (b->nmates && move_builders(b, r) < 0)
		changes = -1;
out_tools:
	df_buf_release(&tl.need);
	df_buf_release(&tl.names);
out:
	df_buf_release(&msg);
	df_apk_release(&x);
	return changes;
}

static void read_stages(struct bi *b)
{
	size_t s;

	free(b->st);
	free(b->root);
	b->st = df_stages(b->doc, &b->ns);
	b->root = df_xcalloc(b->ns + 1, sizeof(*b->root));
	/* a stage's parent comes before it: its root is already known */
	for (s = 0; s < b->ns; s++) {
		struct df_from f;

		if (df_from_read(b->doc, b->st, b->ns, s, &f) == 0 && f.stage >= 0 &&
		    (size_t)f.stage < s)
			b->root[s] = b->root[f.stage];
		else
			b->root[s] = s;
	}
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct bi b;
	size_t s, keep = ctx->nfindings;
	unsigned char *reaches;
	int changes = 0;

	if (doc->escape == '`' || df_doc_devcontainer(doc))
		return 0; /* Windows; a development container wants its tools */
	memset(&b, 0, sizeof(b));
	b.ctx = ctx;
	b.doc = doc;
	read_stages(&b);
	b.mates = df_xcalloc(b.ns + 1, sizeof(*b.mates));
	b.along = df_xcalloc(b.ns + 1, 1);
	/* the roots whose stages reach the final image */
	reaches = df_xcalloc(b.ns + 1, 1);
	for (s = 0; s < b.ns; s++)
		if (b.st[s].reaches_final)
			reaches[b.root[s]] = 1;
	/* last root first; a change moves the nodes after it, so the stages
	 * are read again (their number and order stay) */
	for (s = b.ns; s-- > 0;) {
		int n;

		if (b.root[s] != s || !reaches[s] || df_pass_ignored(ctx, doc, b.st[s].from))
			continue;
		n = do_root(&b, s);
		if (n < 0) {
			/* the driver drops a tree whose pass reports no change */
			df_ctx_drop_findings(ctx, keep);
			changes = 0;
			break;
		}
		changes += n;
		if (n)
			read_stages(&b);
	}
	free(reaches);
	free(b.mates);
	free(b.along);
	free(b.root);
	free(b.st);
	return changes;
}

const struct df_pass df_pass_base_image = {
	.id = "base-image",
	.level = DF_LEVEL_REVIEW,
	.codes = "",
	.summary = "smaller base images (alpine, slim, JRE, distroless) for what ships",
	.doc = df_base_image_doc,
	.run = run,
};
