/*
 * xsc-sim: the simulated Xen host's tool (../shared/sim-abi.md). This
 * file reads the global options and hands the command to its file:
 * host.c (create, destroy, shutdown), xscmd.c (xs) and guest.c (guest).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "sim.h"

struct sim_command {
	const char	*name;
	int		(*run)(const struct sim_env *, int, char **);
};

static const struct sim_command sim_commands[] = {
	{ "create", host_create },
	{ "destroy", host_destroy },
	{ "shutdown", host_shutdown },
	{ "introduce", host_introduce },
	{ "xs", xscmd_main },
	{ "guest", guest_main },
};

/* Print the usage: the whole manual, in short. */
static void
usage(FILE *f)
{
	fprintf(f,
"usage: xsc-sim [--root DIR] [--socket PATH] COMMAND ARGS...\n"
"\n"
"The simulated Xen host of sim-abi.md: plays the toolstack and the guests\n"
"for xsconsoled --sim-root DIR.\n"
"\n"
"  --root DIR      the simulated host (default $XSC_SIM_ROOT)\n"
"  --socket PATH   the store's Unix socket, for create and destroy\n"
"                  (default $XENSTORED_PATH, else " SIM_DEFAULT_SOCKET ")\n"
"  -h, --help      this help;  -V, --version  the version\n"
"\n"
"create [--first ID] [--name PREFIX] [--no-introduce] [--console-limit N] N\n"
"    Make N domains with consecutive domids (default first: one past the\n"
"    highest under DIR/domains, or 1): DIR/domains/<id>/ with state,\n"
"    name (<PREFIX><id>, default prefix \"guest\"), uuid, and the pages\n"
"    gnttab/0 (console) and gnttab/1 (xenstore); the store keys libxl\n"
"    writes, in one transaction per domain (console/limit default 1048576,\n"
"    store port 1, console port 2); then XS_INTRODUCE (unless\n"
"    --no-introduce). Prints each domid made, one per line.\n"
"\n"
"destroy [--timeout SEC] ID...\n"
"    Write \"dying\" into each state, raise VIRQ_DOM_EXC, wait (default 10 s)\n"
"    until the daemon has released each domain, then remove\n"
"    /local/domain/<id> and /vm/<uuid> from the store and the domain's\n"
"    directory. Exit status 2 on timeout (the domain is removed anyway).\n"
"\n"
"introduce [--times FILE] ID...\n"
"    XS_INTRODUCE each domain (made with create --no-introduce); with\n"
"    --times, write \"<domid> <microseconds>\" per introduction.\n"
"\n"
"shutdown ID...\n"
"    Write \"shutdown\" into each state and raise VIRQ_DOM_EXC.\n"
"\n"
"xs [--timeout MS] ID [COMMAND...]\n"
"    A xenstore client speaking the raw protocol over domain ID's ring.\n"
"    Each argument is one command; with none, stdin gives one per line.\n"
"      read P | write P V (V: the rest of the line) | mkdir P | rm P\n"
"      dir P | getperms P | setperms P PERM... | watch P TOKEN\n"
"      unwatch P TOKEN | txstart | txend T|F | domainpath ID | introduced ID\n"
"      raw TYPE [STRING...]   any type (number or name), strings NUL-ended,\n"
"                             in the open transaction if the type would be\n"
"      rawtx TX TYPE [STRING...]  the same with transaction id TX\n"
"      event [TIMEOUT_MS]     the next watch event: EVENT <path> <token>\n"
"      sleep MS | corrupt (req_prod = req_cons + 0x10000)\n"
"      error [WAIT_MS]        the page's error field (waiting for non-zero)\n"
"    Each command prints one line: OK, OK <value>, ERR <ERRNAME>, EVENT\n"
"    or TIMEOUT. Bytes outside printable ASCII, and '\\', print as \\xNN;\n"
"    \\xNN in a command is decoded. txstart's id goes on every command on\n"
"    nodes until txend. Replies wait --timeout MS (default 5000).\n"
"    Impossible indices left on the page are reset to 0 first, as Linux\n"
"    does; on exit, its watches are removed and its transaction aborted,\n"
"    as when a program closes /dev/xen/xenbus. Exit status: 0, 1 if a\n"
"    command failed, 2 if a reply timed out, 3 if the daemon broke the\n"
"    ring protocol.\n"
"\n"
"guest [options] ID...|--all\n"
"    Guest agents for many domains in one process (--all: every running\n"
"    domain under DIR/domains). Exits when all work is done.\n"
"      --console-file F      write F's bytes to each console\n"
"      --console-bytes N     or N bytes of generated text, per domain:\n"
"                            80-byte lines \"dom<id> line <k> <letters>\\n\"\n"
"      --console-rate BPS    bytes per second per guest (0: no limit)\n"
"      --console-chunk N     bytes per write, each notified (default 1024)\n"
"      --console-input FILE  append each guest's console input to FILE.<id>\n"
"      --no-echo             do not echo console input back to the output\n"
"      --boot                a PV guest's boot over xenbus: reads, ~20\n"
"                            writes, a watch, 2 transactions; prints\n"
"                            \"boot <id> <microseconds>\" per guest\n"
"      --rtt N               N reads of the guest's name, timed\n"
"      --rtt-writes          the round trips write data/rtt = 1, 2... N\n"
"      --rtt-gap MS          wait MS after each reply (default 0)\n"
"      --report FILE         \"key value\" lines: ops, errors, latencies...\n"
"      --timeout MS          a reply, or console output left unread\n"
"                            (default 5000)\n"
"      --forever             run until SIGTERM or SIGINT, echoing input\n"
"    Exit status as for xs.\n");
}

/* Read the global options and run the command. */
int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct sim_env			 env;
	size_t				 i;
	int				 ch;

	log_open(NULL, LOG_LEVEL_WARN);
	env.root = getenv("XSC_SIM_ROOT");
	env.socket = getenv("XENSTORED_PATH");
	if (env.socket == NULL || *env.socket == '\0')
		env.socket = SIM_DEFAULT_SOCKET;
	while ((ch = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			env.root = optarg;
			break;
		case 's':
			env.socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return (SIM_EXIT_OK);
		case 'V':
			printf("xsc-sim %s\n", PACKAGE_VERSION);
			return (SIM_EXIT_OK);
		default:
			usage(stderr);
			return (SIM_EXIT_ERR);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return (SIM_EXIT_ERR);
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return (SIM_EXIT_OK);
	}
	for (i = 0; i < sizeof sim_commands / sizeof sim_commands[0]; i++) {
		if (strcmp(argv[optind], sim_commands[i].name) == 0)
			return (sim_commands[i].run(&env, argc - optind,
			    argv + optind));
	}
	fprintf(stderr, "xsc-sim: unknown command: %s (try xsc-sim --help)\n",
	    argv[optind]);
	return (SIM_EXIT_ERR);
}
