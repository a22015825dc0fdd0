/*
 * The conditional video codec (nvc/video_codec.h). Pictures are coded as
 * 8-bit RGB padded to multiples of 64 (as the image codec); the encoder
 * keeps exactly the decoder's references: the nested image decoder's
 * output for I frames, the model's clamped float reconstruction and its
 * decoded feature for P frames, and the decoded latents for the priors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/internal.h"
#include "entropy/coder.h"
#include "nvc/convert.h"
#include "nvc/image_codec.h"
#include "nvc/image_latent.h"
#include "nvc/video_codec.h"
#include "nvc/video_flow.h"

#define PAYLOAD_VERSION 1
#define NVC_VID_QOFF_MAX 16 /* --q-offsets values, at most */
#define PKT_INTRA 0
#define PKT_P 1
#define FLAG_REFRESH 1

typedef struct VidState {
    NvcImagePacketSlot out; /* encoder; first (nvc_image_enc_get) */
    NvcVidModelFile f;
    NvcCondTables ct;
    int have_ct;
    NvcNn *nn;
    NvcVidModel m;
    int have_m, hp, wp;
    int have_ref;        /* a decoded frame to predict from */
    int p_count;         /* P frames since the last I frame */
    int64_t frame;       /* frames coded (encoder) */
    int refresh, intra_period;
    int adaptive_intra;  /* encoder: a frame is coded as I when that costs less than P (D + lambda R) */
    int qoff[NVC_VID_QOFF_MAX], nqoff; /* encoder: P frame k (1-based) codes at q + qoff[(k - 1) % nqoff] */
    int64_t *mref, *yref;
    float *x;            /* (3, hp, wp) scratch */
    NvcEncoder *ienc;    /* nested image codec */
    NvcDecoder *idec;
    NvcLogger lg;
    int threads;
} VidState;

int nvc_video_model_load(NvcVidModelFile *f, const NvcLogger *lg)
{
    const char *path = getenv("NVC_VIDEO_MODEL");
    if (path && *path)
        return nvc_vid_file_load(f, path, "NVC_VIDEO_MODEL", lg);
    size_t sz;
    const uint8_t *data = nvc_video_model_builtin(&sz);
    if (!data)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "dcvc codec: this build has no video model (set NVC_VIDEO_MODEL "
                             "to a file made by nvc-train --model video --export)");
    return nvc_vid_file_parse(f, data, sz, lg);
}

static void state_close(VidState *s)
{
    if (s->have_m)
        nvc_vid_free(&s->m, s->nn);
    nvc_nn_free(&s->nn);
    if (s->have_ct)
        nvc_cond_tables_free(&s->ct);
    nvc_vid_file_free(&s->f);
    nvc_encoder_close(&s->ienc);
    nvc_decoder_close(&s->idec);
    nvc_data_unref(&s->out.pkt);
    free(s->mref);
    free(s->yref);
    free(s->x);
    memset(s, 0, sizeof(*s));
}

/* Make f the state's model file (taking it over) and build its tables. */
static int state_use_file(VidState *s, NvcVidModelFile *f)
{
    if (s->have_ct)
        nvc_cond_tables_free(&s->ct);
    s->have_ct = 0;
    nvc_vid_file_free(&s->f);
    s->f = *f;
    memset(f, 0, sizeof(*f));
    s->f.mv.ii.threads = s->f.y.ii.threads = s->threads;
    int ret = nvc_img_latent_tables(&s->f.y.ii, &s->ct);
    if (ret < 0)
        return ret;
    s->have_ct = 1;
    return 0;
}

static int state_open(VidState *s, int threads, enum NvcDevice device, const NvcLogger *lg)
{
    s->lg = *lg;
    s->threads = threads;
    NvcVidModelFile f = { 0 };
    int ret = nvc_video_model_load(&f, lg);
    if (ret < 0)
        return ret;
    if ((ret = state_use_file(s, &f)) < 0)
        return ret;
    return nvc_nn_create(&s->nn, device == NVC_DEVICE_CUDA ? NVC_NN_CUDA : NVC_NN_CPU, threads, lg);
}

/* A stream coded with the built-in model decodes whatever NVC_VIDEO_MODEL
 * names: 1 when the built-in model (crc) replaced the loaded one, 0 when it
 * is not that model. */
static int state_try_builtin(VidState *s, uint32_t crc)
{
    size_t sz;
    const uint8_t *data = nvc_video_model_builtin(&sz);
    NvcVidModelFile f = { 0 };
    if (!data || nvc_vid_file_parse(&f, data, sz, NULL) < 0)
        return 0;
    if (f.crc != crc) {
        nvc_vid_file_free(&f);
        return 0;
    }
    int ret = state_use_file(s, &f);
    return ret < 0 ? ret : 1;
}

static int align64(int v)
{
    return (v + NVC_VID_ALIGN - 1) / NVC_VID_ALIGN * NVC_VID_ALIGN;
}

/* The float model at the padded size, weights from the file. */
static int state_model(VidState *s, int hp, int wp)
{
    if (s->have_m)
        return 0;
    NvcLrSchedule none = { 0 };
    int ret = nvc_vid_create(&s->m, s->nn, &s->f.cfg, 1, 1, hp, wp, -1, none, 1);
    if (ret < 0)
        return ret;
    s->have_m = 1, s->hp = hp, s->wp = wp;
    ret = nvc_image_load_tensors(s->nn, s->f.t, s->f.nt, &s->m.params, s->m.pbuf);
    const size_t n4 = (size_t)(hp / 16) * (wp / 16);
    s->mref = calloc((size_t)s->f.cfg.Mm * n4, sizeof(int64_t));
    s->yref = calloc((size_t)s->f.cfg.M * n4, sizeof(int64_t));
    s->x = malloc(sizeof(float) * 3 * hp * wp);
    if (!ret && (!s->mref || !s->yref || !s->x))
        ret = NVC_ERR(ENOMEM);
    return ret;
}

static int set_quality_rows(VidState *s, int q)
{
    const NvcVidConfig *c = &s->f.cfg;
    int ret = nvc_nn_upload(s->nn, s->m.s.qme, s->f.q_mv_enc + (size_t)q * c->cm, (size_t)c->cm);
    if (!ret)
        ret = nvc_nn_upload(s->nn, s->m.s.qmd, s->f.q_mv_dec + (size_t)q * c->cm, (size_t)c->cm);
    if (!ret)
        ret = nvc_nn_upload(s->nn, s->m.s.qe, s->f.q_enc + (size_t)q * c->g2, (size_t)c->g2);
    if (!ret)
        ret = nvc_nn_upload(s->nn, s->m.s.qd, s->f.q_dec + (size_t)q * c->g2, (size_t)c->g2);
    return ret;
}

/* An I frame's decoded picture becomes the reference; the latent chains restart. */
static int set_intra_reference(VidState *s, const NvcPicture *dec)
{
    int ret = nvc_image_input_picture(dec, s->hp, s->wp, s->x);
    if (!ret)
        ret = nvc_vid_set_chain(&s->m, s->nn, s->x, s->x);
    s->have_ref = !ret;
    s->p_count = 0;
    return ret;
}

static int is_refresh(const VidState *s)
{
    return s->p_count == 1 || (s->refresh > 0 && (s->p_count - 1) % s->refresh == 0);
}

/* The latents of one P frame: motion then residual, each z then four steps. */
/* sym (decoder, may be NULL): the decoded motion then residual latent values
 * (Q8, clamped to +-2^28, channel-major raster order) for the symbols hook. */
static void latent_symbols(int32_t *sym, const int64_t *q8, size_t n)
{
    for (size_t i = 0; sym && i < n; i++)
        sym[i] = (int32_t)(q8[i] < -(1 << 28) ? -(1 << 28) : q8[i] > (1 << 28) ? (1 << 28) : q8[i]);
}

static int p_frame(VidState *s, int q, int refresh, NvcByteWriter *bw, NvcByteReader *br, const float *flow,
                   int32_t *sym)
{
    const NvcVidConfig *c = &s->f.cfg;
    const int h4 = s->hp / 16, w4 = s->wp / 16;
    const size_t n4 = (size_t)h4 * w4, nm = (size_t)c->Mm * n4, ny = (size_t)c->M * n4;
    NvcVidModel *m = &s->m;
    int64_t *q8 = malloc(sizeof(int64_t) * (nm > ny ? nm : ny));
    float *lat = bw ? malloc(sizeof(float) * (ny + nm + n4 * (c->Cz + c->Czm))) : NULL;
    int ret = q8 && (!bw || lat) ? set_quality_rows(s, q) : NVC_ERR(ENOMEM);
    if (!ret && bw && (ret = nvc_vid_infer_motion_analysis(m, s->nn, flow)) >= 0) {
        ret = nvc_nn_download(s->nn, lat, m->f[0].me_c[3], nm);
        if (!ret)
            ret = nvc_nn_download(s->nn, lat + nm, m->f[0].mvp.ha_c[2], (size_t)c->Czm * n4 / 16);
    }
    if (!ret)
        ret = bw ? nvc_vid_latent_encode(&s->f.mv, &s->ct, q, lat, lat + nm, refresh ? NULL : s->mref, h4, w4, bw,
                                         NULL, NULL, q8)
                 : nvc_vid_latent_decode(&s->f.mv, &s->ct, q, br, refresh ? NULL : s->mref, h4, w4, q8);
    if (!ret) {
        memcpy(s->mref, q8, nm * sizeof(int64_t));
        latent_symbols(sym, q8, nm);
        ret = nvc_vid_infer_motion_synthesis(m, s->nn, q8);
    }
    if (!ret) {
        nvc_vid_infer_contexts(m, s->nn, refresh);
        if (bw) {
            nvc_vid_infer_residual_analysis(m, s->nn);
            ret = nvc_nn_download(s->nn, lat, m->f[0].e_c[3], ny);
            if (!ret)
                ret = nvc_nn_download(s->nn, lat + ny, m->f[0].yp.ha_c[2], (size_t)c->Cz * n4 / 16);
        }
    }
    if (!ret)
        ret = bw ? nvc_vid_latent_encode(&s->f.y, &s->ct, q, lat, lat + ny, refresh ? NULL : s->yref, h4, w4, bw,
                                         NULL, NULL, q8)
                 : nvc_vid_latent_decode(&s->f.y, &s->ct, q, br, refresh ? NULL : s->yref, h4, w4, q8);
    if (!ret) {
        memcpy(s->yref, q8, ny * sizeof(int64_t));
        latent_symbols(sym ? sym + nm : NULL, q8, ny);
        ret = nvc_vid_infer_residual_synthesis(m, s->nn, q8);
    }
    if (!ret)
        ret = nvc_vid_infer_next(m, s->nn);
    free(q8);
    free(lat);
    return ret;
}

/* ---- stream configuration ------------------------------------------------------------ */

static int write_config(NvcEncoder *enc, const VidState *s)
{
    NvcStreamConfig icfg;
    int ret = nvc_encoder_get_config(s->ienc, &icfg);
    if (ret < 0)
        return ret;
    NvcByteWriter bw = { 0 };
    const size_t nl = strlen(s->f.name);
    nvc_bw_u8(&bw, PAYLOAD_VERSION);
    nvc_bw_u32(&bw, s->f.crc);
    nvc_bw_u8(&bw, (unsigned)nl);
    nvc_bw_bytes(&bw, s->f.name, nl);
    nvc_bw_u16(&bw, (unsigned)s->refresh);
    nvc_bw_u32(&bw, (uint32_t)s->intra_period);
    nvc_bw_u32(&bw, (uint32_t)icfg.payload.sz);
    nvc_bw_bytes(&bw, icfg.payload.data, icfg.payload.sz);
    NvcStreamConfig cfg = icfg;
    memset(&cfg.payload, 0, sizeof(cfg.payload));
    cfg.codec = NVC_CODEC_DCVC;
    ret = nvc_image_set_config(enc, &cfg, &bw);
    nvc_stream_config_clear(&icfg);
    nvc_bw_free(&bw);
    return ret;
}

/* Parse the global payload and open the nested image decoder. */
static int read_config(NvcDecoder *dec, VidState *s)
{
    const NvcLogger *lg = &dec->s.logger;
    const NvcStreamConfig *cfg = &dec->cfg;
    NvcByteReader br;
    nvc_br_init(&br, cfg->payload.data, cfg->payload.sz);
    unsigned version = nvc_br_u8(&br);
    uint32_t crc = nvc_br_u32(&br);
    size_t nl = nvc_br_u8(&br);
    const uint8_t *name = nvc_br_bytes(&br, nl);
    s->refresh = nvc_br_u16(&br);
    s->intra_period = (int32_t)nvc_br_u32(&br);
    uint32_t il = nvc_br_u32(&br);
    const uint8_t *ipl = nvc_br_bytes(&br, il);
    if (br.error || nvc_br_left(&br) || !version || !ipl)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "dcvc codec: malformed stream configuration");
    if (version > PAYLOAD_VERSION)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP), "dcvc codec: payload version %u is newer than %d", version,
                             PAYLOAD_VERSION);
    int ret = crc != s->f.crc ? state_try_builtin(s, crc) : 0;
    if (ret < 0)
        return ret;
    if (crc != s->f.crc)
        return nvc_log_error(lg, NVC_ERR(ENOTSUP),
                             "dcvc codec: the stream needs video model '%.*s' (crc %08x), not '%s' (crc %08x): "
                             "set NVC_VIDEO_MODEL to its file", (int)nl, (const char *)name, crc, s->f.name, s->f.crc);
    if (!nvc_image_format_ok(&cfg->p, &cfg->color))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "dcvc codec: pictures must be 8-bit RGB or YCbCr 4:2:0");
    NvcStreamConfig icfg = *cfg;
    icfg.codec = NVC_CODEC_IMAGE;
    memset(&icfg.payload, 0, sizeof(icfg.payload));
    uint8_t *p = nvc_data_create(&icfg.payload, il);
    if (!p)
        return NVC_ERR(ENOMEM);
    memcpy(p, ipl, il);
    ret = nvc_decoder_open(&s->idec, &icfg, &dec->s);
    nvc_stream_config_clear(&icfg);
    return ret;
}

/* ---- encoder ----------------------------------------------------------------------------- */

/* "a,b,c": 1 to NVC_VID_QOFF_MAX integers in -63..63. */
static int parse_qoff(VidState *s, const char *str, const NvcLogger *lg)
{
    s->nqoff = 0;
    if (!str)
        return 0;
    const char *p = str;
    for (;;) {
        char *end;
        errno = 0;
        const long v = strtol(p, &end, 10);
        if (end == p || errno || v < -63 || v > 63 || s->nqoff == NVC_VID_QOFF_MAX || (*end && *end != ','))
            return nvc_log_error(lg, NVC_ERR(EINVAL), "dcvc codec: --q-offsets '%s': expected 1 to %d comma-separated "
                                 "integers in -63..63", str, NVC_VID_QOFF_MAX);
        s->qoff[s->nqoff++] = (int)v;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

/* The quality index of the P frame just counted. */
static int p_quality(const VidState *s, int q)
{
    if (!s->nqoff)
        return q;
    const int v = q + s->qoff[(s->p_count - 1) % s->nqoff];
    return v < 0 ? 0 : v > 63 ? 63 : v;
}

static int enc_init(NvcEncoder *enc)
{
    VidState *s = enc->priv;
    const NvcPictureParameters *p = &enc->info.p;
    if (!nvc_image_format_ok(p, &enc->info.color))
        return nvc_log_error(&enc->s.logger, NVC_ERR(ENOTSUP), "dcvc codec: takes 8-bit RGB or YCbCr 4:2:0 pictures");
    if (enc->s.q < 0 || enc->s.q > 63)
        return nvc_log_error(&enc->s.logger, NVC_ERR(EINVAL), "dcvc codec: --q %d is not in 0..63", enc->s.q);
    if (enc->s.refresh < 0 || enc->s.refresh > 65535 || enc->s.intra_period < -1 || enc->s.intra_period == 0)
        return nvc_log_error(&enc->s.logger, NVC_ERR(EINVAL), "dcvc codec: bad refresh or intra period");
    s->refresh = enc->s.refresh, s->intra_period = enc->s.intra_period;
    s->adaptive_intra = enc->s.adaptive_intra;
    int ret = parse_qoff(s, enc->s.q_offsets, &enc->s.logger);
    if (ret < 0)
        return ret;
    ret = state_open(s, enc->s.n_threads, enc->s.device, &enc->s.logger);
    NvcEncoderSettings is = enc->s;
    is.codec = NVC_CODEC_IMAGE;
    if (!ret)
        ret = nvc_encoder_open(&s->ienc, &enc->info, &is);
    if (!ret)
        ret = write_config(enc, s);
    if (!ret) {
        NvcStreamConfig icfg;
        ret = nvc_encoder_get_config(s->ienc, &icfg);
        NvcDecoderSettings ds;
        nvc_decoder_default_settings(&ds);
        ds.n_threads = enc->s.n_threads, ds.device = enc->s.device, ds.logger = enc->s.logger;
        if (!ret)
            ret = nvc_decoder_open(&s->idec, &icfg, &ds);
        nvc_stream_config_clear(&icfg);
    }
    if (!ret)
        ret = state_model(s, align64(p->h), align64(p->w));
    return ret;
}

/* I frame: the nested image codec's packet, decoded here for the reference. */
/* The nested image codec's packet of pic and its decoded picture. */
static int code_intra(VidState *s, const NvcPicture *pic, NvcData *ipkt, NvcPicture *dec)
{
    int ret = nvc_encoder_send_picture(s->ienc, pic);
    if (!ret)
        ret = nvc_encoder_get_packet(s->ienc, ipkt);
    if (!ret)
        ret = nvc_decoder_send_packet(s->idec, ipkt);
    if (!ret)
        ret = nvc_decoder_get_picture(s->idec, dec);
    return ret;
}

static int encode_intra(VidState *s, const NvcPicture *pic, NvcByteWriter *bw)
{
    NvcData ipkt = { 0 };
    NvcPicture dec = { 0 };
    int ret = code_intra(s, pic, &ipkt, &dec);
    if (!ret)
        ret = set_intra_reference(s, &dec);
    if (!ret)
        nvc_bw_bytes(bw, ipkt.data, ipkt.sz);
    nvc_picture_unref(&dec);
    nvc_data_unref(&ipkt);
    return ret;
}

/* A packet's header (doc/FORMAT.md): type, q, flags, then a P frame's index. */
static void put_header(NvcByteWriter *bw, int intra, int q, int refresh, int p_count)
{
    nvc_bw_u8(bw, intra ? PKT_INTRA : PKT_P);
    nvc_bw_u8(bw, (unsigned)q);
    nvc_bw_u8(bw, refresh ? FLAG_REFRESH : 0);
    if (!intra)
        nvc_bw_u16(bw, (unsigned)(p_count & 0xffff));
}

/* Mean squared error of the w x h corner of two (3, hp, wp) RGB planes. */
static double rgb_mse(const VidState *s, const float *a, const float *b, int w, int h)
{
    double se = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++) {
            const size_t o = ((size_t)c * s->hp + y) * s->wp;
            for (int x = 0; x < w; x++) {
                const double d = (double)a[o + x] - b[o + x];
                se += d * d;
            }
        }
    return se / (3.0 * w * h);
}

/* After a P frame in *bw (its reconstruction the reference, s->x the
 * source): code pic as an I frame too and keep it instead when its cost
 * lambda(q) 255^2 MSE + bits per pixel (the training loss) is lower; then
 * *bw holds the I packet. *intra: 1 when it did. */
static int maybe_intra(VidState *s, const NvcPicture *pic, int q, NvcByteWriter *bw, int *intra)
{
    const int w = pic->p.w, h = pic->p.h;
    const double lambda = nvc_vid_lambda(&s->f.cfg, q) * 65025.0, npix = (double)w * h;
    const double jp = lambda * rgb_mse(s, s->m.host_x0, s->x, w, h) + bw->sz * 8.0 / npix;
    NvcData ipkt = { 0 };
    NvcPicture dec = { 0 };
    const size_t nx = (size_t)3 * s->hp * s->wp;
    float *xi = malloc(nx * sizeof(float));
    int ret = xi ? code_intra(s, pic, &ipkt, &dec) : NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_image_input_picture(&dec, s->hp, s->wp, xi);
    *intra = 0;
    if (!ret && lambda * rgb_mse(s, xi, s->x, w, h) + (ipkt.sz + 3) * 8.0 / npix < jp) {
        *intra = 1;
        ret = set_intra_reference(s, &dec);
        bw->sz = 0;
        put_header(bw, 1, q, 0, 0);
        nvc_bw_bytes(bw, ipkt.data, ipkt.sz);
    }
    free(xi);
    nvc_picture_unref(&dec);
    nvc_data_unref(&ipkt);
    return ret;
}

static int encode_p(VidState *s, const NvcPicture *pic, int q, int refresh, NvcByteWriter *bw)
{
    const size_t n = (size_t)s->hp * s->wp;
    float *g = malloc(sizeof(float) * 4 * n);
    int ret = g ? nvc_image_input_picture(pic, s->hp, s->wp, s->x) : NVC_ERR(ENOMEM);
    if (!ret) {
        nvc_vid_gray(s->x, s->wp, s->hp, g + 2 * n);
        nvc_vid_gray(s->m.host_x0, s->wp, s->hp, g + 3 * n);
        ret = nvc_vid_flow(g + 2 * n, g + 3 * n, s->wp, s->hp, g);
    }
    if (!ret)
        ret = nvc_nn_upload(s->nn, s->m.f[0].x, s->x, 3 * n);
    if (!ret)
        ret = p_frame(s, q, refresh, bw, NULL, g, NULL);
    free(g);
    return ret;
}

static int enc_send(NvcEncoder *enc, const NvcPicture *pic)
{
    VidState *s = enc->priv;
    if (!pic)
        return 0;
    if (s->out.has_pkt)
        return NVC_ERR(EAGAIN);
    const int intra = !s->have_ref || (s->intra_period > 0 && s->frame % s->intra_period == 0);
    int refresh = 0, q = enc->s.q;
    if (!intra) {
        s->p_count++;
        refresh = is_refresh(s);
        q = p_quality(s, q);
    }
    NvcByteWriter bw = { 0 };
    put_header(&bw, intra, q, refresh, s->p_count);
    int ret = intra ? encode_intra(s, pic, &bw) : encode_p(s, pic, q, refresh, &bw);
    int key = intra;
    if (!ret && !intra && s->adaptive_intra && !bw.error)
        ret = maybe_intra(s, pic, enc->s.q, &bw, &key);
    if (!ret && bw.error)
        ret = NVC_ERR(ENOMEM);
    if (!ret)
        ret = nvc_image_packet_put(&s->out, &bw, pic->pts, key ? NVC_DATA_KEY : 0);
    if (!ret) {
        s->frame++;
    } else {
        s->have_ref = 0; /* the next frame restarts with an I frame */
    }
    nvc_bw_free(&bw);
    return ret;
}

static void enc_close(NvcEncoder *enc)
{
    state_close(enc->priv);
}

/* ---- decoder ----------------------------------------------------------------------------- */

static int dec_init(NvcDecoder *dec)
{
    VidState *s = dec->priv;
    int ret = state_open(s, dec->s.n_threads, dec->s.device, &dec->s.logger);
    if (!ret)
        ret = read_config(dec, s);
    const int hp = align64(dec->cfg.p.h), wp = align64(dec->cfg.p.w);
    const size_t need = nvc_vid_memory(&s->f.cfg, 1, 1, hp, wp, -1);
    const int64_t lim = dec->s.max_memory > 0 ? dec->s.max_memory : (int64_t)4 << 30;
    if (!ret && need > (uint64_t)lim)
        ret = nvc_log_error(&dec->s.logger, NVC_ERR(ERANGE), "dcvc codec: %dx%d needs %zu MiB, above the memory "
                            "limit", dec->cfg.p.w, dec->cfg.p.h, need >> 20);
    if (!ret)
        ret = state_model(s, hp, wp);
    return ret;
}

static int decode_intra(VidState *s, const uint8_t *body, size_t sz, int64_t pts, NvcPicture *out)
{
    NvcData ipkt = { 0 };
    uint8_t *p = nvc_data_create(&ipkt, sz);
    if (!p)
        return NVC_ERR(ENOMEM);
    memcpy(p, body, sz);
    ipkt.pts = pts;
    ipkt.flags = NVC_DATA_KEY;
    int ret = nvc_decoder_send_packet(s->idec, &ipkt);
    if (!ret)
        ret = nvc_decoder_get_picture(s->idec, out);
    nvc_data_unref(&ipkt);
    if (!ret && (ret = set_intra_reference(s, out)) < 0)
        nvc_picture_unref(out);
    return ret;
}

static int dec_decode(NvcDecoder *dec, const NvcData *pkt, NvcPicture *out)
{
    VidState *s = dec->priv;
    const NvcLogger *lg = &dec->s.logger;
    NvcByteReader br;
    nvc_br_init(&br, pkt->data, pkt->sz);
    const unsigned type = nvc_br_u8(&br), q = nvc_br_u8(&br), flags = nvc_br_u8(&br);
    if (br.error || type > PKT_P || q > 63 || flags > FLAG_REFRESH || (type == PKT_INTRA && flags))
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "dcvc codec: bad packet header");
    if (type == PKT_INTRA) {
        if (pkt->sz <= 3)
            return nvc_log_error(lg, NVC_ERR_CORRUPT, "dcvc codec: empty I packet");
        return decode_intra(s, pkt->data + 3, pkt->sz - 3, pkt->pts, out);
    }
    const unsigned idx = nvc_br_u16(&br);
    if (br.error)
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "dcvc codec: bad packet header");
    if (!s->have_ref)
        return nvc_log_error(lg, NVC_ERR(ENODATA), "dcvc codec: a P frame without its reference (the stream must "
                             "start at an I frame; decoding resumes at the next one)");
    s->p_count++;
    if (idx != (unsigned)(s->p_count & 0xffff)) {
        s->have_ref = 0;
        return nvc_log_error(lg, NVC_ERR(ENODATA), "dcvc codec: P frame %u follows P frame %d: a packet is missing "
                             "(decoding resumes at the next I frame)", idx, s->p_count - 1);
    }
    if ((int)(flags & FLAG_REFRESH) != is_refresh(s)) {
        s->have_ref = 0;
        return nvc_log_error(lg, NVC_ERR_CORRUPT, "dcvc codec: refresh flag out of sequence");
    }
    const size_t nsym = (size_t)(s->f.cfg.Mm + s->f.cfg.M) * (s->hp / 16) * (s->wp / 16);
    int32_t *sym = dec->s.symbols ? malloc(nsym * sizeof(*sym)) : NULL;
    int ret = dec->s.symbols && !sym ? NVC_ERR(ENOMEM) : p_frame(s, (int)q, flags & FLAG_REFRESH, NULL, &br, NULL, sym);
    if (!ret && nvc_br_left(&br))
        ret = NVC_ERR_CORRUPT;
    if (!ret && sym)
        nvc_decoder_emit_symbols(dec, sym, nsym);
    free(sym);
    if (!ret) {
        const size_t nx = (size_t)3 * s->hp * s->wp;
        ret = nvc_nn_download(s->nn, s->x, s->m.s.x0, nx);
        if (!ret)
            ret = nvc_image_output_picture(dec, s->x, s->hp, s->wp, out);
    }
    if (ret < 0) {
        s->have_ref = 0; /* nothing decodes until the next I frame */
        if (ret == NVC_ERR_CORRUPT)
            nvc_log(lg, NVC_LOG_ERROR, "dcvc codec: corrupt P packet");
    }
    return ret;
}

static void dec_flush(NvcDecoder *dec)
{
    VidState *s = dec->priv;
    s->have_ref = 0;
    if (s->idec)
        nvc_decoder_flush(s->idec);
}

static void dec_close(NvcDecoder *dec)
{
    state_close(dec->priv);
}

const NvcCodecImpl nvc_codec_dcvc = {
    .id = NVC_CODEC_DCVC,
    .dec_priv_size = sizeof(VidState),
    .enc_priv_size = sizeof(VidState),
    .dec_init = dec_init,
    .dec_decode = dec_decode,
    .dec_flush = dec_flush,
    .dec_close = dec_close,
    .enc_init = enc_init,
    .enc_send = enc_send,
    .enc_get = nvc_image_enc_get,
    .enc_close = enc_close,
};
