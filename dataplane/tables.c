/* SPDX-License-Identifier: BSD-3-Clause */
/* Published tables (first cut: none yet). */

#include "dataplane/pipeline.h"

int dp_tables_init(struct dp *dp)
{
	(void)dp;
	return 0;
}

void dp_tables_fini(struct dp *dp)
{
	(void)dp;
}
