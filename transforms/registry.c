/* registry.c - every pass, in the order the driver runs them.
 * A new pass is one file in transforms/ plus one line here. */
#include "dfix.h"

const struct df_pass *const df_passes[] = {
	NULL
};
