/*
 * nvc-train --model video: trains the video P-frame model
 * (nvc/video_model.h) on chains of consecutive frames of video clips, on the
 * CPU or CUDA, with checkpoints that resume (nvc/VIDEO.md, "Training").
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nvc/video_data.h"
#include "nvc/video_file.h"
#include "nvc/video_intra.h"
#include "nvc/video_model.h"
#include "tools/common.h"
#include "tools/train_common.h"

/* The model name --export records unless --name: the shipped model's. */
#define DEFAULT_NAME "video-v3"

typedef struct VOptions {
    ToolTrainOptions t;
    NvcVidConfig cfg;
    int chain, refresh, intra_source, me_source, calib, eval, y_noise;
    float mv_weight, y_weight, y_init_scale, mv_init_scale;
    const char *init_path; /* --init: a new run starts from this model file */
    const NvcVidModelFile *init; /* ... parsed, when the run is new (no checkpoint yet) */
    int prior_steps;       /* steps 0 .. N-1 train only the prior networks */
    NvcVidClipOptions load;
} VOptions;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: nvc-train --model video [options] DATA...\n"
            "Trains the video P-frame model on chains of consecutive frames of the clips in DATA (.y4m files\n"
            "or folders of them).\n"
            "  -o, --checkpoint FILE  checkpoint (default video.ckpt); an existing one is resumed\n"
            "      --restart          start from scratch even if the checkpoint exists\n"
            "      --new-schedule     resuming: the learning-rate schedule (warm-up, cosine to --steps) and\n"
            "                         Adam's bias correction start again here (once, when a phase changes)\n"
            "      --export MODEL     write the deployable model file from the checkpoint\n"
            "      --calib N          export: calibration batches of chains (default 16)\n"
            "      --name NAME        export: model name recorded in the file (default " DEFAULT_NAME ")\n"
            "      --eval             evaluate the checkpoint (with --init: that model file; without either:\n"
            "                         the initial weights) on --calib\n"
            "                         fixed batches of chains of DATA at q 0, 21, 42, 63\n"
            "      --list FILE        more DATA paths, one per line ('#' comments)\n"
            "      --widths A,B,C,D   feature widths at 1, 1/2, 1/4, 1/8 (default 24,48,64,64)\n"
            "      --latent M         residual latent channels, multiple of 4 (default 96)\n"
            "      --mv-latent M      motion latent channels, multiple of 4 (default 32)\n"
            "      --mv-width C       motion coder width (default 32)\n"
            "      --hyper C,CM       hyper-latent channels of the residual and of the motion (default 48,32)\n"
            "      --prior-width P,PM prior network widths of the residual and of the motion (default 96,64)\n"
            "      --lambda A,B       lambda at q 0 and 63 (default 0.0015,0.12)\n"
            "      --crop N           crop size, multiple of 64 (default 128)\n"
            "  -b, --batch N          chains per step (default 2)\n"
            "      --chain T          P frames per chain (default 3)\n"
            "      --refresh N        P frames 0, N, 2N, ... of a chain rebuild the temporal feature from the\n"
            "                         previous decoded frame, as nvenc --refresh N (default 0: only frame 0)\n"
            "      --intra KIND       frame 0 of a chain: image (the image codec at the chain's q, default)\n"
            "                         or source (the frame itself)\n"
            "      --me KIND          motion estimated against recon (the previous decoded frame, default)\n"
            "                         or source (the previous source frame)\n"
            "      --mv-weight W      weight of the motion bits in the training loss (default 1: the rate)\n"
            "      --y-weight W       weight of the residual bits in the training loss (default 1)\n"
            "      --y-init-scale K   a new model's residual latent starts K times larger (default 32; 1: the\n"
            "                         seeded initialisation, whose latent rounds away; video-v1 used 1)\n"
            "      --blend 0|1|2      1: a new model's output adds the motion-compensated previous frame\n"
            "                         under a learned mask; 2 (gated): the mask mixes that frame and the\n"
            "                         decoder's output (experiments, nvc/VIDEO.md; default 0, as video-v1..v3)\n"
            "      --mv-init-scale K  the same for the motion latent (default 1: as initialised)\n"
            "      --init FILE        a new run starts from a model file (nvc-train --export; e.g. the\n"
            "                         shipped models/video-v3.nvcm): its architecture, transforms, scalers,\n"
            "                         z scales and prior networks (its integer layers as float layers)\n"
            "      --prior-steps N    steps 0..N-1 train only the prior networks (default 0)\n"
            "      --y-noise          the residual latent reaches the decoder as y + uniform noise instead\n"
            "                         of rounded (straight through), so a small latent still carries its\n"
            "                         signal (an experiment: it did not speed up the probes of nvc/VIDEO.md)\n"
            "  -n, --steps N          total steps (default 20000)\n"
            "      --lr LR            peak learning rate (default 2e-4)\n"
            "      --lr-min LR        final learning rate of the cosine decay (default 1e-5)\n"
            "      --warmup N         warm-up steps (default 200)\n"
            "      --clip X           gradient norm clip (default 1; 0: none)\n"
            "      --save-every N     steps between checkpoints (default 200)\n"
            "      --max-frames N     frames read from the start of each clip (default 64)\n"
            "      --max-side N       downscale clips whose shorter side exceeds N (default 720)\n"
            "      --seed N           seed (default 1)\n"
            "      --log FILE         append one CSV line per 10 steps\n"
            "  -t, --threads N        CPU threads (default: all)\n"
            "  -d, --device DEV       cpu (default) or cuda\n"
            "      --quiet            no progress line\n"
            "  -h, --help\n");
}

enum { O_CALIB = TOOL_TRAIN_OPT_NEXT, O_EVAL, O_MVLATENT, O_MVWIDTH, O_HYPER, O_PWIDTH, O_CHAIN, O_INTRA, O_ME,
       O_MAXFRAMES, O_MVWEIGHT, O_YWEIGHT, O_YNOISE, O_YINIT, O_REFRESH, O_BLEND, O_MVINIT, O_INIT, O_PRIORSTEPS };

static const struct option video_longopts[] = {
    { "calib", required_argument, NULL, O_CALIB }, { "eval", no_argument, NULL, O_EVAL },
    { "mv-latent", required_argument, NULL, O_MVLATENT }, { "mv-width", required_argument, NULL, O_MVWIDTH },
    { "hyper", required_argument, NULL, O_HYPER }, { "prior-width", required_argument, NULL, O_PWIDTH },
    { "chain", required_argument, NULL, O_CHAIN }, { "refresh", required_argument, NULL, O_REFRESH },
    { "intra", required_argument, NULL, O_INTRA }, { "me", required_argument, NULL, O_ME },
    { "max-frames", required_argument, NULL, O_MAXFRAMES }, { "mv-weight", required_argument, NULL, O_MVWEIGHT },
    { "y-weight", required_argument, NULL, O_YWEIGHT }, { "y-noise", no_argument, NULL, O_YNOISE },
    { "y-init-scale", required_argument, NULL, O_YINIT }, { "blend", required_argument, NULL, O_BLEND },
    { "mv-init-scale", required_argument, NULL, O_MVINIT }, { "init", required_argument, NULL, O_INIT },
    { "prior-steps", required_argument, NULL, O_PRIORSTEPS },
    { NULL, 0, NULL, 0 },
};

/* A number in (0, hi]. */
static float positive(const char *arg, const char *what, float hi)
{
    char *end;
    const float v = strtof(arg, &end);
    if (*end || !(v > 0 && v <= hi))
        tool_die("%s: '%s' is not a number in (0, %g]", what, arg, hi);
    return v;
}

/* The video model's own options. */
static int video_option(void *ctx, int c, const char *arg)
{
    VOptions *o = ctx;
    switch (c) {
    case O_EVAL: o->eval = 1; break;
    case O_YNOISE: o->y_noise = 1; break;
    case O_CALIB: o->calib = (int)tool_parse_int(arg, "--calib", 1, 100000); break;
    case TOOL_TRAIN_OPT_NAME:
        if (strlen(arg) > NVC_VID_NAME_MAX)
            tool_die("--name: longer than %d bytes", NVC_VID_NAME_MAX);
        o->t.name = arg;
        break;
    case TOOL_TRAIN_OPT_WIDTHS:
        if (sscanf(arg, "%d,%d,%d,%d", &o->cfg.g1, &o->cfg.g2, &o->cfg.g4, &o->cfg.g8) != 4)
            tool_die("--widths: expected four comma-separated integers, got '%s'", arg);
        break;
    case TOOL_TRAIN_OPT_LATENT: o->cfg.M = (int)tool_parse_int(arg, "--latent", 4, 1024); break;
    case O_MVLATENT: o->cfg.Mm = (int)tool_parse_int(arg, "--mv-latent", 4, 1024); break;
    case O_MVWIDTH: o->cfg.cm = (int)tool_parse_int(arg, "--mv-width", 2, 1024); break;
    case O_HYPER:
        if (sscanf(arg, "%d,%d", &o->cfg.Cz, &o->cfg.Czm) != 2)
            tool_die("--hyper: expected two comma-separated integers, got '%s'", arg);
        break;
    case O_PWIDTH:
        if (sscanf(arg, "%d,%d", &o->cfg.P, &o->cfg.Pm) != 2)
            tool_die("--prior-width: expected two comma-separated integers, got '%s'", arg);
        break;
    case O_CHAIN: o->chain = (int)tool_parse_int(arg, "--chain", 1, NVC_VID_TMAX); break;
    case O_REFRESH: o->refresh = (int)tool_parse_int(arg, "--refresh", 0, NVC_VID_TMAX); break;
    case O_INTRA:
        if (strcmp(arg, "image") && strcmp(arg, "source"))
            tool_die("--intra: '%s' is not image or source", arg);
        o->intra_source = !strcmp(arg, "source");
        break;
    case O_ME:
        if (strcmp(arg, "recon") && strcmp(arg, "source"))
            tool_die("--me: '%s' is not recon or source", arg);
        o->me_source = !strcmp(arg, "source");
        break;
    case O_MVWEIGHT: o->mv_weight = positive(arg, "--mv-weight", 100); break;
    case O_YWEIGHT: o->y_weight = positive(arg, "--y-weight", 100); break;
    case O_BLEND: o->cfg.blend = (int)tool_parse_int(arg, "--blend", 0, 2); break;
    case O_YINIT: o->y_init_scale = positive(arg, "--y-init-scale", 1000); break;
    case O_INIT: o->init_path = arg; break;
    case O_PRIORSTEPS: o->prior_steps = (int)tool_parse_int(arg, "--prior-steps", 0, 100000000); break;
    case O_MVINIT: o->mv_init_scale = positive(arg, "--mv-init-scale", 1000); break;
    case O_MAXFRAMES: o->load.max_frames = (int)tool_parse_int(arg, "--max-frames", 2, 100000); break;
    default: return 0;
    }
    return 1;
}

static void parse_options(int argc, char **argv, VOptions *o)
{
    memset(o, 0, sizeof(*o));
    nvc_vid_config_default(&o->cfg);
    nvc_vid_clip_options_default(&o->load);
    static const ToolTrainOptions defaults = {
        .ckpt = "video.ckpt", .name = DEFAULT_NAME, .crop = 128, .batch = 2, .steps = 20000, .warmup = 200,
        .save_every = 200, .lr = 2e-4f, .lr_min = 1e-5f, .clip = 1.0f, .seed = 1,
    };
    o->calib = 16, o->chain = 3, o->mv_weight = o->y_weight = 1, o->y_init_scale = 32, o->mv_init_scale = 1;
    const ToolTrainCli cli = { &defaults, video_longopts, video_option, o, usage, 2, NVC_VID_ALIGN,
                               &o->cfg.lambda_min, &o->cfg.lambda_max, &o->load.max_short_side };
    tool_train_parse(argc, argv, &o->t, &cli);
    tool_train_need_data(&o->t);
    o->load.logger = tool_logger();
    o->load.min_side = o->t.crop;
    o->load.min_frames = o->chain + 1;
}

/* ---- the architecture beside the checkpoint ------------------------------------------ */

static void cfg_body(FILE *f, const void *cfg, const void *opts)
{
    const NvcVidConfig *c = cfg;
    const VOptions *o = opts;
    const ToolTrainOptions *t = &o->t;
    fprintf(f, "model=video\ng1=%d\ng2=%d\ng4=%d\ng8=%d\nM=%d\nCz=%d\nP=%d\ncm=%d\nMm=%d\nCzm=%d\nPm=%d\nblend=%d\n",
            c->g1, c->g2, c->g4, c->g8, c->M, c->Cz, c->P, c->cm, c->Mm, c->Czm, c->Pm, c->blend);
    fprintf(f,
            "lambda_min=%.9g\nlambda_max=%.9g\ncrop=%d\nbatch=%d\nchain=%d\nrefresh=%d\nsteps=%d\nlr=%g\nlr_min=%g\n"
            "warmup=%d\nintra=%s\nme=%s\nmv_weight=%g\ny_weight=%g\ny_noise=%d\ny_init_scale=%g\nmv_init_scale=%g\ninit=%s\nprior_steps=%d\nseed=%llu\n",
            c->lambda_min, c->lambda_max, t->crop, t->batch, o->chain, o->refresh,
            t->steps, t->lr, t->lr_min, t->warmup, o->intra_source ? "source" : "image",
            o->me_source ? "source" : "recon", o->mv_weight, o->y_weight, o->y_noise,
            o->y_init_scale, o->mv_init_scale, o->init_path ? o->init_path : "-", o->prior_steps,
            (unsigned long long)t->seed);
}

static void cfg_model(void *ctx, const char *key, const char *val)
{
    if (!strcmp(key, "model") && strcmp(val, "video"))
        tool_die("%s is the checkpoint of a %s model", (const char *)ctx, val);
}

static int read_cfg(const char *ckpt, NvcVidConfig *c)
{
    const ToolTrainCfgKey keys[] = { { "g1", &c->g1 }, { "g2", &c->g2 }, { "g4", &c->g4 }, { "g8", &c->g8 },
                                     { "M", &c->M }, { "Cz", &c->Cz }, { "P", &c->P }, { "cm", &c->cm },
                                     { "Mm", &c->Mm }, { "Czm", &c->Czm }, { "Pm", &c->Pm },
                                     { "blend", &c->blend } };
    const int blend = c->blend;
    c->blend = 0; /* a side file without the key: a model from before blend */
    const int found = tool_train_read_cfg(ckpt, keys, (int)(sizeof(keys) / sizeof(keys[0])), &c->lambda_min,
                                          &c->lambda_max, cfg_model, (void *)ckpt);
    if (!found)
        c->blend = blend;
    return found;
}

/* ---- training --------------------------------------------------------------------------- */

typedef struct Avg {
    double loss, bpp, bpp_mv, psnr, psnr_first, psnr_last;
    int n;
} Avg;

static void progress(const VOptions *o, const NvcVidModel *m, const Avg *a, const ToolTrainRun *r)
{
    if (!a->n)
        return;
    const double n = a->n;
    tool_train_progress(r, "loss %.4f bpp %.4f (mv %.4f) PSNR %.2f [P1 %.2f P%d %.2f] lr %.2g %.2f s/step",
                        a->loss / n, a->bpp / n, a->bpp_mv / n, a->psnr / n, a->psnr_first / n, o->chain,
                        a->psnr_last / n, m->opt.last_lr, 1.0 / tool_train_rate(r));
    tool_train_log(r, "%" PRIu64 ",%.5f,%.5f,%.5f,%.4f,%.4f,%.4f,%.3g,%.1f\n", r->step, a->loss / n, a->bpp / n,
                   a->bpp_mv / n, a->psnr / n, a->psnr_first / n, a->psnr_last / n, m->opt.last_norm,
                   tool_now_s() - r->t0);
}

/* The image model for the chains' intra frames unless --intra source. */
static void intra_open(const VOptions *o, NvcVidIntra *vi, NvcNn *nn)
{
    NvcLogger lg = tool_logger();
    int ret;
    if (!o->intra_source && (ret = nvc_vid_intra_open(vi, nn, o->t.batch, o->t.crop, o->t.crop, &lg)) < 0)
        tool_fail(ret, "cannot load the image model for the intra frames (--intra source does without)");
}

/* Frame 0 of the chains x: coded by the image model at the chains' q, or as is. */
static int intra_frames(const VOptions *o, NvcVidIntra *vi, NvcNn *nn, float *x, const int *q, float *x0)
{
    if (!o->intra_source)
        return nvc_vid_intra_code(vi, nn, x, q, x0);
    memcpy(x0, x, (size_t)o->t.batch * 3 * o->t.crop * o->t.crop * sizeof(float));
    return 0;
}

static void init_from_file(const VOptions *o, NvcVidModel *m, NvcNn *nn)
{
    int ret = nvc_vid_init_from_file(m, nn, o->init);
    if (ret < 0)
        tool_fail(ret, "%s: cannot start from it", o->init_path);
    fprintf(stderr, "%s: started from %s (%s, step %" PRIu64 "); prior networks from its integer layers\n", tool_name,
            o->init_path, o->init->name, o->init->step);
}

static int train(const VOptions *o, NvcNn *nn, const NvcVidClipSet *set, const NvcVidConfig *cfg)
{
    const ToolTrainOptions *t = &o->t;
    NvcLrSchedule sched = { t->lr, t->lr_min, t->warmup, t->steps };
    NvcVidModel m;
    int ret = nvc_vid_create(&m, nn, cfg, t->batch, o->chain, t->crop, t->crop, 1, sched, t->seed);
    if (ret < 0)
        tool_fail(ret, "cannot create the model (%zu MiB)",
                  nvc_vid_memory(cfg, t->batch, o->chain, t->crop, t->crop, 1) >> 20);
    if ((ret = nvc_vid_set_refresh(&m, o->refresh)) < 0)
        tool_fail(ret, "--refresh %d", o->refresh);
    m.opt.clip = t->clip;
    m.me_on_source = o->me_source;
    m.mv_rate_weight = o->mv_weight, m.y_rate_weight = o->y_weight;
    m.y_noise = o->y_noise;
    NvcVidIntra vi;
    intra_open(o, &vi, nn);
    ToolTrainRun r = { .o = t, .nn = nn, .params = &m.params, .pbuf = m.pbuf, .opt = &m.opt };
    tool_train_resume(&r);
    if (!r.step && o->init)
        init_from_file(o, &m, nn);
    else if (!r.step && o->y_init_scale != 1 && (ret = nvc_vid_scale_latent(&m, nn, o->y_init_scale)) < 0)
        tool_fail(ret, "cannot scale the latent");
    if (!r.step && !o->init && o->mv_init_scale != 1 &&
        (ret = nvc_vid_scale_mv_latent(&m, nn, o->mv_init_scale)) < 0)
        tool_fail(ret, "cannot scale the motion latent");
    tool_train_write_cfg(t->ckpt, cfg_body, cfg, o);
    tool_train_start(&r);
    double enc, dec;
    nvc_vid_macs(cfg, &enc, &dec);
    fprintf(stderr, "%s: video model, %zu parameters, %.1fk MAC/pixel to decode (%.1fk to encode), %zu MiB; "
            "%d clips (%" PRId64 " frames)\n", tool_name, nvc_arena_numel(&m.params), dec / 1e3, enc / 1e3,
            nvc_vid_memory(cfg, t->batch, o->chain, t->crop, t->crop, 1) >> 20, set->n, set->frames);
    const size_t nx = (size_t)t->batch * 3 * t->crop * t->crop;
    float *x = malloc(nx * sizeof(float) * (o->chain + 1)), *x0 = malloc(nx * sizeof(float));
    if (!x || !x0)
        tool_die("out of memory");
    Avg avg = { 0 };
    while (r.step < (uint64_t)t->steps && !tool_interrupted) {
        int q[64];
        if ((ret = nvc_vid_clips_chains(set, x, t->batch, o->chain + 1, t->crop, &r.rng)) < 0)
            tool_fail(ret, "no clip has %d frames of %dx%d", o->chain + 1, t->crop, t->crop);
        tool_train_qualities(&r, q, t->batch, NVC_VID_QLEVELS);
        if ((ret = intra_frames(o, &vi, nn, x, q, x0)) < 0)
            tool_fail(ret, "intra frame, step %" PRIu64, r.step);
        NvcVidStats s;
        if ((ret = nvc_vid_set_chain(&m, nn, x0, x + nx)) < 0 || (ret = nvc_vid_set_quality(&m, nn, q)) < 0 ||
            (ret = nvc_vid_forward_backward(&m, nn, r.step, &s)) < 0)
            tool_fail(ret, "training step %" PRIu64, r.step);
        if (r.step < (uint64_t)o->prior_steps)
            nvc_vid_grads_priors_only(&m, nn);
        if ((ret = nvc_adam_step(&m.opt, nn, &m.params, m.pbuf, m.gbuf)) < 0)
            tool_fail(ret, "training step %" PRIu64, r.step);
        tool_train_check_loss(s.loss, r.step);
        r.step++;
        avg.loss += s.loss, avg.bpp += s.bpp, avg.bpp_mv += s.bpp_mv, avg.psnr += s.psnr;
        avg.psnr_first += s.psnr_t[0], avg.psnr_last += s.psnr_t[o->chain - 1];
        avg.n++;
        if (r.step % 10 == 0 || r.step == (uint64_t)t->steps) {
            progress(o, &m, &avg, &r);
            memset(&avg, 0, sizeof(avg));
        }
        tool_train_step_done(&r);
    }
    const int rc = tool_train_finish(&r);
    free(x);
    free(x0);
    if (!o->intra_source)
        nvc_vid_intra_close(&vi, nn);
    nvc_vid_free(&m, nn);
    return rc;
}

/* A model of the chains' sizes without training state. */
static void create_model(const VOptions *o, NvcNn *nn, const NvcVidConfig *cfg, NvcVidModel *m)
{
    const ToolTrainOptions *t = &o->t;
    NvcLrSchedule sched = { 0 };
    int ret = nvc_vid_create(m, nn, cfg, t->batch, o->chain, t->crop, t->crop, 0, sched, t->seed);
    if (ret < 0 || (ret = nvc_vid_set_refresh(m, o->refresh)) < 0)
        tool_fail(ret, "cannot create the model");
}

static int export_model(const VOptions *o, NvcNn *nn, const NvcVidClipSet *set, const NvcVidConfig *cfg)
{
    const ToolTrainOptions *t = &o->t;
    NvcVidModel m;
    create_model(o, nn, cfg, &m);
    int ret;
    uint64_t step = 0;
    tool_train_load(t, nn, &m.params, m.pbuf, &m.opt, &step, "cannot read");
    NvcLogger lg = tool_logger();
    NvcVidExportStats es;
    if ((ret = nvc_vid_export(&m, nn, set, o->calib, t->name, step, t->export_path, &es, &lg)) < 0)
        tool_fail(ret, "%s: export failed", t->export_path);
    tool_train_report_export(t, step, es.bytes, es.crc);
    fprintf(stderr, "%s: calibration chains: %.4f bpp with the float priors, %.4f bpp with the integer priors "
            "(%+.2f%%)\n", tool_name, es.bpp_float, es.bpp_int, 100.0 * (es.bpp_int / es.bpp_float - 1.0));
    nvc_vid_free(&m, nn);
    return 0;
}

/* Rate and quality of the checkpoint on fixed chains of the data, per q. */
static int eval_model(const VOptions *o, NvcNn *nn, const NvcVidClipSet *set, const NvcVidConfig *cfg)
{
    const ToolTrainOptions *t = &o->t;
    NvcVidModel m;
    create_model(o, nn, cfg, &m);
    m.me_on_source = o->me_source;
    int ret;
    uint64_t step = 0;
    struct stat st;
    if (o->init) { /* the model file, its priors as float layers */
        if ((ret = nvc_vid_init_from_file(&m, nn, o->init)) < 0)
            tool_fail(ret, "%s: cannot evaluate it", o->init_path);
        step = o->init->step;
    } else if (!stat(t->ckpt, &st)) {
        tool_train_load(t, nn, &m.params, m.pbuf, &m.opt, &step, "cannot read");
    }
    NvcVidIntra vi;
    intra_open(o, &vi, nn);
    const size_t nx = (size_t)t->batch * 3 * t->crop * t->crop;
    float *x = malloc(nx * sizeof(float) * (o->chain + 1)), *x0 = malloc(nx * sizeof(float));
    if (!x || !x0)
        tool_die("out of memory");
    printf("# step %" PRIu64 ", %d batches of %d chains of %d P frames, %dx%d, refresh %d\n", step, o->calib, t->batch,
           o->chain, t->crop, t->crop, o->refresh);
    printf("q,bpp,bpp_mv,psnr,psnr_p1,psnr_plast\n");
    static const int qs[4] = { 0, 21, 42, 63 };
    for (int k = 0; k < 4; k++) {
        double bpp = 0, mv = 0, ps = 0, p1 = 0, pl = 0;
        int q[64];
        for (int b = 0; b < t->batch; b++)
            q[b] = qs[k];
        for (int i = 0; i < o->calib; i++) {
            uint64_t rng = 0xe7a1ull + (uint64_t)i;
            NvcVidStats s;
            if ((ret = nvc_vid_clips_chains(set, x, t->batch, o->chain + 1, t->crop, &rng)) < 0)
                tool_fail(ret, "no clip has %d frames of %dx%d", o->chain + 1, t->crop, t->crop);
            if ((ret = intra_frames(o, &vi, nn, x, q, x0)) < 0)
                tool_fail(ret, "intra frame");
            if ((ret = nvc_vid_set_chain(&m, nn, x0, x + nx)) < 0 || (ret = nvc_vid_set_quality(&m, nn, q)) < 0 ||
                (ret = nvc_vid_eval(&m, nn, &s)) < 0)
                tool_fail(ret, "evaluation");
            bpp += s.bpp, mv += s.bpp_mv, ps += s.psnr, p1 += s.psnr_t[0], pl += s.psnr_t[o->chain - 1];
        }
        const double n = o->calib;
        printf("%d,%.4f,%.4f,%.2f,%.2f,%.2f\n", qs[k], bpp / n, mv / n, ps / n, p1 / n, pl / n);
        fflush(stdout);
    }
    free(x);
    free(x0);
    if (!o->intra_source)
        nvc_vid_intra_close(&vi, nn);
    nvc_vid_free(&m, nn);
    return 0;
}

static int add_data(void *set, const char *path, const void *opts)
{
    return nvc_vid_clips_add(set, path, opts);
}

int tool_train_video(int argc, char **argv)
{
    VOptions o;
    parse_options(argc, argv, &o);
    const ToolTrainOptions *t = &o.t;
    NvcLogger lg = tool_logger();
    NvcVidConfig cfg = o.cfg;
    struct stat st;
    if (t->export_path && stat(t->ckpt, &st))
        tool_die("%s: no checkpoint to export", t->ckpt);
    if (!t->restart || t->export_path || o.eval)
        read_cfg(t->ckpt, &cfg);
    NvcVidModelFile init = { 0 };
    if (o.init_path && !t->export_path && (o.eval || t->restart || stat(t->ckpt, &st))) {
        int ret = nvc_vid_file_load(&init, o.init_path, "--init", &lg);
        if (ret < 0)
            tool_fail(ret, "%s: not a video model file", o.init_path);
        const int blend = cfg.blend;
        cfg = init.cfg;
        cfg.blend = blend ? blend : init.cfg.blend;
        o.init = &init;
    }
    if (nvc_vid_config_check(&cfg, &lg) < 0)
        return 1;
    NvcVidClipSet set = { 0 };
    tool_train_add_data(t, add_data, &set, &o.load);
    if (!set.n)
        tool_die("no clip of the training data has %d frames of at least %dx%d", o.chain + 1, t->crop, t->crop);
    NvcNn *nn = tool_train_nn(t);
    int rc = t->export_path ? export_model(&o, nn, &set, &cfg) : o.eval ? eval_model(&o, nn, &set, &cfg)
                                                                      : train(&o, nn, &set, &cfg);
    nvc_nn_free(&nn);
    nvc_vid_file_free(&init);
    nvc_vid_clips_free(&set);
    free(o.t.data);
    return rc;
}
