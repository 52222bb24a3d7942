/*
 * embed.h - data files compiled into the binary (see scripts/embed.sh and
 * the EMBED list in the Makefile). Each is NUL-terminated; _len excludes
 * the NUL.
 */
#ifndef FY_EMBED_H
#define FY_EMBED_H

extern const unsigned char fy_embed_kube_kinds[];
extern const unsigned long fy_embed_kube_kinds_len;
extern const unsigned char fy_embed_smp_keys[];
extern const unsigned long fy_embed_smp_keys_len;

extern const unsigned char fy_embed_crd_app[];
extern const unsigned long fy_embed_crd_app_len;
extern const unsigned char fy_embed_crd_appset[];
extern const unsigned long fy_embed_crd_appset_len;
extern const unsigned char fy_embed_crd_appproj[];
extern const unsigned long fy_embed_crd_appproj_len;

#endif
