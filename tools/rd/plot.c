/*
 * nvc-rd: RD plots. One layout routine draws through a small painter
 * interface; the SVG painter writes elements, the raster painter fills a
 * 3x supersampled RGB canvas (anti-aliased by averaging on the way down)
 * that libpng writes out. Hand-rolled so that nvc-rd needs no plotting
 * package at run time and both files show exactly the same figure.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NVC_HAVE_PNG
#include <png.h>
#endif

#include "tools/rd/plot.h"
#include "tools/rd/results.h"

enum { WIDTH = 900, HEIGHT = 600, SS = 3 };
enum { LEFT = 82, RIGHT = 26, TOP = 66, BOTTOM = 60 };

/* Okabe-Ito colours (distinguishable with colour-blindness), then greys. */
static const uint32_t palette[] = { 0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7, 0xe69f00,
                                    0x56b4e9, 0x000000, 0x8c564b, 0x7f7f7f };
#define NCOLORS ((int)(sizeof(palette) / sizeof(palette[0])))
#define NSHAPES 5

typedef struct Painter {
    void *ctx;
    void (*line)(void *ctx, double x0, double y0, double x1, double y1, double w, uint32_t rgb,
                 int dashed);
    void (*marker)(void *ctx, int shape, double x, double y, double r, uint32_t rgb);
    /* (x, y): the anchor point on the text's vertical middle; anchor -1 start,
     * 0 middle, 1 end; vertical: rotated to read upwards. */
    void (*text)(void *ctx, double x, double y, const char *s, double size, int anchor,
                 int vertical, uint32_t rgb, int bold);
    void (*rect)(void *ctx, double x, double y, double w, double h, uint32_t fill,
                 uint32_t stroke);
} Painter;

void rd_plot_ticks(double lo, double hi, int target, double *first, double *step, int *count)
{
    const double raw = (hi - lo) / (target > 1 ? target : 1);
    const double mag = pow(10, floor(log10(raw)));
    static const double nice[] = { 1, 2, 2.5, 5, 10 };
    double st = 10 * mag;
    for (int i = 0; i < 5; i++) {
        if (nice[i] * mag >= raw) {
            st = nice[i] * mag;
            break;
        }
    }
    *step = st;
    *first = ceil(lo / st - 1e-9) * st;
    *count = (int)floor((hi - *first) / st + 1e-9) + 1;
}

static int decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    if (d < 0)
        d = 0;
    /* 0.25 needs one more digit than its magnitude says */
    if (fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
        d++;
    return d;
}

/* Axis range from the data, padded and snapped to ticks. The padding does
 * not cross zero when the data does not: rates and qualities are never
 * negative, and an axis from -0.1 bpp wasted a quarter of the width. */
static void axis_range(double lo, double hi, double pad, double *a, double *b, double *first,
                       double *step, int *count)
{
    const int nonneg = lo >= 0;
    if (!(hi > lo)) {
        const double d = lo != 0 ? fabs(lo) * 0.1 : 1;
        lo -= d;
        hi += d;
    }
    const double p = (hi - lo) * pad;
    lo -= p;
    hi += p;
    if (nonneg && lo < 0)
        lo = 0;
    rd_plot_ticks(lo, hi, 6, first, step, count);
    *a = floor(lo / *step + 1e-9) * *step;
    *b = ceil(hi / *step - 1e-9) * *step;
    *first = *a;
    *count = (int)floor((*b - *a) / *step + 1e-9) + 1;
}

static void draw_legend(const RdPlot *p, const Painter *pa, double x1, double y1)
{
    size_t longest = 0;
    for (int i = 0; i < p->n; i++)
        if (strlen(p->s[i].name) > longest)
            longest = strlen(p->s[i].name);
    const double fs = 13, row = 20;
    const double w = 52 + longest * 0.6 * fs + 10, h = p->n * row + 10;
    const double x = x1 - w - 12, y = y1 - h - 12;
    pa->rect(pa->ctx, x, y, w, h, 0xffffff, 0xb0b0b0);
    for (int i = 0; i < p->n; i++) {
        const double cy = y + 5 + row * (i + 0.5);
        const uint32_t c = palette[p->s[i].style % NCOLORS];
        pa->line(pa->ctx, x + 8, cy, x + 42, cy, 2, c, p->s[i].dashed);
        pa->marker(pa->ctx, p->s[i].style % NSHAPES, x + 25, cy, 4.5, c);
        pa->text(pa->ctx, x + 50, cy, p->s[i].name, fs, -1, 0, 0x202020, 0);
    }
}

static void draw_plot(const RdPlot *p, const Painter *pa)
{
    const double x0 = LEFT, x1 = WIDTH - RIGHT, y0 = TOP, y1 = HEIGHT - BOTTOM;
    pa->rect(pa->ctx, 0, 0, WIDTH, HEIGHT, 0xffffff, 0xffffff);
    pa->text(pa->ctx, WIDTH / 2.0, 22, p->title, 17, 0, 0, 0x000000, 1);
    if (p->subtitle[0])
        pa->text(pa->ctx, WIDTH / 2.0, 44, p->subtitle, 12, 0, 0, 0x505050, 0);
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < p->n; i++) {
        for (int k = 0; k < p->s[i].n; k++) {
            if (!isfinite(p->s[i].x[k]) || !isfinite(p->s[i].y[k]))
                continue;
            xlo = fmin(xlo, p->s[i].x[k]);
            xhi = fmax(xhi, p->s[i].x[k]);
            ylo = fmin(ylo, p->s[i].y[k]);
            yhi = fmax(yhi, p->s[i].y[k]);
        }
    }
    if (!(xhi >= xlo)) { /* nothing finite to draw */
        xlo = ylo = 0;
        xhi = yhi = 1;
    }
    double xa, xb, xf, xs, ya, yb, yf, ys;
    int xn, yn;
    axis_range(xlo, xhi, 0.04, &xa, &xb, &xf, &xs, &xn);
    axis_range(ylo, yhi, 0.05, &ya, &yb, &yf, &ys, &yn);
#define SX(v) (x0 + ((v) - xa) / (xb - xa) * (x1 - x0))
#define SY(v) (y1 - ((v) - ya) / (yb - ya) * (y1 - y0))
    char buf[64];
    const int xd = decimals(xs), yd = decimals(ys);
    for (int i = 0; i < xn; i++) {
        const double v = xf + i * xs, sx = SX(v);
        pa->line(pa->ctx, sx, y0, sx, y1, 1, 0xe4e4e4, 0);
        snprintf(buf, sizeof(buf), "%.*f", xd, v);
        pa->text(pa->ctx, sx, y1 + 14, buf, 12, 0, 0, 0x303030, 0);
    }
    for (int i = 0; i < yn; i++) {
        const double v = yf + i * ys, sy = SY(v);
        pa->line(pa->ctx, x0, sy, x1, sy, 1, 0xe4e4e4, 0);
        snprintf(buf, sizeof(buf), "%.*f", yd, v);
        pa->text(pa->ctx, x0 - 8, sy, buf, 12, 1, 0, 0x303030, 0);
    }
    pa->line(pa->ctx, x0, y1, x1, y1, 1.5, 0x000000, 0);
    pa->line(pa->ctx, x0, y0, x0, y1, 1.5, 0x000000, 0);
    pa->line(pa->ctx, x0, y0, x1, y0, 1, 0x909090, 0);
    pa->line(pa->ctx, x1, y0, x1, y1, 1, 0x909090, 0);
    pa->text(pa->ctx, (x0 + x1) / 2, HEIGHT - 20, p->xlabel, 14, 0, 0, 0x000000, 0);
    pa->text(pa->ctx, 22, (y0 + y1) / 2, p->ylabel, 14, 0, 1, 0x000000, 0);
    for (int i = 0; i < p->n; i++) {
        const RdSeries *s = &p->s[i];
        const uint32_t c = palette[s->style % NCOLORS];
        int prev = -1;
        for (int k = 0; k < s->n; k++) {
            if (!isfinite(s->x[k]) || !isfinite(s->y[k]))
                continue;
            if (prev >= 0)
                pa->line(pa->ctx, SX(s->x[prev]), SY(s->y[prev]), SX(s->x[k]), SY(s->y[k]), 2, c,
                         s->dashed);
            prev = k;
        }
        for (int k = 0; k < s->n; k++)
            if (isfinite(s->x[k]) && isfinite(s->y[k]))
                pa->marker(pa->ctx, s->style % NSHAPES, SX(s->x[k]), SY(s->y[k]), 4.5, c);
    }
#undef SX
#undef SY
    if (p->n)
        draw_legend(p, pa, x1, y1);
}

/* ---- SVG -------------------------------------------------------------------- */

static void svg_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void svg_line(void *ctx, double x0, double y0, double x1, double y1, double w, uint32_t rgb,
                     int dashed)
{
    fprintf(ctx,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#%06x\" "
            "stroke-width=\"%.1f\"%s/>\n",
            x0, y0, x1, y1, (unsigned)rgb, w, dashed ? " stroke-dasharray=\"7,4\"" : "");
}

static void svg_marker(void *ctx, int shape, double x, double y, double r, uint32_t rgb)
{
    FILE *f = ctx;
    switch (shape) {
    case 0: fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\"", x, y, r); break;
    case 1:
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"", x - 0.88 * r,
                y - 0.88 * r, 1.76 * r, 1.76 * r);
        break;
    case 2:
    case 4: {
        const double s = shape == 2 ? 1 : -1;
        fprintf(f, "<polygon points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\"", x, y - s * 1.15 * r,
                x - r * 1.05, y + s * 0.75 * r, x + r * 1.05, y + s * 0.75 * r);
        break;
    }
    default:
        fprintf(f, "<polygon points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f\"", x, y - 1.25 * r,
                x + 1.25 * r, y, x, y + 1.25 * r, x - 1.25 * r, y);
    }
    fprintf(f, " fill=\"#%06x\"/>\n", (unsigned)rgb);
}

static void svg_text(void *ctx, double x, double y, const char *s, double size, int anchor,
                     int vertical, uint32_t rgb, int bold)
{
    FILE *f = ctx;
    static const char *const anchors[] = { "start", "middle", "end" };
    fprintf(f,
            "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"%s\" "
            "dominant-baseline=\"central\" fill=\"#%06x\"%s",
            x, y, size, anchors[anchor + 1], (unsigned)rgb, bold ? " font-weight=\"bold\"" : "");
    if (vertical)
        fprintf(f, " transform=\"rotate(-90 %.2f %.2f)\"", x, y);
    fputc('>', f);
    svg_escaped(f, s);
    fputs("</text>\n", f);
}

static void svg_rect(void *ctx, double x, double y, double w, double h, uint32_t fill,
                     uint32_t stroke)
{
    fprintf(ctx,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#%06x\" "
            "stroke=\"#%06x\"/>\n",
            x, y, w, h, (unsigned)fill, (unsigned)stroke);
}

static int write_svg(FILE *f, void *cookie)
{
    const RdPlot *p = cookie;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n"
            "<title>",
            WIDTH, HEIGHT, WIDTH, HEIGHT);
    svg_escaped(f, p->title);
    fputs("</title>\n", f);
    const Painter pa = { f, svg_line, svg_marker, svg_text, svg_rect };
    draw_plot(p, &pa);
    fputs("</svg>\n", f);
    return 0;
}

int rd_plot_svg(const RdPlot *p, const char *path, char *err, size_t errsz)
{
    return rd_write_atomic(path, write_svg, (void *)p, err, errsz);
}

/* ---- raster ------------------------------------------------------------------ */

typedef struct Raster {
    int w, h;      /* supersampled size */
    uint8_t *px;   /* RGB */
} Raster;

static void put(Raster *r, int x, int y, uint32_t rgb)
{
    if (x < 0 || y < 0 || x >= r->w || y >= r->h)
        return;
    uint8_t *p = r->px + 3 * ((size_t)y * r->w + x);
    p[0] = rgb >> 16;
    p[1] = rgb >> 8;
    p[2] = rgb;
}

/* Fill the supersampled pixels whose centres lie in [x0, x1) x [y0, y1)
 * (coordinates in output pixels). */
static void fill_box(Raster *r, double x0, double y0, double x1, double y1, uint32_t rgb)
{
    const int ax = (int)ceil(x0 * SS - 0.5), bx = (int)ceil(x1 * SS - 0.5);
    const int ay = (int)ceil(y0 * SS - 0.5), by = (int)ceil(y1 * SS - 0.5);
    for (int y = ay; y < by; y++)
        for (int x = ax; x < bx; x++)
            put(r, x, y, rgb);
}

static void segment(Raster *r, double x0, double y0, double x1, double y1, double w, uint32_t rgb)
{
    const double hw = w * SS / 2;
    x0 *= SS, y0 *= SS, x1 *= SS, y1 *= SS;
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    const int ax = (int)floor(fmin(x0, x1) - hw), bx = (int)ceil(fmax(x0, x1) + hw);
    const int ay = (int)floor(fmin(y0, y1) - hw), by = (int)ceil(fmax(y0, y1) + hw);
    for (int y = ay; y <= by; y++) {
        for (int x = ax; x <= bx; x++) {
            const double px = x + 0.5 - x0, py = y + 0.5 - y0;
            double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            const double ex = px - t * dx, ey = py - t * dy;
            if (ex * ex + ey * ey <= hw * hw)
                put(r, x, y, rgb);
        }
    }
}

static void r_line(void *ctx, double x0, double y0, double x1, double y1, double w, uint32_t rgb,
                   int dashed)
{
    if (!dashed) {
        segment(ctx, x0, y0, x1, y1, w, rgb);
        return;
    }
    const double len = hypot(x1 - x0, y1 - y0), on = 7, off = 4;
    for (double s = 0; s < len; s += on + off) {
        const double e = fmin(s + on, len);
        segment(ctx, x0 + (x1 - x0) * s / len, y0 + (y1 - y0) * s / len,
                x0 + (x1 - x0) * e / len, y0 + (y1 - y0) * e / len, w, rgb);
    }
}

/* Edge function of (ax, ay) -> (bx, by) at (px, py). */
static double edge(double ax, double ay, double bx, double by, double px, double py)
{
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}

static int inside(int shape, double dx, double dy, double r)
{
    switch (shape) {
    case 0: return dx * dx + dy * dy <= r * r;
    case 1: return fabs(dx) <= 0.88 * r && fabs(dy) <= 0.88 * r;
    case 2:
    case 4: {
        const double s = shape == 2 ? 1 : -1;
        const double ax = 0, ay = -s * 1.15 * r, bx = -1.05 * r, by = s * 0.75 * r, cx = 1.05 * r,
                     cy = s * 0.75 * r;
        const double e0 = edge(ax, ay, bx, by, dx, dy), e1 = edge(bx, by, cx, cy, dx, dy),
                     e2 = edge(cx, cy, ax, ay, dx, dy);
        return (e0 >= 0 && e1 >= 0 && e2 >= 0) || (e0 <= 0 && e1 <= 0 && e2 <= 0);
    }
    default: return fabs(dx) + fabs(dy) <= 1.25 * r;
    }
}

static void r_marker(void *ctx, int shape, double x, double y, double r, uint32_t rgb)
{
    Raster *ra = ctx;
    const double cx = x * SS, cy = y * SS, rr = r * SS;
    for (int py = (int)floor(cy - 1.3 * rr); py <= (int)ceil(cy + 1.3 * rr); py++)
        for (int px = (int)floor(cx - 1.3 * rr); px <= (int)ceil(cx + 1.3 * rr); px++)
            if (inside(shape, px + 0.5 - cx, py + 0.5 - cy, rr))
                put(ra, px, py, rgb);
}

static void r_text(void *ctx, double x, double y, const char *s, double size, int anchor,
                   int vertical, uint32_t rgb, int bold)
{
    const double u = size / 10; /* one font cell row */
    const size_t n = strlen(s);
    const double width = n ? n * 6 * u - u : 0;
    const double start = -width * (anchor + 1) / 2;
    for (size_t i = 0; i < n; i++) {
        const unsigned ch = (unsigned char)s[i];
        const uint8_t *g = rd_font5x9[ch >= 32 && ch < 127 ? ch - 32 : '?' - 32];
        for (int row = 0; row < 9; row++) {
            for (int col = 0; col < 5; col++) {
                if (!(g[row] >> (4 - col) & 1))
                    continue;
                for (int b = 0; b <= bold; b++) {
                    /* text space: tx along the line, ty down from the middle */
                    const double tx = start + (i * 6 + col) * u + b * 0.45 * u;
                    const double ty = (row - 3.5) * u;
                    if (vertical)
                        fill_box(ctx, x + ty, y - tx - u, x + ty + u, y - tx, rgb);
                    else
                        fill_box(ctx, x + tx, y + ty, x + tx + u, y + ty + u, rgb);
                }
            }
        }
    }
}

static void r_rect(void *ctx, double x, double y, double w, double h, uint32_t fill,
                   uint32_t stroke)
{
    fill_box(ctx, x, y, x + w, y + h, fill);
    if (stroke != fill) {
        r_line(ctx, x, y, x + w, y, 1, stroke, 0);
        r_line(ctx, x, y + h, x + w, y + h, 1, stroke, 0);
        r_line(ctx, x, y, x, y + h, 1, stroke, 0);
        r_line(ctx, x + w, y, x + w, y + h, 1, stroke, 0);
    }
}

/* Average SS x SS blocks into an RGB image of WIDTH x HEIGHT. */
static uint8_t *downsample(const Raster *r)
{
    uint8_t *out = malloc((size_t)WIDTH * HEIGHT * 3);
    if (!out)
        return NULL;
    for (int y = 0; y < HEIGHT; y++) {
        for (int x = 0; x < WIDTH; x++) {
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int j = 0; j < SS; j++)
                    for (int i = 0; i < SS; i++)
                        sum += r->px[3 * ((size_t)(y * SS + j) * r->w + x * SS + i) + c];
                out[3 * ((size_t)y * WIDTH + x) + c] = (uint8_t)((sum + SS * SS / 2) / (SS * SS));
            }
        }
    }
    return out;
}

#ifdef NVC_HAVE_PNG
static int write_png(FILE *f, void *cookie)
{
    const uint8_t *img = cookie;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return NVC_ERR(ENOMEM);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return NVC_ERR(EIO);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, WIDTH, HEIGHT, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < HEIGHT; y++)
        png_write_row(png, img + (size_t)y * WIDTH * 3);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}
#endif

int rd_plot_png(const RdPlot *p, const char *path, char *err, size_t errsz)
{
#ifdef NVC_HAVE_PNG
    Raster r = { WIDTH * SS, HEIGHT * SS, malloc((size_t)WIDTH * SS * HEIGHT * SS * 3) };
    if (!r.px) {
        snprintf(err, errsz, "out of memory");
        return NVC_ERR(ENOMEM);
    }
    const Painter pa = { &r, r_line, r_marker, r_text, r_rect };
    draw_plot(p, &pa);
    uint8_t *img = downsample(&r);
    free(r.px);
    if (!img) {
        snprintf(err, errsz, "out of memory");
        return NVC_ERR(ENOMEM);
    }
    const int ret = rd_write_atomic(path, write_png, img, err, errsz);
    free(img);
    return ret;
#else
    snprintf(err, errsz, "%s: this build has no libpng", path);
    return NVC_ERR(ENOSYS);
#endif
}
