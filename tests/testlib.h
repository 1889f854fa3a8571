/* What several unit tests share: a fake connection transport that keeps
 * what a connection sends, and permission lists from text. */
#ifndef XSC_TESTLIB_H
#define XSC_TESTLIB_H

#include "conn.h"
#include "perms.h"

/* ops_arg must be an evbuffer; the connection's output is appended to it
 * and it is freed with the connection. */
extern const struct conn_ops test_fake_ops;

struct perms	*test_perms_text(const char *);

#endif
