/*
 * xsc-sim: the simulated Xen host's tool (../shared/sim-abi.md). It plays
 * the toolstack (create, destroy, shutdown: domain directories and the
 * store keys libxl writes) and the guests (a xenstore client over a
 * domain's ring; many guest agents in one process).
 */
#ifndef XSC_SIM_H
#define XSC_SIM_H

#include <stdint.h>
#include <stdio.h>

#define SIM_DEFAULT_SOCKET	"/run/xenstored/socket"

/* Exit statuses of every command. */
#define SIM_EXIT_OK		0
#define SIM_EXIT_ERR		1	/* an ERR reply, a failure, bad usage */
#define SIM_EXIT_TIMEOUT	2	/* the daemon did not answer in time */
#define SIM_EXIT_BROKEN		3	/* the daemon broke the ring protocol */

struct sim_env {
	const char	*root;		/* --root or $XSC_SIM_ROOT */
	const char	*socket;	/* --socket, $XENSTORED_PATH or default */
};

int	 host_create(const struct sim_env *, int, char **);
int	 host_destroy(const struct sim_env *, int, char **);
int	 host_shutdown(const struct sim_env *, int, char **);
int	 host_introduce(const struct sim_env *, int, char **);
int	 xscmd_main(const struct sim_env *, int, char **);
int	 guest_main(const struct sim_env *, int, char **);

/* util.c */
uint64_t now_us(void);
int	 sim_parse_u64(const char *, uint64_t, uint64_t *);
int	 sim_parse_domid(const char *, uint32_t *);
int	 sim_parse_ms(const char *, uint64_t *);
void	 sim_esc_write(FILE *, const void *, size_t);
char	*sim_unescape(const char *, size_t, size_t *);
int	 sim_need_root(const struct sim_env *, const char *);
void	 sim_sleep_us(uint64_t);
int	 sim_rm_rf(const char *);
const char *sim_type_name(uint32_t);
int	 sim_type_parse(const char *, uint32_t *);

#endif
