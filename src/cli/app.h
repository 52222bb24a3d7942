/*
 * app.h - Application views shared by the `ferry app` verbs: the summary
 * block, resource tables, the history table, list rows, and waiting for
 * an application to reach a state (polling the API server).
 *
 * Ownership: json_t parameters are borrowed. Output goes to the FILE given.
 * Errors: functions returning int use the FY_E* convention (err filled).
 */
#ifndef FY_CLI_APP_H
#define FY_CLI_APP_H

#include <stdio.h>
#include <jansson.h>
#include "cli/cli.h"

/* "ns/name" when the application has a namespace, else "name" (malloc'd) */
char *fy_cliapp_qualified(const json_t *app);
/* Manual | Auto | Auto-Prune */
const char *fy_cliapp_syncpolicy_short(const json_t *app);
/* sorted condition types with "(n)" counts, or "<none>" (malloc'd) */
char *fy_cliapp_conditions_summary(const json_t *app);
/* "Synced to main (87c7b49)" (malloc'd) */
char *fy_cliapp_sync_status(const json_t *app);
/* `argocd app get`'s summary block; url_base like "https://host:port" */
void fy_cliapp_print_summary(FILE *f, const json_t *app, const char *url_base);
/* the CONDITION table (nothing without conditions) */
void fy_cliapp_print_conditions(FILE *f, const json_t *app);
/* GROUP KIND NAMESPACE NAME STATUS HEALTH HOOK MESSAGE */
void fy_cliapp_print_resources(FILE *f, const json_t *app);
/* Operation: ... Message: block of status.operationState (nothing when absent) */
void fy_cliapp_print_operation(FILE *f, const json_t *app);
/* SOURCE line and ID DATE REVISION table; ids_only for -o id */
void fy_cliapp_print_history(FILE *f, const json_t *app, int ids_only);
/* one `app list` row into t (11 columns) */
void fy_cliapp_list_row(struct fy_cli_table *t, const json_t *app);
/* Go's time.Time String() of an RFC 3339 time ("2026-11-26 08:04:43 +0000 UTC") */
void fy_cliapp_go_time(const char *rfc3339, char *out, size_t n);

/* is an operation pending (requested or running)? */
int fy_cliapp_op_pending(const json_t *app);

struct fy_cliapp_wait {
	int sync, health, operation, suspended, degraded, del;
	int timeout_s;  /* 0: none */
	int progress;   /* print TIMESTAMP rows as resources change */
	/* with operation: an operation was requested just now; while the
	 * application still shows prev_sig (fy_cliapp_op_signature before the
	 * request) and no operation was seen, it counts as pending (the server
	 * may answer from a cache that does not show the request yet) */
	const char *prev_sig;
};

/* what identifies the last operation: operationState and history length (malloc'd) */
char *fy_cliapp_op_signature(const json_t *app);
/*
 * Poll the application until the wanted states hold. *out (may be NULL)
 * gets the last application seen. Returns 0, FY_ETIMEOUT ("timed out ...")
 * or another error (a Degraded transition while waiting for health).
 */
int fy_cliapp_wait(struct fy_cli *c, const char *name, const struct fy_cliapp_wait *w, json_t **out,
		   struct fy_err *err);

/* strip live down to the keys that target has (maps recursively), for a readable diff */
void fy_cliapp_prune_to(json_t *live, const json_t *target);

#endif
