/*
 * nvc-train: trains the learned image codec's model (nvc/image_model.h) on
 * random crops of pictures, on the CPU or CUDA, with checkpoints that
 * resume, and exports the deployable model file (integer prior networks).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc/image_export.h"
#include "nvc/image_model.h"
#include "nvc/train_data.h"
#include "tools/common.h"
#include "tools/train_common.h"

/* The model name --export records unless --name: the shipped model's. */
#define DEFAULT_NAME "image-v2"

typedef struct Options {
    ToolTrainOptions t;
    NvcImgConfig cfg;
    const char *list;
    int calib_batches;
    NvcTrainLoadOptions load;
} Options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTIONS] DATA...\n"
            "Train the learned image codec on random crops of DATA (PNG, Y4M or raw .yuv files,\n"
            "or folders of them; Kodak is refused: it is the test set).\n"
            "\n"
            "  -o, --checkpoint FILE  checkpoint (default image.ckpt); an existing one is resumed,\n"
            "                         its architecture read from FILE.cfg\n"
            "      --restart          start from scratch even if the checkpoint exists\n"
            "      --new-schedule     resuming: the learning-rate schedule (warm-up, cosine to --steps) and\n"
            "                         Adam's bias correction start again here (once, when a phase changes)\n"
            "      --export MODEL     write the deployable model file from the checkpoint\n"
            "                         (calibrates the integer prior on DATA) and exit\n"
            "      --name NAME        model name recorded in the exported file (default " DEFAULT_NAME ")\n"
            "      --list FILE        more DATA paths, one per line ('#' comments)\n"
            "Model (new checkpoints):\n"
            "      --prior P          gmm (hyperprior, four-part spatial prior, mixtures; default)\n"
            "                         or vq (McQuic-style multi-codebook VQ)\n"
            "      --widths A,B,C     transform widths at 1/2, 1/4, 1/8 (default 48,64,96)\n"
            "      --latent M         latent channels, multiple of 4 (default 96)\n"
            "      --hyper C          hyper-latent channels (default 64)\n"
            "      --prior-width P    prior network width (default 128)\n"
            "      --mixtures K       mixture components, 1 to 4 (default 3)\n"
            "      --vq G,K,L         VQ groups, codewords, levels (default 24,256,2)\n"
            "      --lambda A,B       lambda at q 0 and 63 (default 0.0015,0.12)\n"
            "Training:\n"
            "      --crop N           crop size, multiple of 64 (default 128)\n"
            "  -b, --batch N          crops per step (default 8)\n"
            "  -n, --steps N          total steps (default 40000)\n"
            "      --lr LR            peak learning rate (default 3e-4)\n"
            "      --lr-min LR        final learning rate of the cosine decay (default 1e-5)\n"
            "      --warmup N         warm-up steps (default 500)\n"
            "      --clip X           gradient norm clip (default 1; 0: none)\n"
            "      --save-every N     steps between checkpoints (default 500)\n"
            "      --frames N         frames taken from each video (default 6)\n"
            "      --max-side N       downscale pictures whose shorter side exceeds N (default 1080)\n"
            "      --seed N           seed (default 1)\n"
            "      --log FILE         append one CSV line per 50 steps\n"
            "  -t, --threads N        CPU threads (default: all)\n"
            "  -d, --device DEV       cpu (default) or cuda\n"
            "      --quiet            no progress line\n"
            "  -h, --help\n"
            "nvc-train --model video --help: the video model's trainer.\n",
            tool_name);
}

static void parse_list3(const char *s, int *a, int *b, int *c, const char *what)
{
    if (sscanf(s, "%d,%d,%d", a, b, c) != 3)
        tool_die("%s: expected three comma-separated integers, got '%s'", what, s);
}

enum { O_PRIOR = TOOL_TRAIN_OPT_NEXT, O_HYPER, O_PW, O_MIX, O_VQ, O_FRAMES };

static const struct option image_longopts[] = {
    { "prior", required_argument, NULL, O_PRIOR }, { "hyper", required_argument, NULL, O_HYPER },
    { "prior-width", required_argument, NULL, O_PW }, { "mixtures", required_argument, NULL, O_MIX },
    { "vq", required_argument, NULL, O_VQ }, { "frames", required_argument, NULL, O_FRAMES }, { NULL, 0, NULL, 0 },
};

/* The image model's own options. */
static int image_option(void *ctx, int c, const char *arg)
{
    Options *o = ctx;
    switch (c) {
    case TOOL_TRAIN_OPT_LIST: o->list = arg; break; /* read after the positional DATA */
    case O_PRIOR:
        if (strcmp(arg, "gmm") && strcmp(arg, "vq"))
            tool_die("--prior: '%s' is not gmm or vq", arg);
        o->cfg.prior = !strcmp(arg, "vq") ? NVC_IMG_PRIOR_VQ : NVC_IMG_PRIOR_GMM;
        break;
    case TOOL_TRAIN_OPT_WIDTHS: parse_list3(arg, &o->cfg.c1, &o->cfg.c2, &o->cfg.c3, "--widths"); break;
    case TOOL_TRAIN_OPT_LATENT: o->cfg.M = (int)tool_parse_int(arg, "--latent", 4, 1024); break;
    case O_HYPER: o->cfg.Cz = (int)tool_parse_int(arg, "--hyper", 1, 1024); break;
    case O_PW: o->cfg.P = (int)tool_parse_int(arg, "--prior-width", 4, 1024); break;
    case O_MIX: o->cfg.K = (int)tool_parse_int(arg, "--mixtures", 1, NVC_IMG_KMAX); break;
    case O_VQ: parse_list3(arg, &o->cfg.vq_groups, &o->cfg.vq_k, &o->cfg.vq_levels, "--vq"); break;
    case O_FRAMES: o->load.frames_per_video = (int)tool_parse_int(arg, "--frames", 1, 100000); break;
    default: return 0;
    }
    return 1;
}

static void parse_options(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof(*o));
    nvc_img_config_default(&o->cfg, NVC_IMG_PRIOR_GMM);
    nvc_train_load_default(&o->load);
    static const ToolTrainOptions defaults = {
        .ckpt = "image.ckpt", .name = DEFAULT_NAME, .crop = 128, .batch = 8, .steps = 40000, .warmup = 500,
        .save_every = 500, .lr = 3e-4f, .lr_min = 1e-5f, .clip = 1.0f, .seed = 1,
    };
    o->calib_batches = 16;
    const ToolTrainCli cli = { &defaults, image_longopts, image_option, o, usage, 1, NVC_IMG_ALIGN,
                               &o->cfg.lambda_min, &o->cfg.lambda_max, &o->load.max_short_side };
    tool_train_parse(argc, argv, &o->t, &cli);
    if (o->list)
        tool_train_read_list(&o->t, o->list);
    tool_train_need_data(&o->t);
    o->load.logger = tool_logger();
    o->load.min_side = o->t.crop;
}

/* ---- the architecture beside the checkpoint ------------------------------------------ */

static void cfg_body(FILE *f, const void *cfg, const void *opts)
{
    const NvcImgConfig *c = cfg;
    const ToolTrainOptions *t = &((const Options *)opts)->t;
    fprintf(f, "prior=%s\nc1=%d\nc2=%d\nc3=%d\nM=%d\nCz=%d\nP=%d\nK=%d\nvq_groups=%d\nvq_k=%d\nvq_levels=%d\n",
            c->prior == NVC_IMG_PRIOR_VQ ? "vq" : "gmm", c->c1, c->c2, c->c3, c->M, c->Cz, c->P, c->K,
            c->vq_groups, c->vq_k, c->vq_levels);
    fprintf(f, "lambda_min=%.9g\nlambda_max=%.9g\ncrop=%d\nbatch=%d\nsteps=%d\nlr=%g\nlr_min=%g\nwarmup=%d\nseed=%llu\n",
            c->lambda_min, c->lambda_max, t->crop, t->batch, t->steps, t->lr, t->lr_min, t->warmup,
            (unsigned long long)t->seed);
}

static void cfg_prior(void *ctx, const char *key, const char *val)
{
    if (!strcmp(key, "prior"))
        ((NvcImgConfig *)ctx)->prior = !strcmp(val, "vq") ? NVC_IMG_PRIOR_VQ : NVC_IMG_PRIOR_GMM;
}

/* Architecture of an existing checkpoint; 0 when there is none. */
static int read_cfg(const char *ckpt, NvcImgConfig *c)
{
    const ToolTrainCfgKey keys[] = { { "c1", &c->c1 }, { "c2", &c->c2 }, { "c3", &c->c3 }, { "M", &c->M },
                                     { "Cz", &c->Cz }, { "P", &c->P }, { "K", &c->K }, { "vq_groups", &c->vq_groups },
                                     { "vq_k", &c->vq_k }, { "vq_levels", &c->vq_levels } };
    return tool_train_read_cfg(ckpt, keys, (int)(sizeof(keys) / sizeof(keys[0])), &c->lambda_min, &c->lambda_max,
                               cfg_prior, c);
}

/* ---- training ------------------------------------------------------------------------------ */

static void fmt_time(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, n, "?");
    else if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static double mean_q(const NvcImgStats *a, int i)
{
    return a->n_q[i] ? a->psnr_q[i] / a->n_q[i] : 0.0;
}

static int train(const Options *o, NvcNn *nn, const NvcTrainSet *set, const NvcImgConfig *cfg)
{
    const ToolTrainOptions *t = &o->t;
    NvcLrSchedule sched = { t->lr, t->lr_min, t->warmup, t->steps };
    NvcImgModel m;
    int ret = nvc_img_create(&m, nn, cfg, t->batch, t->crop, t->crop, 1, sched, t->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model");
    m.opt.clip = t->clip;
    ToolTrainRun r = { .o = t, .nn = nn, .params = &m.params, .pbuf = m.pbuf, .opt = &m.opt };
    tool_train_resume(&r);
    tool_train_write_cfg(t->ckpt, cfg_body, cfg, o);
    tool_train_start(&r);
    double enc, dec, prior;
    nvc_img_macs(cfg, &enc, &dec, &prior);
    fprintf(stderr, "%s: %zu parameters, %.1fk MAC/pixel (analysis %.1fk, synthesis %.1fk, prior %.2fk), "
            "%d pictures (%.1f Mpixels)\n", tool_name, nvc_arena_numel(&m.params), (enc + dec + prior) / 1e3,
            enc / 1e3, dec / 1e3, prior / 1e3, set->n, set->pixels / 1e6);
    const size_t nx = (size_t)t->batch * 3 * t->crop * t->crop;
    float *x = malloc(nx * sizeof(float));
    if (!x)
        tool_die("out of memory");
    NvcImgStats avg = { 0 };
    int navg = 0;
    while (r.step < (uint64_t)t->steps && !tool_interrupted) {
        nvc_train_set_crops(set, x, t->batch, t->crop, &r.rng);
        int q[64];
        tool_train_qualities(&r, q, t->batch, NVC_IMG_QLEVELS);
        NvcImgStats s;
        if ((ret = nvc_nn_upload(nn, m.a.x, x, nx)) < 0 || (ret = nvc_img_set_quality(&m, nn, q)) < 0 ||
            (ret = nvc_img_train_step(&m, nn, r.step, &s)) < 0)
            tool_fail(ret, "training step %" PRIu64, r.step);
        tool_train_check_loss(s.loss, r.step);
        r.step++;
        avg.loss += s.loss, avg.bpp += s.bpp, avg.bpp_z += s.bpp_z, avg.psnr += s.psnr;
        for (int i = 0; i < 4; i++)
            avg.psnr_q[i] += s.psnr_q[i] * s.n_q[i], avg.n_q[i] += s.n_q[i];
        navg++;
        if (r.step % 10 == 0 || r.step == (uint64_t)t->steps) {
            const double rate = tool_train_rate(&r);
            char eta[32];
            fmt_time((t->steps - r.step) / rate, eta, sizeof(eta));
            tool_train_progress(&r, "loss %.4f bpp %.3f (z %.3f) PSNR %.2f [q0-15 %.1f q48-63 %.1f] lr %.2g "
                                "%.2f step/s ETA %s", avg.loss / navg, avg.bpp / navg, avg.bpp_z / navg,
                                avg.psnr / navg, mean_q(&avg, 0), mean_q(&avg, 3), m.opt.last_lr, rate, eta);
        }
        if (r.step % 50 == 0 || r.step == (uint64_t)t->steps) {
            tool_train_log(&r, "%" PRIu64 ",%.5f,%.5f,%.5f,%.4f,%.3f,%.3f,%.3f,%.3f,%.3g,%.3f\n", r.step,
                           avg.loss / navg, avg.bpp / navg, avg.bpp_z / navg, avg.psnr / navg, mean_q(&avg, 0),
                           mean_q(&avg, 1), mean_q(&avg, 2), mean_q(&avg, 3), m.opt.last_norm, tool_now_s() - r.t0);
            memset(&avg, 0, sizeof(avg));
            navg = 0;
        }
        tool_train_step_done(&r);
    }
    const int rc = tool_train_finish(&r);
    free(x);
    nvc_img_free(&m, nn);
    return rc;
}

static int export_model(const Options *o, NvcNn *nn, const NvcTrainSet *set, const NvcImgConfig *cfg)
{
    const ToolTrainOptions *t = &o->t;
    NvcLrSchedule sched = { 0 };
    NvcImgModel m;
    int ret = nvc_img_create(&m, nn, cfg, t->batch, t->crop, t->crop, 0, sched, t->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model");
    uint64_t step = 0;
    tool_train_load(t, nn, &m.params, m.pbuf, &m.opt, &step, "cannot read");
    NvcLogger lg = tool_logger();
    NvcImgExportStats es;
    ret = nvc_img_export(&m, nn, set, o->calib_batches, t->name, step, t->export_path, &es, &lg);
    if (ret < 0)
        tool_fail(ret, "%s: export failed", t->export_path);
    tool_train_report_export(t, step, es.bytes, es.crc);
    if (cfg->prior == NVC_IMG_PRIOR_GMM)
        fprintf(stderr, "%s: calibration crops: %.4f bpp with the float prior, %.4f bpp with the integer prior "
                "(%+.2f%%)\n", tool_name, es.bpp_float, es.bpp_int, 100.0 * (es.bpp_int / es.bpp_float - 1.0));
    nvc_img_free(&m, nn);
    return 0;
}

static int add_data(void *set, const char *path, const void *opts)
{
    return nvc_train_set_add(set, path, opts);
}

/* "--model image|video" picks the trainer; it is removed from argv. Returns
 * 1 for video. */
static int pick_model(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--model") && strncmp(argv[i], "--model=", 8))
            continue;
        const int eq = argv[i][7] == '=';
        const char *v = eq ? argv[i] + 8 : i + 1 < *argc ? argv[i + 1] : "";
        if (strcmp(v, "image") && strcmp(v, "video"))
            tool_die("--model: '%s' is not image or video", v);
        const int n = eq ? 1 : 2;
        memmove(argv + i, argv + i + n, sizeof(*argv) * (*argc - i - n + 1));
        *argc -= n;
        return !strcmp(v, "video");
    }
    return 0;
}

int main(int argc, char **argv)
{
    tool_init(argv[0]);
    if (pick_model(&argc, argv))
        return tool_train_video(argc, argv);
    Options o;
    parse_options(argc, argv, &o);
    const ToolTrainOptions *t = &o.t;
    NvcLogger lg = tool_logger();
    NvcImgConfig cfg = o.cfg;
    if (!t->restart || t->export_path)
        read_cfg(t->ckpt, &cfg);
    if (nvc_img_config_check(&cfg, &lg) < 0)
        return 1;
    NvcTrainSet set = { 0 };
    tool_train_add_data(t, add_data, &set, &o.load);
    if (!set.n)
        tool_die("no picture of the training data is at least %dx%d", t->crop, t->crop);
    NvcNn *nn = tool_train_nn(t);
    int rc = t->export_path ? export_model(&o, nn, &set, &cfg) : train(&o, nn, &set, &cfg);
    nvc_nn_free(&nn);
    nvc_train_set_free(&set);
    free(o.t.data);
    return rc;
}
