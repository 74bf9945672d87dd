/* registry.c - every pass, in the order the driver runs them.
 * A new pass is one file in transforms/ plus one line here. */
#include "dfix.h"

extern const struct df_pass df_pass_format;
extern const struct df_pass df_pass_dockerignore;
extern const struct df_pass df_pass_multi_stage;

extern const struct df_pass df_pass_merge_runs;
extern const struct df_pass df_pass_layer_cleanup;
extern const struct df_pass df_pass_manifests_first;

extern const struct df_pass df_pass_modernize;
extern const struct df_pass df_pass_exec_form;
extern const struct df_pass df_pass_pin_tag;
extern const struct df_pass df_pass_base_image;
extern const struct df_pass df_pass_non_root;

const struct df_pass *const df_passes[] = {
	&df_pass_format,
	&df_pass_multi_stage,
	&df_pass_dockerignore,
	&df_pass_modernize,
	&df_pass_layer_cleanup,
	&df_pass_merge_runs,
	&df_pass_manifests_first,
	&df_pass_exec_form,
	&df_pass_pin_tag,
	&df_pass_base_image,
	&df_pass_non_root,
	NULL
};
