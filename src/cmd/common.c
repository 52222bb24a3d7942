/* common.c - see common.h */
#include <stdio.h>
#include <string.h>
#include "common.h"
#include "util/log.h"
#include "util/opt.h"

static volatile sig_atomic_t *stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	if (stop_flag)
		*stop_flag = 1;
}

int fy_cmd_logging(const char *level, const char *format)
{
	if (level) {
		int l = fy_log_parse_level(level);
		if (l < 0) {
			fprintf(stderr, "error: unknown log level '%s' (debug, info, warn, error)\n", level);
			return FY_EXIT_USAGE;
		}
		fy_log_set_level(l);
	}
	if (format && strcmp(format, "text") && strcmp(format, "json")) {
		fprintf(stderr, "error: unknown log format '%s' (text, json)\n", format);
		return FY_EXIT_USAGE;
	}
	fy_log_set_json(format && !strcmp(format, "json"));
	return 0;
}

void fy_cmd_stop_on_signals(volatile sig_atomic_t *flag)
{
	struct sigaction sa;
	stop_flag = flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
