/*
 * nvc: neural image and video codec library. Umbrella header.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NVC_H
#define NVC_NVC_H

#include "nvc/common.h"
#include "nvc/picture.h"
#include "nvc/data.h"
#include "nvc/io.h"
#include "nvc/convert.h"
#include "nvc/metrics.h"
#include "nvc/container.h"
#include "nvc/codec.h"
#include "nvc/filter.h"

#endif /* NVC_NVC_H */
