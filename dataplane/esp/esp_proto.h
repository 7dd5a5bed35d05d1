/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_ESP_PROTO_H
#define VPRN_DATAPLANE_ESP_PROTO_H

/* Protocol constants used by the ESP engine, with their RFC sections. */

#define ESP_IPPROTO_ESP 50	     /* RFC 4303 section 2 (IANA protocol number) */
#define ESP_IPPROTO_UDP 17	     /* RFC 3948 section 2 */
#define ESP_NH_IPV4 4		     /* RFC 4303 section 2.6: tunnel mode, inner IPv4 */
#define ESP_NH_DUMMY 59		     /* RFC 4303 section 2.6: dummy packet (no next header) */
#define ESP_HDR_LEN 8		     /* RFC 4303 section 2: SPI (4) + sequence number (4) */
#define ESP_TRAILER_LEN 2	     /* RFC 4303 section 2: pad length (1) + next header (1) */
#define ESP_SPI_MIN 256		     /* RFC 4303 section 2.1: 1..255 reserved by IANA, 0 local */
#define ESP_ICV_LEN 16		     /* RFC 4106 section 6 (GCM, 16 used), RFC 4868 section 2.3 */
#define ESP_GCM_IV_LEN 8	     /* RFC 4106 section 3.1: explicit IV */
#define ESP_GCM_SALT_LEN 4	     /* RFC 4106 section 4 */
#define ESP_GCM_NONCE_LEN 12	     /* RFC 4106 section 4: salt || explicit IV */
#define ESP_GCM_ALIGN 4		     /* RFC 4106 section 3.2: 4-byte alignment of the trailer */
#define ESP_CBC_IV_LEN 16	     /* RFC 3602 section 3 */
#define ESP_CBC_BLOCK 16	     /* RFC 3602 section 3: pad to the AES block */
#define ESP_HMAC_KEY_LEN 32	     /* RFC 4868 section 2.1.1: HMAC-SHA-256 key */
#define ESP_SHA256_BLOCK 64	     /* FIPS 180-4: SHA-256 block (for HMAC ipad/opad) */
#define ESP_SEQ_SOFT_32 (1ull << 31) /* rekey early: half of the 32-bit space */
#define ESP_SEQ_SOFT_64 (1ull << 63)

#define ESP_IPV4_HDR_MIN 20 /* RFC 791 */
#define ESP_IPV4_VERSION 4
#define ESP_IPV4_DF 0x4000
#define ESP_IPV4_MF 0x2000
#define ESP_IPV4_OFF_MASK 0x1fff
#define ESP_UDP_HDR_LEN 8 /* RFC 768 */

#endif /* VPRN_DATAPLANE_ESP_PROTO_H */
