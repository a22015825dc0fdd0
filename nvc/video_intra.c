/*
 * Intra frames of the training chains (nvc/video_intra.h).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "nvc/image_codec.h"
#include "nvc/video_intra.h"

int nvc_vid_intra_open(NvcVidIntra *vi, NvcNn *nn, int B, int H, int W, const NvcLogger *lg)
{
    memset(vi, 0, sizeof(*vi));
    int ret = nvc_image_model_load(&vi->f, lg);
    if (ret < 0)
        return ret;
    NvcLrSchedule none = { 0 };
    if ((ret = nvc_img_create(&vi->m, nn, &vi->f.cfg, B, H, W, -1, none, 1)) < 0) {
        nvc_img_file_free(&vi->f);
        return ret;
    }
    vi->open = 1;
    float *host = malloc(vi->m.params.size * sizeof(float));
    ret = host ? nvc_nn_download(nn, host, vi->m.pbuf, vi->m.params.size) : NVC_ERR(ENOMEM);
    for (int i = 0; i < vi->f.nt && !ret; i++) {
        const NvcImgTensor *t = &vi->f.t[i];
        int j = nvc_arena_find(&vi->m.params, t->name);
        if (j < 0 || vi->m.params.t[j].numel != t->numel)
            ret = NVC_ERR_CORRUPT;
        else
            memcpy(host + vi->m.params.t[j].offset, t->data, t->numel * sizeof(float));
    }
    if (!ret)
        ret = nvc_nn_upload(nn, vi->m.pbuf, host, vi->m.params.size);
    free(host);
    if (ret < 0)
        nvc_vid_intra_close(vi, nn);
    return ret;
}

void nvc_vid_intra_close(NvcVidIntra *vi, NvcNn *nn)
{
    if (vi->open)
        nvc_img_free(&vi->m, nn);
    nvc_img_file_free(&vi->f);
    memset(vi, 0, sizeof(*vi));
}

int nvc_vid_intra_code(NvcVidIntra *vi, NvcNn *nn, const float *x, const int *q, float *xhat)
{
    NvcImgModel *m = &vi->m;
    const int c1 = vi->f.cfg.c1;
    const size_t nx = (size_t)m->B * 3 * m->H * m->W;
    int ret = nvc_nn_upload(nn, m->a.x, x, nx);
    for (int b = 0; b < m->B && !ret; b++) {
        if (q[b] < 0 || q[b] >= NVC_IMG_QLEVELS)
            return NVC_ERR(EINVAL);
        ret = nvc_nn_upload(nn, m->a.qe + (size_t)b * c1, vi->f.q_enc + (size_t)q[b] * c1, (size_t)c1);
        if (!ret)
            ret = nvc_nn_upload(nn, m->a.qd + (size_t)b * c1, vi->f.q_dec + (size_t)q[b] * c1, (size_t)c1);
    }
    if (ret < 0)
        return ret;
    nvc_img_analysis(m, nn);
    nn->ops->round_forward(nn, m->a.yhat, m->a.y, (size_t)m->B * vi->f.cfg.M * (m->H / 16) * (m->W / 16));
    nvc_img_synthesis(m, nn);
    if ((ret = nvc_nn_download(nn, xhat, m->a.xhat, nx)) < 0 || (ret = nvc_nn_error(nn)) < 0)
        return ret;
    for (size_t i = 0; i < nx; i++) {
        float v = xhat[i] < 0 ? 0 : xhat[i] > 1 ? 1 : xhat[i];
        xhat[i] = floorf(v * 255.0f + 0.5f) * (1.0f / 255.0f);
    }
    return 0;
}
