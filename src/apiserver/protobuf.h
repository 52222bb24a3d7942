/*
 * protobuf.h - Kubernetes protobuf request bodies to JSON, for the kinds
 * typed clients create (see protobuf.c). Returns a new reference, or NULL
 * with FY_EBADREQUEST (malformed) or FY_EUNSUPPORTED (kind not known).
 */
#ifndef FY_PROTOBUF_H
#define FY_PROTOBUF_H

#include <stddef.h>
#include <jansson.h>
#include "util/err.h"

json_t *fy_pb_decode(const unsigned char *buf, size_t len, struct fy_err *err);

#endif
