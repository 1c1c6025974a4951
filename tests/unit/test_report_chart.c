/*
 * tests/unit/test_report_chart.c — the report's lag chart and where it goes
 * (include/report_chart.h): phase spans, tick steps, the SVG's ticks,
 * bands and points (clamped at zero), the envelope of a long series, the
 * chart's file named after the report's.
 */
#include "report_chart.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static state_report_times unknown_times(void)
{
    return (state_report_times){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
}

static void test_spans_of_a_complete_migration(void **state)
{
    (void)state;
    state_report_times t = unknown_times();
    t.started = 1000;
    t.slot = 1001;
    t.schema_done = 1002;
    t.copy_done = 1010;
    t.indexes_done = 1012;
    t.streaming = 1012.5;
    t.caught_up = 1015;
    t.cutover = 1030;
    t.done = 1031;
    report_span s[REPORT_NSPANS];
    assert_int_equal(report_phase_spans(&t, 1031, s), 4);
    assert_string_equal(s[0].name, "copy");
    assert_true(s[0].from == 1000 && s[0].to == 1012.5);
    assert_string_equal(s[1].name, "catch-up");
    assert_true(s[1].from == 1012.5 && s[1].to == 1015);
    assert_string_equal(s[2].name, "streaming");
    assert_true(s[2].from == 1015 && s[2].to == 1030);
    assert_string_equal(s[3].name, "cutover");
    assert_true(s[3].from == 1030 && s[3].to == 1031);
}

static void test_spans_while_running(void **state)
{
    (void)state;
    state_report_times t = unknown_times();
    t.started = 1000;
    t.slot = 1001;
    report_span s[REPORT_NSPANS];
    /* copying: the copy runs to the axis' end */
    assert_int_equal(report_phase_spans(&t, 1050, s), 1);
    assert_string_equal(s[0].name, "copy");
    assert_true(s[0].to == 1050);
    /* streaming, not caught up yet */
    t.indexes_done = t.streaming = 1020;
    assert_int_equal(report_phase_spans(&t, 1050, s), 2);
    assert_string_equal(s[1].name, "catch-up");
    assert_true(s[1].from == 1020 && s[1].to == 1050);
    /* a cutover before the lag ever fell below 1 s: catch-up to the cutover */
    t.cutover = 1040;
    t.done = 1041;
    assert_int_equal(report_phase_spans(&t, 1041, s), 3);
    assert_true(s[1].to == 1040);
    assert_string_equal(s[2].name, "cutover");
}

static void test_nice_step(void **state)
{
    (void)state;
    assert_true(report_nice_step(0.3) == 0.5);
    assert_true(report_nice_step(1) == 1);
    assert_true(report_nice_step(1.2) == 2);
    assert_true(report_nice_step(3) == 5);
    assert_true(report_nice_step(7) == 10);
    assert_true(fabs(report_nice_step(0.013) - 0.02) < 1e-12);
    assert_true(report_nice_step(0) == 1);
}

static void test_svg_ticks_bands_points(void **state)
{
    (void)state;
    double t[] = {1013, 1014, 1015, 1016, 1020, 1025};
    double lag[] = {9.5, -0.4, NAN, 0.3, 0.2, 0.1}; /* one below zero, one unknown */
    report_span spans[] = {{"copy", "slot, schema, rows, indexes", 1000, 1012},
                           {"catch-up", "until the lag fell below 1 s", 1012, 1016},
                           {"streaming", "in step with the source", 1016, 1028},
                           {"cutover", "freeze to done", 1028, 1030}};
    report_chart c = {.title = "a<b",
                      .t0 = 1000,
                      .t1 = 1030,
                      .t = t,
                      .lag = lag,
                      .n = 6,
                      .spans = spans,
                      .nspans = 4};
    char *svg = report_chart_svg(&c);
    assert_non_null(strstr(svg, "<svg "));
    assert_non_null(strstr(svg, "a&lt;b"));
    /* the four bands, each in the legend too */
    assert_int_equal(count(svg, "<rect class=\"phase\""), 4);
    assert_non_null(strstr(svg, "data-phase=\"catch-up\""));
    assert_int_equal(count(svg, "<rect class=\"legend\""), 4);
    /* 30 s: time ticks every 5 s, 0 to 30; lag ticks every 2 s, 0 to 10 */
    assert_non_null(strstr(svg, ">0 s</text>"));
    assert_non_null(strstr(svg, ">30 s</text>"));
    assert_non_null(strstr(svg, ">10 s</text>"));
    assert_non_null(strstr(svg, "(s)</text>"));
    assert_true(count(svg, "class=\"tick\"") >= 7 + 6);
    /* five known samples: five markers, none below the zero axis (y 310) */
    assert_int_equal(count(svg, "<circle class=\"sample\""), 5);
    const char *pts = strstr(svg, "points=\"");
    assert_non_null(pts);
    pts += strlen("points=\"");
    int npts = 0;
    while (*pts != '"') {
        double x, y;
        int used = 0;
        assert_int_equal(sscanf(pts, "%lf,%lf%n", &x, &y, &used), 2);
        assert_true(y <= 310.0 + 1e-9 && y >= 50.0 - 1e-9);
        assert_true(x >= 70.0 && x <= 880.0);
        npts++;
        pts += used;
        while (*pts == ' ')
            pts++;
    }
    assert_int_equal(npts, 5);
    assert_null(strstr(svg, "no-samples"));
    free(svg);
}

static void test_svg_without_samples_and_long_runs(void **state)
{
    (void)state;
    report_span copy = {"copy", "slot, schema, rows, indexes", 0, 40};
    report_chart c = {.t0 = 0, .t1 = 40, .spans = &copy, .nspans = 1};
    char *svg = report_chart_svg(&c);
    assert_non_null(strstr(svg, "class=\"no-samples\""));
    assert_int_equal(count(svg, "<rect class=\"phase\""), 1);
    assert_null(strstr(svg, "<polyline"));
    free(svg);

    /* two days at one sample a second: hours on the axis, the envelope */
    int n = 2 * 86400;
    double *t = malloc(sizeof *t * (size_t)n), *lag = malloc(sizeof *lag * (size_t)n);
    for (int i = 0; i < n; i++) {
        t[i] = i;
        lag[i] = i % 100 == 0 ? 50 : 1;
    }
    report_chart l = {.t0 = 0, .t1 = n, .t = t, .lag = lag, .n = n};
    svg = report_chart_svg(&l);
    assert_non_null(strstr(svg, "(h)</text>"));
    assert_non_null(strstr(svg, ">40 h</text>"));
    assert_null(strstr(svg, "<circle"));
    assert_true(strlen(svg) < 200000); /* about two points per pixel column, not 172800 */
    free(svg);
    free(t);
    free(lag);
}

static void test_chart_path(void **state)
{
    (void)state;
    char *name = NULL, *path = report_chart_path("/tmp/out/report.md", &name);
    assert_string_equal(path, "/tmp/out/report-lag.svg");
    assert_string_equal(name, "report-lag.svg");
    free(path);
    free(name);
    path = report_chart_path("second report.v2.md", &name);
    assert_string_equal(path, "second report.v2-lag.svg");
    assert_string_equal(name, "second%20report.v2-lag.svg");
    free(path);
    free(name);
    path = report_chart_path("dir/.hidden", &name);
    assert_string_equal(path, "dir/.hidden-lag.svg");
    free(path);
    free(name);
    path = report_chart_path("dir/noext", &name);
    assert_string_equal(path, "dir/noext-lag.svg");
    free(path);
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans_of_a_complete_migration),
        cmocka_unit_test(test_spans_while_running),
        cmocka_unit_test(test_nice_step),
        cmocka_unit_test(test_svg_ticks_bands_points),
        cmocka_unit_test(test_svg_without_samples_and_long_runs),
        cmocka_unit_test(test_chart_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
