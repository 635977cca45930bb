/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-bids-walk.c - the one BIDS / plain-folder walker (xai/bids-walk.h) on temporary
 * trees: the exact list and order, every filter, sessions, sidecars by inheritance, linked
 * folders and files, a dangling link, link loops, the subject rules and the errors.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-common.h"
#include "xai/bids-walk.h"

static char *tmp; /* the tree of the current test */

static void mkparents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + strlen(tmp) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        ck_assert_msg(mkdir(buf, 0755) == 0 || errno == EEXIST, "mkdir %s", buf);
        *p = '/';
    }
}

static void touch(const char *rel)
{
    const char *path = xai_test_path(tmp, rel);
    mkparents(path);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("x\n", f);
    fclose(f);
}

static void mkdirs(const char *rel)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s/", tmp, rel);
    mkparents(buf);
}

static void link_to(const char *rel, const char *target)
{
    const char *path = xai_test_path(tmp, rel);
    mkparents(path);
    ck_assert_msg(symlink(target, path) == 0, "symlink %s", path);
}

/* A BIDS dataset with two plain subjects, one with sessions, one made of links. */
static void make_bids(void)
{
    tmp = xai_test_tmpdir();
    static const char *const files[] = {
        "ds/dataset_description.json", "ds/README", "ds/participants.tsv",
        "ds/task-rest_events.tsv", "ds/task-rest_eeg.json",
        "ds/derivatives/sub-01/eeg/sub-01_task-rest_eeg.edf",
        "ds/derivatives/sub-01/anat/sub-01_T1w.nii.gz", "ds/.git/sub-01_task-rest_eeg.edf",
        "ds/sub-01/eeg/sub-01_task-rest_eeg.edf", "ds/sub-01/eeg/sub-01_task-rest_eeg.json",
        "ds/sub-01/eeg/sub-01_task-rest_channels.tsv", "ds/sub-01/eeg/sub-01_channels.tsv", "ds/sub-01/eeg/sub-01_task-rest_run-2_eeg.bdf",
        "ds/sub-01/eeg/sub-01_task-motor_eeg.vhdr", "ds/sub-01/eeg/sub-01_task-motor_eeg.eeg",
        "ds/sub-01/eeg/sub-01_task-motor_events.tsv", "ds/sub-01/eeg/notes.txt",
        "ds/sub-01/eeg/sub-02_task-rest_eeg.edf", "ds/sub-01/eeg/sub-01_task-rest_eeg.edf.bak~",
        "ds/sub-01/anat/sub-01_T1w.nii.gz", "ds/sub-01/sub-01_scans.tsv",
        "ds/sub-02/sub-02_sessions.tsv", "ds/sub-02/ses-a/eeg/sub-02_ses-a_task-rest_eeg.edf",
        "ds/sub-02/ses-a/eeg/sub-02_ses-b_task-rest_eeg.edf",
        "ds/sub-02/ses-a/eeg/sub-02_task-rest_eeg.edf",
        "ds/sub-02/ses-b/eeg/sub-02_ses-b_task-rest_run-01_eeg.edf",
        "ds/sub-02/ses-b/sub-02_ses-b_task-rest_events.tsv",
        "store/eeg3/sub-03_task-rest_eeg.edf", "store/blob", "ds/sub-05",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        touch(files[i]);
    mkdirs("ds/sub-bad_name/eeg");
    mkdirs("ds/sub-03");
    link_to("ds/sub-03/eeg", "../../store/eeg3");                  /* a linked folder */
    link_to("store/eeg3/sub-03_task-rest_run-2_eeg.edf", "../blob"); /* a linked file */
    link_to("store/eeg3/sub-03_task-rest_run-3_eeg.edf", "../gone"); /* dangling */
    link_to("ds/sub-03/ses-loop", "../sub-03");                    /* a loop */
    link_to("ds/sub-03/eeg/back", "..");                            /* a loop below eeg/ */
}

static void check_list(const xai_bids_list *l, const char *const *want, size_t n)
{
    for (size_t i = 0; i < l->n && i < n; i++)
        ck_assert_str_eq(l->files[i].relpath, want[i]);
    ck_assert_uint_eq(l->n, n);
}

/* @p got is root "/" @p rel, or both are NULL */
static void check_path(const char *got, const char *root, const char *rel)
{
    if (!rel) {
        ck_assert_ptr_null(got);
        return;
    }
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, xai_test_path(root, rel));
}

static const char *const eeg_sfx[] = {"eeg"};
static const char *const eeg_ext[] = {".edf", ".bdf", ".vhdr", ".set"};

static xai_bids_walk_opts eeg_opts(void)
{
    xai_bids_walk_opts o = {.layout = XAI_WALK_BIDS, .datatype = "eeg", .suffixes = eeg_sfx,
                            .nsuffixes = 1, .extensions = eeg_ext, .nextensions = 4};
    return o;
}

START_TEST(test_bids_exact_list)
{
    make_bids();
    char ds[4096], root[4096];
    snprintf(ds, sizeof ds, "%s", xai_test_path(tmp, "ds"));
    snprintf(root, sizeof root, "%s", ds);
    xai_bids_walk_opts o = eeg_opts();
    xai_bids_list l;
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    static const char *const want[] = {
        "sub-01/eeg/sub-01_task-motor_eeg.vhdr",
        "sub-01/eeg/sub-01_task-rest_eeg.edf",
        "sub-01/eeg/sub-01_task-rest_run-2_eeg.bdf",
        "sub-02/ses-a/eeg/sub-02_ses-a_task-rest_eeg.edf",
        "sub-02/ses-b/eeg/sub-02_ses-b_task-rest_run-01_eeg.edf",
        "sub-03/eeg/sub-03_task-rest_eeg.edf",
        "sub-03/eeg/sub-03_task-rest_run-2_eeg.edf",
    };
    check_list(&l, want, 7);
    ck_assert_uint_eq(l.nbroken, 1);
    const xai_bids_file *f = l.files;
    ck_assert_str_eq(f[1].path, xai_test_path(root, want[1]));
    static const char *const subj[] = {"01", "01", "01", "02", "02", "03", "03"};
    for (int i = 0; i < 7; i++) {
        ck_assert_str_eq(f[i].subject, subj[i]);
        ck_assert_str_eq(f[i].datatype, "eeg");
        ck_assert_str_eq(f[i].suffix, "eeg");
        ck_assert_str_eq(f[i].task, i == 0 ? "motor" : "rest");
        ck_assert_ptr_null(f[i].acq);
    }
    ck_assert_str_eq(f[0].extension, ".vhdr");
    ck_assert_int_eq(f[2].nentities, 3);
    ck_assert_str_eq(f[2].entities[2].key, "run");
    ck_assert_str_eq(xai_bids_file_entity(&f[2], "run"), "2");
    ck_assert_str_eq(f[2].run, "2");
    ck_assert_ptr_null(xai_bids_file_entity(&f[2], "ses"));
    ck_assert_ptr_null(f[1].session);
    ck_assert_str_eq(f[3].session, "a");
    ck_assert_str_eq(f[4].session, "b");
    ck_assert_str_eq(f[4].run, "01");
    /* events: the nearest applicable file; root task-rest_events.tsv for the rest runs */
    check_path(f[0].events, root, "sub-01/eeg/sub-01_task-motor_events.tsv");
    check_path(f[1].events, root, "task-rest_events.tsv");
    check_path(f[2].events, root, "task-rest_events.tsv");
    check_path(f[3].events, root, "task-rest_events.tsv");
    check_path(f[4].events, root, "sub-02/ses-b/sub-02_ses-b_task-rest_events.tsv");
    check_path(f[5].events, root, "task-rest_events.tsv");
    /* channels: the run-less file applies to run 2 too and wins over the task-less one,
     * which the motor task inherits */
    check_path(f[0].channels, root, "sub-01/eeg/sub-01_channels.tsv");
    check_path(f[1].channels, root, "sub-01/eeg/sub-01_task-rest_channels.tsv");
    check_path(f[2].channels, root, "sub-01/eeg/sub-01_task-rest_channels.tsv");
    check_path(f[3].channels, root, NULL);
    /* JSON: the most specific one */
    check_path(f[0].sidecar, root, NULL);
    check_path(f[1].sidecar, root, "sub-01/eeg/sub-01_task-rest_eeg.json");
    check_path(f[2].sidecar, root, "sub-01/eeg/sub-01_task-rest_eeg.json");
    check_path(f[3].sidecar, root, "task-rest_eeg.json");
    check_path(f[6].sidecar, root, "task-rest_eeg.json");
    xai_bids_list_free(&l);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_ptr_null(l.files);

    /* the same dataset through a root given with a trailing slash: same relative paths */
    strcat(root, "/");
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    check_list(&l, want, 7);
    ck_assert_str_eq(l.files[0].path, xai_test_path(ds, want[0]));
    xai_bids_list_free(&l);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

/* Walk with one filter set; check the list. */
static void walk_expect(const xai_bids_walk_opts *o, const char *const *want, size_t n)
{
    xai_bids_list l;
    ck_assert_int_eq(xai_bids_walk(xai_test_path(tmp, "ds"), o, &l), XAI_OK);
    check_list(&l, want, n);
    xai_bids_list_free(&l);
}

START_TEST(test_bids_filters)
{
    make_bids();
    xai_bids_walk_opts o = eeg_opts();
    static const char *const parts[] = {"01", "sub-03"};
    o.participants = parts;
    o.nparticipants = 2;
    static const char *const w1[] = {
        "sub-01/eeg/sub-01_task-motor_eeg.vhdr", "sub-01/eeg/sub-01_task-rest_eeg.edf",
        "sub-01/eeg/sub-01_task-rest_run-2_eeg.bdf", "sub-03/eeg/sub-03_task-rest_eeg.edf",
        "sub-03/eeg/sub-03_task-rest_run-2_eeg.edf"};
    walk_expect(&o, w1, 5);
    static const char *const nobody[] = {"07"};
    o.participants = nobody;
    o.nparticipants = 1;
    walk_expect(&o, NULL, 0);

    o = eeg_opts();
    static const char *const ses[] = {"ses-b"};
    o.sessions = ses;
    o.nsessions = 1;
    static const char *const w2[] = {"sub-02/ses-b/eeg/sub-02_ses-b_task-rest_run-01_eeg.edf"};
    walk_expect(&o, w2, 1);

    o = eeg_opts();
    static const char *const task[] = {"task-motor"};
    o.tasks = task;
    o.ntasks = 1;
    static const char *const w3[] = {"sub-01/eeg/sub-01_task-motor_eeg.vhdr"};
    walk_expect(&o, w3, 1);

    /* runs compare as numbers: "1" finds run-01, "02" finds run-2 */
    o = eeg_opts();
    static const char *const run1[] = {"1"}, *const run2[] = {"run-02"};
    o.runs = run1;
    o.nruns = 1;
    walk_expect(&o, w2, 1);
    o.runs = run2;
    static const char *const w4[] = {"sub-01/eeg/sub-01_task-rest_run-2_eeg.bdf",
                                     "sub-03/eeg/sub-03_task-rest_run-2_eeg.edf"};
    walk_expect(&o, w4, 2);

    /* extension filter only: the .eeg payload of BrainVision is not an .vhdr header */
    o = eeg_opts();
    static const char *const vhdr[] = {".VHDR"};
    o.extensions = vhdr;
    o.nextensions = 1;
    walk_expect(&o, w3, 1);

    /* AUTO layout, every datatype, any suffix: only raw data, never derivatives/ */
    xai_bids_walk_opts all = {0};
    static const char *const nii[] = {".nii.gz"};
    all.extensions = nii;
    all.nextensions = 1;
    static const char *const w5[] = {"sub-01/anat/sub-01_T1w.nii.gz"};
    walk_expect(&all, w5, 1);
    all.datatype = "func";
    walk_expect(&all, NULL, 0);
    /* a suffix filter with another datatype's suffix */
    all.datatype = NULL;
    static const char *const bold[] = {"bold"};
    all.suffixes = bold;
    all.nsuffixes = 1;
    walk_expect(&all, NULL, 0);

    /* NULL options: every BIDS data file of every datatype (the sidecars are data too) */
    xai_bids_list l;
    ck_assert_int_eq(xai_bids_walk(xai_test_path(tmp, "ds"), NULL, &l), XAI_OK);
    ck_assert_uint_eq(l.n, 13);
    ck_assert_str_eq(l.files[0].relpath, "sub-01/anat/sub-01_T1w.nii.gz");
    ck_assert_str_eq(l.files[12].relpath, "sub-03/eeg/sub-03_task-rest_run-2_eeg.edf");
    /* a listed sidecar is not its own sidecar, but inherits the other kinds */
    ck_assert_str_eq(l.files[7].relpath, "sub-01/eeg/sub-01_task-rest_eeg.json");
    ck_assert_ptr_null(l.files[7].sidecar);
    check_path(l.files[7].events, xai_test_path(tmp, "ds"), "task-rest_events.tsv");
    ck_assert_str_eq(l.files[4].relpath, "sub-01/eeg/sub-01_task-motor_events.tsv");
    ck_assert_ptr_null(l.files[4].events);
    xai_bids_list_free(&l);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

START_TEST(test_participants)
{
    make_bids();
    char **labels;
    size_t n;
    ck_assert_int_eq(xai_bids_participants(xai_test_path(tmp, "ds"), &labels, &n), XAI_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(labels[0], "01");
    ck_assert_str_eq(labels[1], "02");
    ck_assert_str_eq(labels[2], "03");
    for (size_t i = 0; i < n; i++)
        xai_free(labels[i]);
    xai_free(labels);
    ck_assert_int_eq(xai_bids_participants(xai_test_path(tmp, "none"), &labels, &n), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "none"));
    ck_assert_ptr_null(labels);
    ck_assert_int_eq(xai_bids_participants(NULL, &labels, &n), XAI_EINVAL);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

/* A plain tree: audio under speaker folders, a loop, a linked file, a sub-/ses- folder. */
static void make_plain(void)
{
    tmp = xai_test_tmpdir();
    static const char *const files[] = {
        "p/alice/rec1.wav", "p/alice/day2/rec2.WAV", "p/bob/x.wav", "p/top.wav", "p/notes.txt",
        "p/.hidden/h.wav", "p/sub-07/ses-2/y.wav", "p/bob/x.wav.txt",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        touch(files[i]);
    link_to("p/alice/day2/up", "../..");
    link_to("p/alice/day2/self", ".");
    link_to("p/bob/linked.wav", "../alice/rec1.wav");
}

START_TEST(test_plain)
{
    make_plain();
    static const char *const wav[] = {".wav"};
    xai_bids_walk_opts o = {.layout = XAI_WALK_PLAIN, .extensions = wav, .nextensions = 1};
    xai_bids_list l;
    char p[4096], root[4096];
    snprintf(p, sizeof p, "%s", xai_test_path(tmp, "p"));
    snprintf(root, sizeof root, "%s", p);
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    static const char *const want[] = {"alice/day2/rec2.WAV", "alice/rec1.wav", "bob/linked.wav",
                                       "bob/x.wav", "sub-07/ses-2/y.wav", "top.wav"};
    check_list(&l, want, 6);
    static const char *const subj[] = {"alice", "alice", "bob", "bob", "07", NULL};
    for (int i = 0; i < 6; i++) {
        if (subj[i])
            ck_assert_str_eq(l.files[i].subject, subj[i]);
        else
            ck_assert_ptr_null(l.files[i].subject);
        ck_assert_ptr_null(l.files[i].datatype);
        ck_assert_int_eq(l.files[i].nentities, 0);
        ck_assert_ptr_null(l.files[i].events);
    }
    ck_assert_str_eq(l.files[0].extension, ".WAV");
    ck_assert_str_eq(l.files[4].session, "2");
    ck_assert_ptr_null(l.files[3].session);
    ck_assert_uint_eq(l.nbroken, 0);
    xai_bids_list_free(&l);

    /* AUTO sees no BIDS marker; the participant filter applies to the resolved subject */
    static const char *const bob[] = {"bob"};
    o.layout = XAI_WALK_AUTO;
    o.participants = bob;
    o.nparticipants = 1;
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    check_list(&l, want + 2, 2);
    xai_bids_list_free(&l);

    /* depth 1: the folders right below the root only */
    o.participants = NULL;
    o.nparticipants = 0;
    o.max_depth = 1;
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    static const char *const shallow[] = {"alice/rec1.wav", "bob/linked.wav", "bob/x.wav", "top.wav"};
    check_list(&l, shallow, 4);
    xai_bids_list_free(&l);

    /* a file as the root: listed as given, unfiltered */
    snprintf(root, sizeof root, "%s", xai_test_path(p, "notes.txt"));
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.files[0].path, root);
    ck_assert_str_eq(l.files[0].relpath, "notes.txt");
    ck_assert_str_eq(l.files[0].extension, ".txt");
    ck_assert_ptr_null(l.files[0].subject);
    xai_bids_list_free(&l);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

/* Subject from a reader: "x.wav" names "Xavier", "bad" fails, the others decline. */
static xai_status subject_reader(void *ud, const char *path, char **subject)
{
    int *calls = ud;
    (*calls)++;
    const char *base = strrchr(path, '/') + 1;
    if (strcmp(base, "bad.wav") == 0)
        return xai_error_set(XAI_EFORMAT, "no SUBJECTS group");
    if (strcmp(base, "x.wav") == 0)
        *subject = strdup("Xavier");
    return XAI_OK;
}

START_TEST(test_subject_callback)
{
    make_plain();
    int calls = 0;
    static const char *const wav[] = {".wav"};
    xai_bids_walk_opts o = {.extensions = wav, .nextensions = 1, .subject_fn = subject_reader,
                            .subject_ud = &calls};
    xai_bids_list l;
    char p[4096], root[4096];
    snprintf(p, sizeof p, "%s", xai_test_path(tmp, "p"));
    snprintf(root, sizeof root, "%s", p);
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    ck_assert_int_eq(calls, 6);
    ck_assert_uint_eq(l.n, 6);
    ck_assert_str_eq(l.files[3].relpath, "bob/x.wav");
    ck_assert_str_eq(l.files[3].subject, "Xavier");
    ck_assert_str_eq(l.files[2].subject, "bob");
    ck_assert_str_eq(l.files[4].subject, "07");
    xai_bids_list_free(&l);

    /* the reader wins over the sub- entity of a BIDS name too */
    touch("p/bob/sub-09_task-read_run-1_speech.wav");
    static const char *const xav[] = {"Xavier", "09"};
    o.participants = xav;
    o.nparticipants = 2;
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.files[0].subject, "09");
    ck_assert_str_eq(l.files[0].task, "read");
    ck_assert_str_eq(l.files[0].suffix, "speech");
    ck_assert_str_eq(l.files[1].subject, "Xavier");
    xai_bids_list_free(&l);

    /* a failing reader stops the walk with its status; the message names the file */
    touch("p/bob/bad.wav");
    ck_assert_int_eq(xai_bids_walk(root, &o, &l), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "bob/bad.wav"));
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "no SUBJECTS group"));
    ck_assert_uint_eq(l.n, 0);
    ck_assert_ptr_null(l.files);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

START_TEST(test_errors)
{
    make_plain();
    xai_bids_list l;
    ck_assert_int_eq(xai_bids_walk(NULL, NULL, &l), XAI_EINVAL);
    ck_assert_int_eq(xai_bids_walk(tmp, NULL, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_bids_walk(xai_test_path(tmp, "missing"), NULL, &l), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "missing"));
    xai_bids_walk_opts o = {.layout = XAI_WALK_BIDS};
    ck_assert_int_eq(xai_bids_walk(xai_test_path(tmp, "p/top.wav"), &o, &l), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "not a folder"));
    /* a folder that cannot be read is an error, not an empty result (root reads anything) */
    if (geteuid() != 0) {
        const char *locked = xai_test_path(tmp, "p/bob");
        ck_assert_int_eq(chmod(locked, 0), 0);
        ck_assert_int_eq(xai_bids_walk(xai_test_path(tmp, "p"), NULL, &l), XAI_EIO);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), "p/bob"));
        ck_assert_uint_eq(l.n, 0);
        ck_assert_int_eq(chmod(locked, 0755), 0);
    }
    xai_bids_list_free(&l); /* safe on an emptied list */
    xai_bids_list_free(NULL);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("bids-walk");
    TCase *tc = tcase_create("bids-walk");
    tcase_add_test(tc, test_bids_exact_list);
    tcase_add_test(tc, test_bids_filters);
    tcase_add_test(tc, test_participants);
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_subject_callback);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
