/*
 * Making bytes from the store or a guest's console safe to print, for the
 * tools that read the log: a growing buffer, and the escapes of a
 * terminal (cat -v), of xenstore-ls, and of JSON. Self-contained: no
 * knowledge of the log or of the programs.
 */
#ifndef XSC_ESC_H
#define XSC_ESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing buffer; zeroed is empty. p is NUL-terminated once used. */
struct esc_buf {
	char	*p;
	size_t	 len, cap;
};

void	 esc_add(struct esc_buf *, const void *, size_t);
void	 esc_adds(struct esc_buf *, const char *);
void	 esc_addf(struct esc_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 esc_reset(struct esc_buf *);
void	 esc_free(struct esc_buf *);

size_t	 esc_utf8(const unsigned char *, size_t, uint32_t *);
bool	 esc_unsafe_cp(uint32_t);

/* Text for a terminal, as cat -v: C0 controls and DEL in caret notation,
 * C1 controls and bidi overrides as \uXXXX, non-UTF-8 bytes as \xNN;
 * tabs and printable UTF-8 kept. */
void	 esc_terminal(struct esc_buf *, const char *, size_t);

/* A store value as xenstore-ls and xenstore-read print it (libxenstore's
 * sanitise_value): printable ASCII kept, \t \n \r \\, bytes below 010 as
 * \NNN (octal), others as \xNN; with quotes, " also becomes \". What
 * xenstore-write reads back to the same bytes. */
void	 esc_xenstore(struct esc_buf *, const void *, size_t, bool quotes);

/* A JSON string, quotes included, every control and unsafe code point
 * escaped; bytes that are not UTF-8 become U+FFFD: returns whether any
 * did. esc_json_bytes: the exact bytes as a JSON array of numbers. */
bool	 esc_json(struct esc_buf *, const void *, size_t);
void	 esc_json_bytes(struct esc_buf *, const void *, size_t);

#endif
