/* SPDX-License-Identifier: BSD-3-Clause */
/* Prints the configuration tables of docs/vnoc.md from the loader's option table. */
#include <stdio.h>

#include "policy_opts.h"

int main(void)
{
	vnoc_opts_doc(stdout);
	return 0;
}
