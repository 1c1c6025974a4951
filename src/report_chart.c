/*
 * src/report_chart.c — the report's lag chart (include/report_chart.h).
 *
 * The time axis spans the whole migration, from its start to its end (or
 * to now while it runs), so that the phases without samples show too: no
 * one samples the lag during the copy (the applier, which writes the
 * samples, starts with streaming), so the copy is a band, and the first
 * samples after it show the lag it left. The lag axis runs from 0 (a
 * negative sample, from two servers' clocks a little apart, is drawn at 0)
 * to a round value above the highest sample. Both axes have ticks at 1, 2
 * or 5 times a power of ten, time labelled in s, min or h since the start.
 * Each phase is a band of its own colour, labelled inside when it is wide
 * enough and always in the legend with its span. A long series (more
 * samples than twice the plot's width in pixels) is drawn as the lowest
 * and highest lag of each pixel column: its envelope.
 */
#include "report_chart.h"

#include "strbuf.h"
#include "xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- the phases ---------------------------------------------------------- */

static double first_known(double a, double b, double c)
{
    return !isnan(a) ? a : !isnan(b) ? b : c;
}

/* The smaller known one of A and B (NAN when neither). */
static double min_known(double a, double b)
{
    return isnan(a) ? b : isnan(b) ? a : a < b ? a : b;
}

int report_phase_spans(const state_report_times *t, double end, report_span out[REPORT_NSPANS])
{
    struct {
        const char *name, *about;
        double from, to;
    } p[REPORT_NSPANS] = {
        {"copy", "slot, schema, rows, indexes", t->started,
         first_known(t->streaming, t->indexes_done, t->copy_done)},
        {"catch-up", "until the lag fell below 1 s", t->streaming,
         min_known(min_known(t->caught_up, t->cutover), t->done)},
        {"streaming", "in step with the source", t->caught_up,
         first_known(t->cutover, t->done, NAN)},
        {"cutover", "freeze to done", t->cutover, t->done},
    };
    int n = 0;
    for (int i = 0; i < REPORT_NSPANS; i++) {
        if (isnan(p[i].from) || p[i].from >= end)
            continue;
        double to = isnan(p[i].to) || p[i].to > end ? end : p[i].to;
        if (to <= p[i].from)
            continue;
        out[n++] =
            (report_span){.name = p[i].name, .about = p[i].about, .from = p[i].from, .to = to};
    }
    return n;
}

/* --- ticks --------------------------------------------------------------- */

double report_nice_step(double raw)
{
    if (!(raw > 0) || !isfinite(raw))
        return 1;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10) * p;
}

/* Decimals that show every multiple of STEP. */
static int decimals(double step)
{
    int d = 0;
    while (d < 3 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
        d++;
    return d;
}

/* How the time axis is labelled: seconds, minutes or hours since t0. */
typedef struct time_unit {
    const char *name;
    double seconds;
} time_unit;

static time_unit unit_for(double span)
{
    if (span <= 300)
        return (time_unit){"s", 1};
    if (span <= 300 * 60)
        return (time_unit){"min", 60};
    return (time_unit){"h", 3600};
}

/* --- SVG ----------------------------------------------------------------- */

/* The plot's frame in the picture. */
#define W     900.0
#define H     400.0
#define LEFT  70.0
#define RIGHT 20.0
#define TOP   50.0
#define BOT   310.0 /* the plot's bottom edge (the lag's zero) */
#define PW    (W - LEFT - RIGHT)
#define PH    (BOT - TOP)

/* Up to this many samples drawn, each also gets a marker. */
#define MAX_MARKERS 300

static const char *span_colour(const char *name)
{
    return strcmp(name, "copy") == 0        ? "#f3e3bd"
           : strcmp(name, "catch-up") == 0  ? "#f7c9bd"
           : strcmp(name, "streaming") == 0 ? "#cfe8cc"
                                            : "#c9d8f2";
}

static void put_escaped(strbuf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *e = *s == '<'   ? "&lt;"
                        : *s == '>' ? "&gt;"
                        : *s == '&' ? "&amp;"
                        : *s == '"' ? "&quot;"
                                    : NULL;
        if (e)
            strbuf_puts(b, e);
        else
            strbuf_putc(b, *s);
    }
}

/* An estimate of the width of TEXT at 12 px sans-serif. */
static double text_width(const char *text)
{
    return 6.8 * (double)strlen(text);
}

typedef struct frame {
    double t0, t1, ymax;
    time_unit unit;
} frame;

static double xpos(const frame *f, double t)
{
    double x = LEFT + (t - f->t0) / (f->t1 - f->t0) * PW;
    return x < LEFT ? LEFT : x > LEFT + PW ? LEFT + PW : x;
}

static double ypos(const frame *f, double lag)
{
    double v = lag < 0 ? 0 : lag > f->ymax ? f->ymax : lag;
    return BOT - v / f->ymax * PH;
}

/* "12 s", "1.5 min": a time since t0 in F's unit. */
static void time_label(char *buf, size_t n, const frame *f, double seconds, double step)
{
    snprintf(buf, n, "%.*f %s", decimals(step), seconds / f->unit.seconds, f->unit.name);
}

static void put_spans(strbuf *b, const report_chart *c, const frame *f)
{
    for (int i = 0; i < c->nspans; i++) {
        const report_span *s = &c->spans[i];
        double x0 = xpos(f, s->from), x1 = xpos(f, s->to);
        strbuf_printf(b,
                      "<rect class=\"phase\" data-phase=\"%s\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                      s->name, x0, TOP, x1 - x0, PH, span_colour(s->name));
        if (x1 - x0 >= text_width(s->name) + 6)
            strbuf_printf(b,
                          "<text class=\"phase-label\" x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\" fill=\"#555\">%s</text>\n",
                          (x0 + x1) / 2, TOP + 14, s->name);
    }
}

static void put_ticks(strbuf *b, const frame *f)
{
    char label[64];
    /* lag */
    double ystep = report_nice_step(f->ymax / 5);
    strbuf_puts(b, "<g class=\"y-ticks\">\n");
    for (int k = 0; k * ystep <= f->ymax + 1e-9; k++) {
        double v = k * ystep, y = ypos(f, v);
        snprintf(label, sizeof label, "%.*f s", decimals(ystep), v);
        strbuf_printf(b,
                      "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#ddd\"/>\n"
                      "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"black\"/>\n"
                      "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" "
                      "text-anchor=\"end\">%s</text>\n",
                      LEFT, y, LEFT + PW, y, LEFT - 5, y, LEFT, y, LEFT - 8, y + 4, label);
    }
    strbuf_puts(b, "</g>\n");
    /* time */
    double span = (f->t1 - f->t0) / f->unit.seconds;
    double xstep = report_nice_step(span / 8);
    strbuf_puts(b, "<g class=\"x-ticks\">\n");
    for (int k = 0; k * xstep <= span + 1e-9; k++) {
        double x = xpos(f, f->t0 + k * xstep * f->unit.seconds);
        time_label(label, sizeof label, f, k * xstep * f->unit.seconds, xstep);
        strbuf_printf(b,
                      "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"black\"/>\n"
                      "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" "
                      "text-anchor=\"middle\">%s</text>\n",
                      x, BOT, x, BOT + 5, x, BOT + 18, label);
    }
    strbuf_puts(b, "</g>\n");
}

/* The samples with a known lag, as a polyline (the envelope per pixel
 * column when there are many) and markers. */
static void put_series(strbuf *b, const report_chart *c, const frame *f, int known)
{
    if (known == 0) {
        strbuf_printf(b,
                      "<text class=\"no-samples\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                      "no lag samples recorded</text>\n",
                      LEFT + PW / 2, TOP + PH / 2);
        return;
    }
    strbuf_puts(b, "<polyline class=\"lag\" fill=\"none\" stroke=\"#1f5fa8\" "
                   "stroke-width=\"2\" points=\"");
    bool first = true;
    if (known <= 2 * (int)PW) {
        for (int i = 0; i < c->n; i++)
            if (!isnan(c->lag[i])) {
                strbuf_printf(b, "%s%.1f,%.1f", first ? "" : " ", xpos(f, c->t[i]),
                              ypos(f, c->lag[i]));
                first = false;
            }
    } else { /* the envelope: highest and lowest lag of each pixel column */
        int col = -1;
        double lo = 0, hi = 0;
        for (int i = 0; i <= c->n; i++) {
            if (i < c->n && isnan(c->lag[i]))
                continue;
            int x = i < c->n ? (int)xpos(f, c->t[i]) : -1;
            if (x == col) {
                lo = c->lag[i] < lo ? c->lag[i] : lo;
                hi = c->lag[i] > hi ? c->lag[i] : hi;
                continue;
            }
            if (col >= 0) {
                strbuf_printf(b, "%s%d,%.1f %d,%.1f", first ? "" : " ", col, ypos(f, hi), col,
                              ypos(f, lo));
                first = false;
            }
            if (i < c->n) {
                col = x;
                lo = hi = c->lag[i];
            }
        }
    }
    strbuf_puts(b, "\"/>\n");
    if (known > MAX_MARKERS)
        return;
    for (int i = 0; i < c->n; i++)
        if (!isnan(c->lag[i]))
            strbuf_printf(b,
                          "<circle class=\"sample\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                          "fill=\"#1f5fa8\"/>\n",
                          xpos(f, c->t[i]), ypos(f, c->lag[i]));
}

static void put_legend(strbuf *b, const report_chart *c, const frame *f)
{
    double x = LEFT, y = BOT + 58;
    char from[64], to[64], text[256];
    double step = report_nice_step((f->t1 - f->t0) / f->unit.seconds / 80);
    for (int i = 0; i < c->nspans; i++) {
        const report_span *s = &c->spans[i];
        time_label(from, sizeof from, f, s->from - f->t0, step);
        time_label(to, sizeof to, f, s->to - f->t0, step);
        snprintf(text, sizeof text, "%s (%s): %s to %s", s->name, s->about, from, to);
        double w = 16 + text_width(text) + 18;
        if (x > LEFT && x + w > W - RIGHT) {
            x = LEFT;
            y += 18;
        }
        strbuf_printf(b,
                      "<rect class=\"legend\" data-phase=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"12\" "
                      "height=\"12\" fill=\"%s\" stroke=\"#999\"/>\n"
                      "<text class=\"legend-label\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                      s->name, x, y - 10, span_colour(s->name), x + 16, y, text);
        x += w;
    }
}

char *report_chart_svg(const report_chart *c)
{
    frame f = {.t0 = c->t0, .t1 = c->t1 > c->t0 ? c->t1 : c->t0 + 1};
    f.unit = unit_for(f.t1 - f.t0);
    double lmax = 0;
    int known = 0;
    for (int i = 0; i < c->n; i++)
        if (!isnan(c->lag[i])) {
            known++;
            lmax = c->lag[i] > lmax ? c->lag[i] : lmax;
        }
    double ystep = report_nice_step((lmax > 0 ? lmax : 1) / 5);
    f.ymax = ceil((lmax > 0 ? lmax : 1) / ystep - 1e-9) * ystep;

    strbuf b = {0};
    strbuf_printf(&b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                  "<text class=\"title\" x=\"%.0f\" y=\"20\" font-size=\"14\">Replication lag "
                  "over the migration",
                  W, H, W, H, LEFT);
    if (c->title && *c->title) {
        strbuf_puts(&b, " ");
        put_escaped(&b, c->title);
    }
    strbuf_puts(&b, "</text>\n");
    char start[64] = "";
    time_t t0 = (time_t)f.t0;
    struct tm tm;
    if (gmtime_r(&t0, &tm))
        strftime(start, sizeof start, "%Y-%m-%d %H:%M:%S UTC", &tm);
    strbuf_printf(&b,
                  "<text class=\"subtitle\" x=\"%.0f\" y=\"38\" fill=\"#555\">lag in seconds; "
                  "time since the start, %s</text>\n",
                  LEFT, start);
    put_spans(&b, c, &f);
    put_ticks(&b, &f);
    strbuf_printf(&b,
                  "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"black\"/>\n"
                  "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"black\"/>\n",
                  LEFT, BOT, LEFT + PW, BOT, LEFT, TOP, LEFT, BOT);
    put_series(&b, c, &f, known);
    strbuf_printf(&b,
                  "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time "
                  "since the start (%s)</text>\n",
                  LEFT + PW / 2, BOT + 36, f.unit.name);
    put_legend(&b, c, &f);
    strbuf_puts(&b, "</svg>\n");
    return b.data;
}

/* --- the file ------------------------------------------------------------ */

char *report_chart_path(const char *report_path, char **name)
{
    const char *slash = strrchr(report_path, '/');
    const char *base = slash ? slash + 1 : report_path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot > base ? (size_t)(dot - base) : strlen(base);
    strbuf file = {0};
    strbuf_append(&file, base, stem);
    strbuf_puts(&file, "-lag.svg");
    strbuf path = {0};
    strbuf_append(&path, report_path, (size_t)(base - report_path));
    strbuf_puts(&path, file.data);
    strbuf link = {0};
    for (const unsigned char *p = (const unsigned char *)file.data; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            strbuf_putc(&link, (char)*p);
        else
            strbuf_printf(&link, "%%%02X", *p);
    }
    strbuf_free(&file);
    *name = link.data;
    return path.data;
}
