/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_TESTS_EAL_HELPER_H
#define VPRN_TESTS_EAL_HELPER_H

/*
 * EAL for unit tests: no hugepages, no PCI, a unique file prefix per process
 * (tests run in parallel), one lcore unless the test asks for more, and any
 * extra arguments (e.g. "--vdev=net_ring0").
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

static inline int vprn_test_eal_init(const char *lcores, int n_extra, const char *const extra[])
{
	char prefix[64];
	char lc[64];
	char *argv[32];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=vprn-ut-%d", (int)getpid());
	snprintf(lc, sizeof(lc), "-l%s", lcores != NULL ? lcores : "0");
	argv[argc++] = (char *)"unit-test";
	argv[argc++] = lc;
	argv[argc++] = (char *)"--no-huge";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"-m";
	argv[argc++] = (char *)"512";
	argv[argc++] = prefix;
	argv[argc++] = (char *)"--log-level=lib.*:error";
	for (int i = 0; i < n_extra && argc < 31; i++)
		argv[argc++] = (char *)extra[i];
	argv[argc] = NULL;
	return rte_eal_init(argc, argv);
}

#endif /* VPRN_TESTS_EAL_HELPER_H */
