/*
 * What the C benchmarks of the console log share (db-bench.c,
 * tail-bench.c): the same pseudo-random sequence on every run, and the
 * clocks they time with.
 */
#ifndef XSC_BENCH_H
#define XSC_BENCH_H

#include <stdint.h>
#include <time.h>

/* xorshift64: the same sequence on every run (from this seed, or one
 * the program sets). */
static uint64_t	rng_state = 88172645463325252ULL;

static inline uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (rng_state);
}

/* ns on a clock. */
static inline uint64_t
clock_ns(clockid_t id)
{
	struct timespec	ts;

	clock_gettime(id, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Nanoseconds on the monotonic clock. */
static inline uint64_t
now_ns(void)
{
	return (clock_ns(CLOCK_MONOTONIC));
}

/* Wall-clock ns, for capture times. */
static inline uint64_t
wall_ns(void)
{
	return (clock_ns(CLOCK_REALTIME));
}

#endif
