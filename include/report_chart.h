/*
 * include/report_chart.h — the report's lag chart (src/report_chart.c): a
 * hand-written SVG of the lag over the whole migration, with ticks on both
 * axes, the lag clamped at zero, and the phases (copy, catch-up, streaming,
 * cutover) as labelled bands on the time axis; where the chart's file goes
 * beside the report. Pure text building, no server: unit-tested.
 */
#ifndef PGBATON_REPORT_CHART_H
#define PGBATON_REPORT_CHART_H

#include "state_read.h"

/* The phases the chart marks, in order. */
#define REPORT_NSPANS 4

/* One phase on the time axis, epoch seconds. */
typedef struct report_span {
    const char *name;  /* "copy", "catch-up", "streaming", "cutover"; static */
    const char *about; /* what it covers, for the legend; static */
    double from, to;
} report_span;

/* The phases of a migration whose steps ended at T, each clipped to END
 * (where the chart's time axis ends: a phase still under way runs to it):
 *   copy      start until streaming began (slot, schema, rows, indexes);
 *   catch-up  streaming began until the lag first fell below 1 s;
 *   streaming from then until the cutover began;
 *   cutover   the cutover until done.
 * Phases not reached are left out. Returns how many went to OUT. */
int report_phase_spans(const state_report_times *t, double end, report_span out[REPORT_NSPANS]);

/* Everything the chart shows. */
typedef struct report_chart {
    const char *title; /* e.g. the migration's name (XML-escaped here) */
    double t0, t1;     /* the time axis, epoch seconds (t1 > t0, else widened) */
    const double *t;   /* N sample times, epoch seconds, oldest first */
    const double *lag; /* their lag in seconds; NAN: unknown (not drawn) */
    int n;
    const report_span *spans; /* NSPANS bands */
    int nspans;
} report_chart;

/* The SVG text of C (malloc'd). Its parts carry classes a reader (or a
 * test) can find: rect.phase (data-phase=NAME), g.x-ticks and g.y-ticks
 * with line.tick and text.tick-label, polyline.lag, circle.sample (one per
 * sample drawn, up to a few hundred), text.no-samples when there is none
 * to draw. */
char *report_chart_svg(const report_chart *c);

/* "1, 2 or 5 times a power of ten" at least RAW (> 0): a tick step. */
double report_nice_step(double raw);

/* The chart's path beside the report file REPORT_PATH: its name without
 * its extension, then "-lag.svg" (out/report.md -> out/report-lag.svg), so
 * that two reports in one directory keep two charts. *NAME gets the file's
 * name as a Markdown link to it (percent-encoded); both malloc'd. */
char *report_chart_path(const char *report_path, char **name);

#endif
