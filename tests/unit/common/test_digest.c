/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared state digest: canonical form, every field matters, known answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/digest.h"
#include "common/msg.h"

/* The state of the known-answer vector in docs/protocol.md. */
static const struct vprn_installed_tree kat_trees[] = {
	{ 0xef010001u, 0, 1763800000000ull },
	{ 0xe8010203u, 0xc0a8010au, 5 },
};
static const uint32_t kat_in[] = { 0x00001001u, 0x00000100u };
static const uint32_t kat_out[] = { 0x00002002u };

/* Documented in docs/protocol.md ("State digest"); a change here breaks old EDs. */
static const char kat_empty[] = "b62b123e771bad70e008812ca2fcadb8975859e60643177949613049197645bb";
static const char kat_state[] = "8b3c0ace84fa4e1c9b2e0ac01c6a1a3e22109bf8fb14898ccae96be9266ffe63";

static void digest_of(const struct vprn_installed_tree *t, size_t nt, const uint32_t *in, size_t ni,
	const uint32_t *out, size_t no, uint8_t d[32])
{
	assert_int_equal(vprn_state_digest(t, nt, in, ni, out, no, d), 0);
}

static void test_known_answers(void **state)
{
	uint8_t d[32];
	char hex[65];

	(void)state;
	digest_of(NULL, 0, NULL, 0, NULL, 0, d);
	printf("empty: %s\n", vprn_digest_hex(d, 32, hex));
	assert_string_equal(hex, kat_empty);
	digest_of(kat_trees, 2, kat_in, 2, kat_out, 1, d);
	printf("state: %s\n", vprn_digest_hex(d, 32, hex));
	assert_string_equal(hex, kat_state);
}

static void test_order_and_duplicates(void **state)
{
	struct vprn_installed_tree t[3] = { kat_trees[1], kat_trees[0], kat_trees[1] };
	uint32_t in[3] = { 0x100, 0x1001, 0x100 };
	uint32_t out[2] = { 0x2002, 0x2002 };
	uint8_t a[32], b[32];

	(void)state;
	digest_of(kat_trees, 2, kat_in, 2, kat_out, 1, a);
	digest_of(t, 3, in, 3, out, 2, b);
	assert_memory_equal(a, b, 32);
	/* the inputs are left as they were */
	assert_int_equal(t[0].group, kat_trees[1].group);
	assert_int_equal(in[0], 0x100);
}

static void test_every_field_matters(void **state)
{
	uint8_t ref[32], d[32];
	struct vprn_installed_tree t[2];
	uint32_t in[2], out[1];

	(void)state;
	digest_of(kat_trees, 2, kat_in, 2, kat_out, 1, ref);
	for (int field = 0; field < 9; field++) {
		size_t nt = 2, ni = 2, no = 1;

		memcpy(t, kat_trees, sizeof(t));
		memcpy(in, kat_in, sizeof(in));
		memcpy(out, kat_out, sizeof(out));
		switch (field) {
		case 0:
			t[0].group ^= 1;
			break;
		case 1:
			t[0].source ^= 1;
			break;
		case 2:
			t[0].version ^= 1ull << 40;
			break;
		case 3:
			t[1].version ^= 1;
			break;
		case 4:
			in[1] ^= 0x10000;
			break;
		case 5:
			out[0] ^= 1;
			break;
		case 6:
			nt = 1;
			break;
		case 7:
			ni = 1;
			break;
		case 8:
			no = 0;
			break;
		}
		digest_of(t, nt, in, ni, out, no, d);
		assert_memory_not_equal(ref, d, 32);
	}
	/* the same SPI inbound or outbound is not the same state */
	digest_of(NULL, 0, kat_out, 1, NULL, 0, ref);
	digest_of(NULL, 0, NULL, 0, kat_out, 1, d);
	assert_memory_not_equal(ref, d, 32);
}

static void test_canon(void **state)
{
	struct vprn_installed_tree t[3] = { { 2, 0, 1 }, { 1, 5, 9 }, { 2, 0, 1 } };
	uint32_t in[4] = { 9, 3, 9, 1 }, out[1] = { 7 };
	uint32_t nt = 3, ni = 4, no = 1;

	(void)state;
	vprn_state_canon(t, &nt, in, &ni, out, &no);
	assert_int_equal(nt, 2);
	assert_int_equal(t[0].group, 1);
	assert_int_equal(t[1].group, 2);
	assert_int_equal(ni, 3);
	assert_int_equal(in[0], 1);
	assert_int_equal(in[1], 3);
	assert_int_equal(in[2], 9);
	assert_int_equal(no, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_order_and_duplicates),
		cmocka_unit_test(test_every_field_matters),
		cmocka_unit_test(test_canon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
