/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * progress.c - progress reporting on stderr for the libxai programs.
 *   bar   : one redrawn line ("\r" + ANSI erase-line), at most 10 redraws per second, with
 *           percent, count, elapsed time and ETA;
 *   lines : one plain line at most once per second, plus the final count;
 *   json  : one JSON object per line {"task","done","total","elapsed_s","item"} (JSON Lines);
 *   none  : nothing.
 * auto picks bar when the stream is a terminal and lines otherwise; -q without an explicit
 * --progress gives none.
 */
#include "app-int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAR_PERIOD 0.1
#define LINES_PERIOD 1.0
#define BAR_WIDTH 24

static FILE *stream_of(const xai_app *app)
{
    return app->progress_stream ? app->progress_stream : stderr;
}

void xai_app_progress_set_stream(xai_app *app, FILE *stream)
{
    app->progress_stream = stream;
}

xai_progress_mode xai_app_progress_resolve(const xai_app *app)
{
    if (app->verbosity <= 0 && !app->progress_explicit)
        return XAI_PROGRESS_NONE;
    if (app->progress != XAI_PROGRESS_AUTO)
        return app->progress;
    return isatty(fileno(stream_of(app))) ? XAI_PROGRESS_BAR : XAI_PROGRESS_LINES;
}

/* "MM:SS" or "H:MM:SS" */
static void fmt_duration(double s, char *buf, size_t len)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, len, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", t / 60, t % 60);
}

static void draw_bar(xai_app *app, double elapsed, const char *item)
{
    FILE *s = stream_of(app);
    char el[32], eta[32];
    fmt_duration(elapsed, el, sizeof el);
    fprintf(s, "\r%s ", app->task ? app->task : "");
    if (app->total > 0) {
        double frac = (double)app->done / (double)app->total;
        if (frac < 0)
            frac = 0;
        if (frac > 1)
            frac = 1;
        int fill = (int)(frac * BAR_WIDTH + 0.5);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        if (app->done > 0 && app->done < app->total)
            fmt_duration(elapsed * (double)(app->total - app->done) / (double)app->done, eta, sizeof eta);
        else if (app->done >= app->total)
            fmt_duration(0, eta, sizeof eta);
        else
            fmt_duration(-1, eta, sizeof eta);
        fprintf(s, "[%s] %3d%% %lld/%lld %s ETA %s", bar, (int)(frac * 100),
                (long long)app->done, (long long)app->total, el, eta);
    } else {
        fprintf(s, "%lld %s", (long long)app->done, el);
    }
    if (item && *item)
        fprintf(s, " %.40s", item);
    fputs("\033[K", s);
    fflush(s);
    app->bar_drawn = 1;
}

static void print_line(xai_app *app, double elapsed, const char *item)
{
    FILE *s = stream_of(app);
    char el[32], eta[32];
    fmt_duration(elapsed, el, sizeof el);
    fprintf(s, "%s: %s: ", app->prog ? app->prog : "xai", app->task ? app->task : "");
    if (app->total > 0) {
        if (app->done > 0 && app->done < app->total)
            fmt_duration(elapsed * (double)(app->total - app->done) / (double)app->done, eta, sizeof eta);
        else
            fmt_duration(app->done >= app->total ? 0 : -1, eta, sizeof eta);
        fprintf(s, "%lld/%lld (%d%%) elapsed %s ETA %s", (long long)app->done, (long long)app->total,
                (int)(100.0 * (double)app->done / (double)app->total), el, eta);
    } else {
        fprintf(s, "%lld elapsed %s", (long long)app->done, el);
    }
    if (item && *item)
        fprintf(s, " %s", item);
    fputc('\n', s);
    fflush(s);
}

static void print_json(xai_app *app, double elapsed, const char *item)
{
    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "task", json_string(app->task ? app->task : ""));
    json_object_set_new(o, "done", json_integer((json_int_t)app->done));
    json_object_set_new(o, "total", json_integer((json_int_t)app->total));
    json_object_set_new(o, "elapsed_s", json_real(elapsed));
    json_object_set_new(o, "item", item ? json_string(item) : json_null());
    char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (txt) {
        FILE *s = stream_of(app);
        fprintf(s, "%s\n", txt);
        fflush(s);
        free(txt);
    }
    json_decref(o);
}

void xai_app_progress_begin(xai_app *app, const char *task, int64_t total)
{
    app->task = task;
    app->total = total;
    app->done = 0;
    app->t_start = xai_app_now();
    app->t_last = -1e30;
    app->done_shown = -1;
    app->bar_drawn = 0;
    app->progress_active = xai_app_progress_resolve(app);
}

static void emit(xai_app *app, double now, const char *item)
{
    double elapsed = now - app->t_start;
    switch (app->progress_active) {
    case XAI_PROGRESS_BAR:
        draw_bar(app, elapsed, item);
        break;
    case XAI_PROGRESS_LINES:
        print_line(app, elapsed, item);
        break;
    case XAI_PROGRESS_JSON:
        print_json(app, elapsed, item);
        break;
    default:
        return;
    }
    app->t_last = now;
    app->done_shown = app->done;
}

void xai_app_progress_step(xai_app *app, int64_t done, const char *item)
{
    app->done = done;
    if (app->progress_active == XAI_PROGRESS_NONE || app->progress_active == XAI_PROGRESS_AUTO)
        return;
    double now = xai_app_now();
    double period = app->progress_active == XAI_PROGRESS_BAR     ? BAR_PERIOD
                    : app->progress_active == XAI_PROGRESS_LINES ? LINES_PERIOD
                                                                 : 0.0;
    int last = app->total > 0 && done >= app->total;
    if (last || now - app->t_last >= period)
        emit(app, now, item);
}

void xai_app_progress_end(xai_app *app)
{
    xai_progress_mode m = app->progress_active;
    if (m == XAI_PROGRESS_BAR || m == XAI_PROGRESS_LINES || m == XAI_PROGRESS_JSON) {
        if (app->done_shown != app->done || (m == XAI_PROGRESS_BAR && !app->bar_drawn))
            emit(app, xai_app_now(), NULL);
        if (m == XAI_PROGRESS_BAR) {
            FILE *s = stream_of(app);
            fputc('\n', s);
            fflush(s);
            app->bar_drawn = 0;
        }
    }
    app->progress_active = XAI_PROGRESS_NONE;
    app->task = NULL;
}
