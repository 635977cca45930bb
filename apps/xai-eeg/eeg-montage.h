/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-montage.h - standard 10-20 / 10-10 electrode positions on an ideal spherical head and
 * their azimuthal-equidistant 2-D projection (used by xai-eeg's topomaps and by the EEG
 * dataset generator's forward model).
 */
#ifndef XAI_EEG_MONTAGE_H
#define XAI_EEG_MONTAGE_H

/**
 * Look up an electrode label. Matching ignores ASCII case, blanks and dots (EEGMMIDB writes
 * "C3.." and "Fc5."), and maps the old 10-20 names T3/T4/T5/T6 to T7/T8/P7/P8.
 * @param[out] xyz unit vector (x to the right ear, y to the nose, z to the vertex); may be NULL
 * @param[out] xy  azimuthal-equidistant projection: the head circle (Fpz, T7, Oz, T8) has
 *                 radius 1, Cz is (0,0), the nose points to +y; may be NULL
 * @return 0 when found, -1 otherwise.
 */
int eeg_montage_find(const char *label, double xyz[3], double xy[2]);

/** Number of electrodes in the table and the canonical name of entry @p i (static). */
int eeg_montage_count(void);
const char *eeg_montage_name(int i);

#endif /* XAI_EEG_MONTAGE_H */
