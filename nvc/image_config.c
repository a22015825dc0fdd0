/*
 * Configuration of the learned image model (nvc/image_model.h); no nn
 * dependency, so the model file parser builds without the engine.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/image_model.h"

void nvc_img_config_default(NvcImgConfig *c, enum NvcImgPrior prior)
{
    memset(c, 0, sizeof(*c));
    c->prior = prior;
    c->c1 = 48;
    c->c2 = 64;
    c->c3 = 96;
    c->M = 96;
    c->Cz = 64;
    c->P = 128;
    c->K = 3;
    c->vq_groups = 24;
    c->vq_k = 256;
    c->vq_levels = 2;
    c->lambda_min = 0.0015f;
    c->lambda_max = 0.12f;
}

int nvc_img_config_check(const NvcImgConfig *c, const NvcLogger *logger)
{
    if (c->prior != NVC_IMG_PRIOR_GMM && c->prior != NVC_IMG_PRIOR_VQ)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "image model: unknown prior %d", (int)c->prior);
    if (c->c1 < 4 || c->c2 < 4 || c->c3 < 4 || c->c1 > 1024 || c->c2 > 1024 || c->c3 > 1024)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "image model: widths must be in 4..1024");
    if (c->M < 4 || c->M > 1024 || c->M % 4)
        return nvc_log_error(logger, NVC_ERR(EINVAL), "image model: latent channels must be a multiple of 4");
    if (c->prior == NVC_IMG_PRIOR_GMM) {
        if (c->Cz < 1 || c->Cz > 1024 || c->P < 4 || c->P > 1024 || c->K < 1 || c->K > NVC_IMG_KMAX)
            return nvc_log_error(logger, NVC_ERR(EINVAL), "image model: bad hyperprior sizes");
    } else {
        if (c->vq_groups < 1 || c->M % c->vq_groups || c->vq_k < 2 || c->vq_k > 4096 || c->vq_levels < 1 ||
            c->vq_levels > 8)
            return nvc_log_error(logger, NVC_ERR(EINVAL), "image model: bad VQ sizes");
    }
    if (!(c->lambda_min > 0 && c->lambda_max >= c->lambda_min))
        return nvc_log_error(logger, NVC_ERR(EINVAL), "image model: bad lambda range");
    return 0;
}

int nvc_img_param_groups(const NvcImgConfig *c)
{
    return c->K == 1 ? 2 : 1 + 3 * c->K;
}

float nvc_img_lambda(const NvcImgConfig *c, int q)
{
    return (float)(c->lambda_min * pow((double)c->lambda_max / c->lambda_min, q / 63.0));
}
