/*
 * CRC-32C (Castagnoli), the checksum of WAL records.
 *
 * crc32c() uses the SSE4.2 crc32 instruction when the CPU has it (checked
 * once, at the first call) and an 8-way table otherwise.  Checksums chain:
 * crc32c(crc32c(0, a, n), b, m) is the checksum of a followed by b.
 * crc32c(0, "123456789", 9) is 0xe3069283.
 */
#ifndef CRC32C_H
#define CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *, size_t);

/* The two implementations, for tests and benchmarks. */
uint32_t crc32c_sw(uint32_t crc, const void *, size_t);
/* Only when crc32c_hw_available() says so. */
uint32_t crc32c_hw(uint32_t crc, const void *, size_t);
int crc32c_hw_available(void);

#endif
