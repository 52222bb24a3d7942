/*
 * cmds.h - entry points of the ferry subcommands (one file per command in
 * src/cmd/). Each takes argc/argv with argv[0] being the command name and
 * returns a process exit code (see FY_EXIT_* in util/opt.h).
 */
#ifndef FY_CMDS_H
#define FY_CMDS_H

int cmd_kube(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_controller(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_app(int argc, char **argv);
int cmd_appset(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_repo(int argc, char **argv);
int cmd_proj(int argc, char **argv);

#define FERRY_VERSION "0.1.0"

#endif
