/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-report.c - libFuzzer target for the HTML report writer: the input is read as a TSV
 * table and as a figure file (PNG/SVG sniffing) and is also every string of the page (title,
 * header, input, message, caption, output link). The page must keep exactly its own script
 * element, whatever the input holds: anything else means text escaped into markup.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    if (!dir[0]) {
        strcpy(dir, "/tmp/xai-fuzz-report-XXXXXX");
        if (!mkdtemp(dir))
            return 0;
    }
    char path[96];
    snprintf(path, sizeof path, "%s/in.tsv", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    char *text = malloc(size + 1); /* the input as a string (up to its first NUL) */
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    xai_report *r;
    if (xai_report_new(text, &r) == XAI_OK) {
        xai_report_set_header(r, text, text, text, text);
        xai_report_add_input(r, text);
        xai_report_add_message(r, XAI_REPORT_ERROR, text);
        xai_report_add_output(r, text);
        xai_report_add_output(r, path);
        xai_report_add_table(r, path, text, 50);
        xai_report_add_figure(r, path, text);
        char *html = NULL;
        if (xai_report_to_string(r, path, &html, NULL) == XAI_OK &&
            (count(html, "<script") != 1 || count(html, "</script") != 1 || count(html, "<img") > 1))
            abort();
        free(html);
        xai_report_free(r);
    }
    free(text);
    unlink(path);
    return 0;
}
