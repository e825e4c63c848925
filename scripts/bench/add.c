/* The call-overhead probe: a trivial export, so calls per second measure only the cost of
 * crossing from Python into the engine and back. */
#include "bench.h"

EXPORT(add) int32_t add(int32_t a, int32_t b) { return a + b; }
