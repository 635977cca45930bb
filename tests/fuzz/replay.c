/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * replay.c - a stand-in for libFuzzer's main(): feeds every file of the given corpus
 * directories (or single files) to LLVMFuzzerTestOneInput once. Used when the targets are
 * built without -fsanitize=fuzzer, so the corpora still run under ASan/UBSan in CI.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: cannot open\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(buf);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int nfiles = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            struct dirent **list;
            int n = scandir(argv[i], &list, NULL, alphasort);
            for (int k = 0; k < n; k++) {
                if (list[k]->d_name[0] != '.') {
                    char p[4096];
                    snprintf(p, sizeof p, "%s/%s", argv[i], list[k]->d_name);
                    bad += run_file(p);
                    nfiles++;
                }
                free(list[k]);
            }
            free(list);
        } else {
            bad += run_file(argv[i]);
            nfiles++;
        }
    }
    printf("replayed %d inputs\n", nfiles);
    return bad ? 1 : 0;
}
