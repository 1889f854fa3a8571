/* Logging with levels, changeable at run time (XS_CONTROL log). */
#ifndef XSC_LOG_H
#define XSC_LOG_H

#include <stdio.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	 log_open(FILE *, enum log_level);
void	 log_close(void);
int	 log_set_level(enum log_level);
enum log_level log_get_level(void);
int	 log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void log_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) do {					\
	if (log_get_level() >= LOG_LEVEL_DEBUG)			\
		log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);		\
} while (0)

#endif
