/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * struct-layout.c - the layout of every public C struct that the Python package mirrors as a
 * ctypes.Structure, as JSON on stdout: per struct its sizeof and, in declaration order, each
 * member's name, offsetof and sizeof. tests/python/test_layout.py compares the mirrors with
 * it, so this table is the one list of mirrored structs: a mirror without an entry fails.
 */
#include <stddef.h>
#include <stdio.h>

#include "xai/domain-eeg.h"
#include "xai/domain-fmri.h"
#include "xai/domain.h"
#include "xai/driver.h"
#include "xai/eval.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/nifti.h"
#include "xai/spray.h"

typedef struct {
    const char *name;
    size_t offset, size;
} member;

typedef struct {
    const char *name;
    size_t size, nmembers;
    const member *members;
} layout;

/* M(m) is member m of the struct named S, defined around each list */
#define M(m) { #m, offsetof(S, m), sizeof(((S *)0)->m) }
#define LAYOUT(T) { #T, sizeof(T), sizeof T##_m / sizeof T##_m[0], T##_m }

#define S xai_dataset
static const member xai_dataset_m[] = {
    M(n), M(ndim), M(shape), M(x), M(y), M(nclasses), M(class_names), M(group), M(ngroups),
    M(group_names), M(group_kind), M(meta)};
#undef S
#define S xai_target
static const member xai_target_m[] = {M(kind), M(cls)};
#undef S
#define S xai_driver_explain_options
static const member xai_driver_explain_options_m[] = {
    M(target), M(start), M(method), M(composite), M(rules), M(have_bounds), M(low), M(high),
    M(box_low), M(box_high), M(batch), M(out_of_fold), M(normalise), M(check_factor), M(strict),
    M(progress), M(progress_ud), M(warn), M(warn_ud)};
#undef S
#define S xai_driver_explanation
static const member xai_driver_explanation_m[] = {
    M(n), M(numel), M(nclasses), M(rel), M(logits), M(pred), M(target), M(fold), M(flags),
    M(rel_sum), M(init_sum), M(l1), M(n_departs), M(n_in_sample), M(untrusted), M(start)};
#undef S
#define S xai_eeg_event
static const member xai_eeg_event_m[] = {M(onset_s), M(duration_s), M(text)};
#undef S
#define S xai_eeg_raw
static const member xai_eeg_raw_m[] = {
    M(nch), M(labels), M(units), M(rate), M(n), M(data), M(nev), M(ev)};
#undef S
#define S xai_eeg_prep
static const member xai_eeg_prep_m[] = {
    M(nch), M(channels), M(units), M(rate_in), M(rate), M(average_ref), M(hp), M(lp), M(notch),
    M(order), M(tmin), M(tmax), M(baseline_mean), M(standardise), M(window_from_events),
    M(ntimes), M(nclass), M(classes), M(nmap), M(ev_keys), M(ev_class), M(norm_mean),
    M(norm_std)};
#undef S
#define S xai_eeg_epochs
static const member xai_eeg_epochs_m[] = {M(n), M(x), M(y), M(onset_s), M(sample), M(dropped)};
#undef S
#define S xai_perturb_config
static const member xai_perturb_config_m[] = {
    M(patch_ndim), M(patch), M(steps), M(per_step), M(order), M(replace), M(baseline), M(seed),
    M(batch), M(target), M(road_axes), M(road_noise)};
#undef S
#define S xai_eval_config
static const member xai_eval_config_m[] = {
    M(perturb), M(fc_runs), M(fc_fraction), M(infid_runs), M(infid_sigma), M(sens_runs),
    M(sens_radius), M(loc_abs), M(mprt_abs), M(seed)};
#undef S
#define S xai_perturb_result
static const member xai_perturb_result_m[] = {
    M(n), M(steps), M(npatches), M(target), M(f), M(aopc_sample), M(curve), M(fraction), M(aopc),
    M(sd), M(ci_low), M(ci_high)};
#undef S
#define S xai_mprt_result
static const member xai_mprt_result_m[] = {
    M(nlayers), M(layer), M(n), M(rho), M(mean), M(ci_low), M(ci_high)};
#undef S
#define S xai_metric_score
static const member xai_metric_score_m[] = {
    M(computed), M(sample), M(mean), M(sd), M(ci_low), M(ci_high), M(n_finite)};
#undef S
#define S xai_eval_scores
static const member xai_eval_scores_m[] = {M(n), M(target), M(score), M(aopc), M(road), M(mprt)};
#undef S
#define S xai_nifti_info
static const member xai_nifti_info_m[] = {
    M(version), M(dim), M(pixdim), M(vox_offset), M(datatype), M(scl_slope), M(scl_inter),
    M(cal_min), M(cal_max), M(intent_code), M(intent_name), M(descrip), M(qform_code),
    M(sform_code), M(quatern_b), M(quatern_c), M(quatern_d), M(qoffset_x), M(qoffset_y),
    M(qoffset_z), M(qfac), M(qform), M(sform), M(affine), M(affine_source), M(xyzt_units),
    M(xyz_units), M(time_units), M(toffset), M(tr_s), M(tr_assumed_ms)};
#undef S
#define S xai_nifti
static const member xai_nifti_m[] = {M(info), M(shape), M(n), M(data)};
#undef S
#define S xai_fmri_prep
static const member xai_fmri_prep_m[] = {
    M(nv), M(nt), M(nin), M(mask), M(mean), M(slope), M(scale)};
#undef S
#define S xai_load_options
static const member xai_load_options_m[] = {M(input_ndim), M(input_shape)};
#undef S
#define S xai_explain_config
static const member xai_explain_config_m[] = {
    M(method), M(composite), M(epsilon), M(gamma), M(have_bounds), M(low), M(high), M(box_low),
    M(box_high), M(bn), M(init), M(target), M(targets), M(bias_factor), M(lstm_epsilon), M(rules),
    M(smooth_n), M(smooth_sigma), M(seed), M(ig_steps), M(batch), M(layer_sums)};
#undef S
#define S xai_explain_result
static const member xai_explain_result_m[] = {
    M(n), M(nclasses), M(logits), M(target), M(rel_sum), M(init_sum), M(nlayers), M(layer_name),
    M(layer_op), M(layer_rule), M(layer_in_sum), M(layer_out_sum), M(init_state_sum),
    M(forward_ms), M(explain_ms)};
#undef S
#define S xai_spray_config
static const member xai_spray_config_m[] = {
    M(pool_rows), M(pool_cols), M(use_abs), M(norm), M(knn), M(n_eig), M(n_clusters),
    M(min_clusters), M(max_clusters), M(restarts), M(max_iter), M(seed), M(solver),
    M(dense_max)};
#undef S
#define S xai_spray_result
static const member xai_spray_result_m[] = {
    M(n), M(n_eig), M(eigenvalues), M(embedding), M(n_components), M(n_clusters), M(labels),
    M(sizes), M(embedding2d), M(inertia), M(fda), M(fda_null), M(fda_ratio), M(knn_seconds),
    M(eig_seconds), M(kmeans_seconds), M(used_lanczos)};
#undef S

static const layout layouts[] = {
    LAYOUT(xai_dataset), LAYOUT(xai_target), LAYOUT(xai_driver_explain_options),
    LAYOUT(xai_driver_explanation), LAYOUT(xai_eeg_event), LAYOUT(xai_eeg_raw),
    LAYOUT(xai_eeg_prep), LAYOUT(xai_eeg_epochs), LAYOUT(xai_perturb_config),
    LAYOUT(xai_eval_config), LAYOUT(xai_perturb_result), LAYOUT(xai_mprt_result),
    LAYOUT(xai_metric_score), LAYOUT(xai_eval_scores), LAYOUT(xai_nifti_info), LAYOUT(xai_nifti),
    LAYOUT(xai_fmri_prep), LAYOUT(xai_load_options), LAYOUT(xai_explain_config),
    LAYOUT(xai_explain_result), LAYOUT(xai_spray_config), LAYOUT(xai_spray_result)};

int main(void)
{
    size_t nl = sizeof layouts / sizeof layouts[0];
    printf("{");
    for (size_t i = 0; i < nl; i++) {
        const layout *l = &layouts[i];
        printf("%s\n\"%s\": {\"size\": %zu, \"members\": [", i ? "," : "", l->name, l->size);
        for (size_t k = 0; k < l->nmembers; k++)
            printf("%s[\"%s\", %zu, %zu]", k ? ", " : "", l->members[k].name,
                   l->members[k].offset, l->members[k].size);
        printf("]}");
    }
    printf("\n}\n");
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
