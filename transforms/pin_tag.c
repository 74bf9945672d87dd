/*
 * pin_tag.c - pin-tag: `FROM image` without a tag or with `:latest` gets the
 * version the image table names (hadolint DL3006, DL3007).
 *
 * Only the image word changes. Stage names, scratch, references with
 * variables and digest-pinned references are left alone; an image the table
 * does not know is reported, not guessed.
 */
#include <string.h>

#include "imageref.h"
#include "internal.h"

static int pin_one(struct df_ctx *ctx, struct df_doc *doc, const struct df_from *f)
{
	const struct df_node *n = &doc->nodes[f->idx];
	const struct df_inst *inst = n->inst;
	const struct df_image *img;
	const char *code;
	struct df_edits e = { 0 };
	size_t off, start, end;
	char key[512];
	int latest;

	if (f->has_var || !f->resolved || f->stage >= 0 || f->ref.scratch || f->ref.has_digest ||
	    f->windows)
		return 0;
	latest = f->ref.has_tag && df_span_eq(f->ref.tag, "latest");
	if (f->ref.has_tag && !latest)
		return 0;
	code = latest ? "DL3007" : "DL3006";
	img = df_image_lookup(&f->ref);
	if (!img || !img->pin) {
		df_imageref_key(&f->ref, key, sizeof(key), NULL);
		if (img && strcmp(img->family, "distroless") == 0)
			return 0; /* no version tags: pinned by digest or not at all */
		df_img_note(ctx, code, n->line,
			    "%.*s has %s: pin a version (dfix does not know one for %s)",
			    (int)f->word.len, f->word.ptr, latest ? "the tag latest" : "no tag", key);
		return 0;
	}
	off = df_inst_log_off(inst, f->word);
	if (off == (size_t)-1 || df_inst_range(inst, off, f->word.len, &start, &end) < 0)
		return 0;
	if (latest) {
		/* replace "latest" (the last 6 bytes of the word) */
		df_edits_add(&e, end - 6, end, img->pin, strlen(img->pin));
	} else {
		char buf[128];
		int k = snprintf(buf, sizeof(buf), ":%s", img->pin);

		df_edits_add(&e, end, end, buf, (size_t)k);
	}
	if (df_edits_apply(doc, f->idx, &e) < 0)
		return 0;
	df_ctx_finding(ctx, code, n->line, "%.*s -> %.*s%s%s: %s; %s is the version in dfix's image table",
		       (int)f->word.len, f->word.ptr,
		       (int)(f->word.len - (latest ? 6 : 0)), f->word.ptr, latest ? "" : ":",
		       img->pin, latest ? "latest moves under you" : "an untagged image is latest",
		       img->pin);
	return 1;
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct df_stage *st;
	size_t ns, s;
	int changes = 0;

	st = df_stages(doc, &ns);
	for (s = 0; s < ns; s++) {
		struct df_from f;

		if (df_stage_settled(ctx, doc, s) || df_pass_ignored(ctx, doc, st[s].from) ||
		    df_from_read(doc, st, ns, s, &f) < 0)
			continue;
		changes += pin_one(ctx, doc, &f);
	}
	free(st);
	/* a pinned tag is neither missing nor latest */
	ctx->self_settled = changes > 0;
	return changes;
}

const struct df_pass df_pass_pin_tag = {
	.id = "pin-tag",
	.level = DF_LEVEL_REVIEW,
	.codes = "DL3006,DL3007",
	.summary = "give FROM images without a tag or with :latest a pinned version",
	.doc = "A FROM image without a tag, or with :latest, changes whenever the image is\n"
	       "published again: builds stop being reproducible and a new major version\n"
	       "can arrive unannounced. pin-tag writes the version dfix's image table names\n"
	       "for that image (node -> node:22, python:latest -> python:3.12, debian ->\n"
	       "debian:bookworm, ...) and says what it chose. Stage names, scratch, images\n"
	       "given by a variable and digest-pinned references are left alone; an image\n"
	       "the table does not know is reported. The table is transforms/images.tsv;\n"
	       "DFIX_IMAGES=file overrides its rows.\n",
	.run = run,
	.stage_local = 1,
};
