/*
 * common.h - what every long-running command does the same way: the
 * --log-level/--log-format flags and stopping on SIGINT/SIGTERM.
 */
#ifndef FY_CMD_COMMON_H
#define FY_CMD_COMMON_H

#include <signal.h>

/* Apply --log-level (NULL: keep) and --log-format ("text"|"json", NULL: text).
 * On a bad value prints the error and returns FY_EXIT_USAGE; else 0. */
int fy_cmd_logging(const char *level, const char *format);
/* SIGINT and SIGTERM set *flag to 1 (one flag per process); SIGPIPE is ignored. */
void fy_cmd_stop_on_signals(volatile sig_atomic_t *flag);

#endif
