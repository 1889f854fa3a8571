/*
 * A control for history-bench.sh: a thread that takes a set share of one
 * CPU the way the database writer does, in bursts (busy for on_us, then
 * asleep, every period_us), and nothing else. Run beside a daemon
 * without a database, it shows what that much CPU taken away costs the
 * store's throughput on this machine, whatever the CPU is spent on.
 *
 * usage: cpuburn ON_US PERIOD_US
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

int
main(int argc, char **argv)
{
	volatile uint64_t	spin = 0;
	struct timespec		ts;
	uint64_t		t0;
	long			on_us, period_us;

	if (argc != 3 || (on_us = atol(argv[1])) <= 0 ||
	    (period_us = atol(argv[2])) <= on_us || period_us >= 1000000) {
		fprintf(stderr, "usage: cpuburn ON_US PERIOD_US "
		    "(0 < ON_US < PERIOD_US < 1000000)\n");
		return (2);
	}
	for (;;) {
		t0 = now_ns();
		while (now_ns() - t0 < (uint64_t)on_us * 1000)
			spin++;
		ts.tv_sec = 0;
		ts.tv_nsec = (period_us - on_us) * 1000;
		nanosleep(&ts, NULL);
	}
}
