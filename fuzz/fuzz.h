/*
 * fuzz.h - what every libFuzzer target here shares: the entry point's
 * prototype (the targets are built with -Wmissing-prototypes) and REQUIRE,
 * which turns a broken property into a crash libFuzzer reports with the
 * input (assert() would vanish under -DNDEBUG).
 */
#ifndef MS_FUZZ_H
#define MS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(cond)                                                             \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "property broken: %s (%s:%d)\n", #cond,  \
				__FILE__, __LINE__);                              \
			abort();                                                  \
		}                                                                 \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
